"""Training scenarios: realistic SAS calls written as TOML files in resources/training."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.resources import resource

SCENARIO_DIR = resource("training")
LINES = ("15", "116117")
PRIORITIES = ("P0", "P1", "P2", "P3")


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Turn:
    who: str
    text: str


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    line: str
    caller: str
    weight: int
    expected: dict[str, str]
    patient: dict[str, Any]
    dialogue: tuple[Turn, ...]
    debrief: str
    path: Path = field(compare=False)


def _require(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise ScenarioError(f"{where} : clé « {key} » manquante")
    value = data[key]
    if not isinstance(value, kind):
        raise ScenarioError(f"{where} : « {key} » doit être de type {kind.__name__}")
    return value


def parse_scenario(path: Path) -> Scenario:
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{where} : fichier illisible ({exc})") from exc
    line = str(_require(data, "line", str, where))
    if line not in LINES:
        raise ScenarioError(f"{where} : ligne « {line} » inconnue (attendu 15 ou 116117)")
    expected = _require(data, "expected", dict, where)
    if expected.get("priority") not in PRIORITIES:
        raise ScenarioError(f"{where} : expected.priority doit être P0, P1, P2 ou P3")
    patient = _require(data, "patient", dict, where)
    turns = _require(data, "dialogue", list, where)
    dialogue = tuple(Turn(str(t.get("who", "")), str(t.get("text", ""))) for t in turns)
    if not dialogue or any(not t.text for t in dialogue):
        raise ScenarioError(f"{where} : le dialogue est vide ou contient une réplique vide")
    weight = int(data.get("weight", 1))
    if weight < 1:
        raise ScenarioError(f"{where} : « weight » doit être un entier positif")
    return Scenario(
        id=str(_require(data, "id", str, where)),
        title=str(_require(data, "title", str, where)),
        line=line,
        caller=str(_require(data, "caller", str, where)),
        weight=weight,
        expected={k: str(v) for k, v in expected.items()},
        patient=patient,
        dialogue=dialogue,
        debrief=str(data.get("debrief", "")),
        path=path,
    )


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """All scenarios of a folder; one bad file raises with its name and reason."""
    scenarios = [parse_scenario(p) for p in sorted(directory.glob("*.toml"))]
    if not scenarios:
        raise ScenarioError(f"aucun scénario d'entraînement dans {directory}")
    ids = [s.id for s in scenarios]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ScenarioError(f"identifiants de scénario en double : {', '.join(sorted(duplicates))}")
    return scenarios
