"""Call-back scripts: room-editable French TOML files, one per step, checked at load.

A script has a title, the text to say, the questions to ask and a conclusion; words
in braces (``{patient_prenom}``) are the dossier's facts, filled in at render. A
file with a syntax error, a missing key, an unknown step or an unknown placeholder
is refused with its file, line and reason, and the hub keeps the scripts it had.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.callback.protocol import ScriptView
from app.callback.settings import RESOURCES
from app.callback.vocab import TargetKind
from app.config.tomlfile import FileError, FileProblem, read_toml

#: Steps that need a script: one per kind of doctor called, and the patient's.
STEPS = ("MT", "CONFRERE", "CRENEAU", "HORS_DISPO", "PATIENT")
STEP_OF_KIND = {
    TargetKind.MT: "MT",
    TargetKind.CONFRERE: "CONFRERE",
    TargetKind.CRENEAU: "CRENEAU",
    TargetKind.HORS_DISPO: "HORS_DISPO",
    TargetKind.TELECONSULTATION: "CRENEAU",
    TargetKind.CPTS: "CRENEAU",
}

#: Facts every script may use, and those only known once an appointment exists.
FACTS = frozenset(
    {
        "osnp",
        "sas",
        "rappel_osnp",
        "patient_prenom",
        "patient_nom",
        "patient_age",
        "motif",
        "commune",
        "echeance",
        "type_consultation",
        "numero_patient",
        "medecin",
        "medecin_traitant",
        "creneau",
        "conditions",
        "dossier",
    }
)
APPOINTMENT_FACTS = frozenset(
    {"rdv_medecin", "rdv_jour", "rdv_heure", "rdv_lieu", "rdv_type", "a_apporter"}
)
TOP_KEYS = {
    "etape": True,
    "titre": True,
    "texte": True,
    "conclusion": False,
    "message": False,
    "questions": True,
}
QUESTION_KEYS = {"id": True, "texte": True, "reponses": False}


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Script:
    step: str
    title: str
    text: str
    questions: tuple[Question, ...]
    conclusion: str
    message: str
    path: Path

    def render(self, facts: dict[str, str]) -> ScriptView:
        fill = _Filler(facts)
        return {
            "step": self.step,
            "title": fill(self.title),
            "text": fill(self.text),
            "questions": [
                {"id": q.id, "text": fill(q.text), "answers": list(q.answers)}
                for q in self.questions
            ],
            "conclusion": fill(self.conclusion),
            "message": fill(self.message) if self.message else "",
        }


class _Filler:
    def __init__(self, facts: dict[str, str]):
        self.facts = facts

    def __call__(self, template: str) -> str:
        out = string.Formatter().vformat(template, (), _Missing(self.facts))
        return out.strip()


class _Missing(dict[str, str]):
    """An unknown fact renders as « ? » (validation already refused unknown names)."""

    def __missing__(self, key: str) -> str:
        return "?"


def _placeholders(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def _line_with(lines: list[str], needle: str, start: int = 0) -> int | None:
    for i in range(start, len(lines)):
        if needle in lines[i]:
            return i + 1
    return None


def _check_text(
    path: Path,
    lines: list[str],
    key: str,
    value: Any,
    allowed: frozenset[str],
    problems: list[FileProblem],
    near: str | None = None,
) -> str:
    where = _line_with(lines, near or f"{key} =") or _line_with(lines, key)
    if not isinstance(value, str):
        problems.append(FileProblem(path, where, f"« {key} » doit être un texte entre guillemets"))
        return ""
    try:
        names = _placeholders(value)
    except ValueError as exc:
        problems.append(
            FileProblem(
                path,
                where,
                f"accolade mal fermée dans « {key} » ({exc}) : "
                "écrivez {{ et }} pour une accolade littérale",
            )
        )
        return ""
    for name in names:
        if name not in allowed:
            line = _line_with(lines, "{" + name, (where or 1) - 1) or where
            hint = (
                ""
                if name not in APPOINTMENT_FACTS
                else " (connu seulement dans le script PATIENT, après le RDV)"
            )
            problems.append(
                FileProblem(path, line, f"information inconnue {{{name}}} dans « {key} »{hint}")
            )
    return value


def load_script(path: Path) -> Script:
    data, lines = read_toml(path)
    problems: list[FileProblem] = []
    for key in data:
        if key not in TOP_KEYS:
            problems.append(
                FileProblem(
                    path,
                    _line_with(lines, key),
                    f"clé inconnue « {key} » (attendu : {', '.join(TOP_KEYS)})",
                )
            )
    for key, required in TOP_KEYS.items():
        if required and key not in data:
            what = "[[questions]]" if key == "questions" else f"« {key} = … »"
            problems.append(FileProblem(path, None, f"{what} manquant"))
    step = data.get("etape", "")
    if "etape" in data and step not in STEPS:
        problems.append(
            FileProblem(
                path,
                _line_with(lines, "etape"),
                f"étape inconnue « {step} » (attendu : {', '.join(STEPS)})",
            )
        )
    allowed = FACTS | (APPOINTMENT_FACTS if step == "PATIENT" else frozenset())
    title = _check_text(path, lines, "titre", data.get("titre", ""), allowed, problems)
    text = _check_text(path, lines, "texte", data.get("texte", ""), allowed, problems)
    conclusion = _check_text(
        path, lines, "conclusion", data.get("conclusion", ""), allowed, problems
    )
    message = _check_text(path, lines, "message", data.get("message", ""), allowed, problems)
    if step == "PATIENT" and "message" not in data:
        problems.append(
            FileProblem(
                path,
                None,
                "le script PATIENT doit avoir un « message » (texte lu ou envoyé au patient)",
            )
        )
    questions = _questions(path, lines, data.get("questions", []), allowed, problems)
    if problems:
        raise FileError(problems)
    return Script(step, title, text, tuple(questions), conclusion, message, path)


def _questions(
    path: Path,
    lines: list[str],
    raw_questions: object,
    allowed: frozenset[str],
    problems: list[FileProblem],
) -> list[Question]:
    """The script's ``[[questions]]``, each checked (its keys, a unique id, its text's
    facts, its answers); what is wrong is added to ``problems``, at its line."""
    questions: list[Question] = []
    if not isinstance(raw_questions, list):
        problems.append(
            FileProblem(
                path,
                _line_with(lines, "questions"),
                "« questions » doit être une liste de [[questions]]",
            )
        )
        raw_questions = []
    seen: set[str] = set()
    header_lines = [
        i + 1 for i, text_line in enumerate(lines) if text_line.strip().startswith("[[questions]]")
    ]
    for n, q in enumerate(raw_questions):
        at = header_lines[n] if n < len(header_lines) else None
        if not isinstance(q, dict):
            problems.append(FileProblem(path, at, "une question doit être une table [[questions]]"))
            continue
        for key in q:
            if key not in QUESTION_KEYS:
                problems.append(
                    FileProblem(
                        path,
                        _line_with(lines, f"{key}", (at or 1) - 1),
                        f"clé inconnue « {key} » dans une question (attendu : id, texte, reponses)",
                    )
                )
        qid = q.get("id")
        if not isinstance(qid, str) or not qid.strip():
            problems.append(FileProblem(path, at, "question sans « id »"))
            qid = f"q{n + 1}"
        elif qid in seen:
            problems.append(
                FileProblem(
                    path,
                    _line_with(lines, f'"{qid}"', (at or 1) - 1),
                    f"deux questions ont le même id « {qid} »",
                )
            )
        seen.add(qid)
        if "texte" not in q:
            problems.append(FileProblem(path, at, f"question « {qid} » sans « texte »"))
        q_text = (
            _check_text(path, lines, "texte", q.get("texte", ""), allowed, problems, near=None)
            if "texte" in q
            else ""
        )
        answers = q.get("reponses", [])
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            problems.append(
                FileProblem(
                    path,
                    _line_with(lines, "reponses", (at or 1) - 1),
                    "« reponses » doit être une liste de textes",
                )
            )
            answers = []
        questions.append(Question(qid, q_text, tuple(answers)))
    return questions


class ScriptBook(dict[str, Script]):
    """The scripts by step."""

    def for_kind(self, kind: TargetKind) -> Script | None:
        step = STEP_OF_KIND.get(kind)
        return self.get(step) if step else None


def load_scripts(folder: Path = RESOURCES) -> ScriptBook:
    """Every ``*.toml`` script of the folder (not the settings file), all steps present."""
    book = ScriptBook()
    problems: list[FileProblem] = []
    for path in sorted(folder.glob("*.toml")):
        if path.name == "reglages.toml":
            continue
        try:
            script = load_script(path)
        except FileError as exc:
            problems.extend(exc.problems)
            continue
        if script.step in book:
            problems.append(
                FileProblem(
                    path,
                    _line_with(path.read_text("utf-8").splitlines(), "etape"),
                    f"l'étape {script.step} a déjà un script ({book[script.step].path.name})",
                )
            )
            continue
        book[script.step] = script
    for step in STEPS:
        if step not in book and not any(p for p in problems):
            problems.append(FileProblem(folder, None, f"aucun script pour l'étape {step}"))
    if problems:
        raise FileError(problems)
    return book
