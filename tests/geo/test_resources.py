"""The shipped demo territory and training-line scenarios are valid and consistent
with the communes geodata and the regulation vocabulary."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

from app.domain.enums import ConsultationType, Decision, Line, Priority, Track
from app.geo import default_index, distance_km

ROOT = Path(__file__).resolve().parents[2]
TERRITORY = ROOT / "resources" / "demo" / "territory.json"
TRAINING = ROOT / "resources" / "training"

# ARCEP numbers reserved for fiction (films, books, demos): never a subscriber's.
FICTIONAL_PREFIXES = ("0199", "026191", "035301", "046571", "053649", "063998")
# Île de Ré: the ten communes of the island.
ILE_DE_RE = {
    "17019", "17051", "17121", "17161", "17207", "17286", "17297", "17318", "17360", "17369",
}  # fmt: skip
# Names of real people quoted in the field documents (shared/seeds): never reused.
SEED_SURNAMES = {
    "plessier", "lagrange", "tourancheau", "loiseau", "bezagu", "abballe", "cayla", "robin",
    "guerre", "merine", "jouravleff", "pinsembert", "didden", "herrera", "badi", "debauche",
    "carriere", "chanel", "moret", "nowatsky", "nowaltsky", "dewevre", "dureau", "homehr",
    "perrain", "cousset", "lasserre", "dewulf",
}  # fmt: skip

SECTOR_KEYS = {"code", "name", "cpts"}
COMMUNE_KEYS = {"insee", "name", "postal_codes", "lat", "lon", "sector"}
STRUCTURE_KEYS = {"kind", "name", "sector", "snp_phone", "address", "commune_insee"}
STRUCTURE_KINDS = {"CPTS", "MSP", "SOS Médecins", "centre de santé"}
EFFECTEUR_KEYS = {
    "rpps", "first_name", "last_name", "profession", "specialty", "phones", "practice",
    "structure", "sas_participant", "mode", "accepts_beyond_slots", "agenda_software",
    "agenda_level", "skills", "conditions", "weekly_availability",
}  # fmt: skip
MODES = {"individuel", "CPTS", "MSP", "SOS Médecins", "centre de santé"}
AGENDA_LEVELS = {"none", "visibility", "end_to_end"}
SKILLS = {"pédiatrie", "ECG", "sutures", "petite traumatologie", "gynécologie"}
SPECIALTIES = {"Médecine générale", "Pédiatrie"}
PROFESSIONS = {"Médecin", "Infirmier", "Sage-femme", "Chirurgien-dentiste"}


def is_fictional_phone(number: str) -> bool:
    digits = re.sub(r"[\s.]", "", number)
    return len(digits) == 10 and digits.isdigit() and digits.startswith(FICTIONAL_PREFIXES)


@pytest.fixture(scope="module")
def territory() -> dict:
    return json.loads(TERRITORY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def communes_by_insee(territory: dict) -> dict[str, dict]:
    return {c["insee"]: c for c in territory["communes"]}


# -- territory ------------------------------------------------------------------------


def test_territory_shape(territory: dict) -> None:
    assert set(territory) == {"name", "department", "sectors", "communes", "structures",
                              "effecteurs"}  # fmt: skip
    assert territory["name"]
    assert territory["department"] == "17"
    assert all(set(s) == SECTOR_KEYS for s in territory["sectors"])
    assert [s["code"] for s in territory["sectors"]] == ["LR", "AN", "AS", "RE"]
    assert {s["name"] for s in territory["sectors"]} == {
        "La Rochelle", "Aunis Nord", "Aunis Sud", "Île de Ré",
    }  # fmt: skip


def test_communes_are_real_and_match_the_geodata(territory: dict) -> None:
    index = default_index()
    sectors = {s["code"] for s in territory["sectors"]}
    seen = set()
    for c in territory["communes"]:
        assert set(c) == COMMUNE_KEYS, c
        assert c["insee"] not in seen, c
        seen.add(c["insee"])
        real = index.by_insee(c["insee"])
        assert real is not None, c
        assert real.department == "17", c
        assert real.name == c["name"], c
        assert tuple(c["postal_codes"]) == real.postal_codes, c
        if real.coord_source == "official":
            # Rebuilt with the official file: the demo keeps its copied positions.
            assert distance_km((c["lat"], c["lon"]), real) < 15, c
        else:
            assert c["lat"] == pytest.approx(real.lat, abs=1e-5), c
            assert c["lon"] == pytest.approx(real.lon, abs=1e-5), c
        assert c["sector"] in sectors, c
    per_sector = Counter(c["sector"] for c in territory["communes"])
    for code in ("LR", "AN", "AS"):
        assert 10 <= per_sector[code] <= 20, per_sector
    assert {c["insee"] for c in territory["communes"] if c["sector"] == "RE"} == ILE_DE_RE


def test_structures(territory: dict, communes_by_insee: dict) -> None:
    sectors = {s["code"]: s for s in territory["sectors"]}
    names = [s["name"] for s in territory["structures"]]
    assert len(names) == len(set(names))
    for s in territory["structures"]:
        assert set(s) == STRUCTURE_KEYS, s
        assert s["kind"] in STRUCTURE_KINDS, s
        assert s["sector"] in sectors, s
        assert is_fictional_phone(s["snp_phone"]), s
        assert s["address"], s
        assert s["commune_insee"] in communes_by_insee, s
    kinds = Counter(s["kind"] for s in territory["structures"])
    assert kinds["CPTS"] == 4
    assert kinds["MSP"] >= 2
    assert kinds["SOS Médecins"] + kinds["centre de santé"] >= 1
    cpts = {s["name"]: s for s in territory["structures"] if s["kind"] == "CPTS"}
    for sector in sectors.values():
        assert cpts[sector["cpts"]]["sector"] == sector["code"]


def test_effecteurs(territory: dict, communes_by_insee: dict) -> None:
    effecteurs = territory["effecteurs"]
    assert 50 <= len(effecteurs) <= 80
    structures = {s["name"]: s for s in territory["structures"]}
    cpts_of_sector = {s["code"]: s["cpts"] for s in territory["sectors"]}
    rpps = [e["rpps"] for e in effecteurs]
    assert len(rpps) == len(set(rpps)), "RPPS must be unique"
    for e in effecteurs:
        assert set(e) == EFFECTEUR_KEYS, e
        assert re.fullmatch(r"10199\d{6}", e["rpps"]), e["rpps"]
        assert e["first_name"] and e["last_name"]
        assert e["last_name"].lower() not in SEED_SURNAMES, e["last_name"]
        # The SAS opened the effection to other professions (seed 001): a few of them.
        assert e["profession"] in PROFESSIONS
        assert e["specialty"] in (SPECIALTIES if e["profession"] == "Médecin" else {""})
        assert set(e["phones"]) == {"direct", "secretary"}
        for kind, number in e["phones"].items():
            # A nurse or a midwife may have no secretary; a doctor has both lines.
            if number or e["profession"] == "Médecin" or kind == "direct":
                assert is_fictional_phone(number), (e["rpps"], number)
        practice = e["practice"]
        assert set(practice) == {"name", "address", "commune_insee"}
        assert practice["name"] and practice["address"]
        # The practice's commune is in the territory, hence in a sector.
        commune = communes_by_insee[practice["commune_insee"]]
        assert e["mode"] in MODES
        structure = structures.get(e["structure"]) if e["structure"] else None
        if e["mode"] == "individuel":
            assert e["structure"] is None
        else:
            assert structure is not None, e
            if e["mode"] == "CPTS":
                assert e["structure"] == cpts_of_sector[commune["sector"]], e
            else:
                assert structure["kind"] == e["mode"], e
        assert isinstance(e["sas_participant"], bool)
        assert isinstance(e["accepts_beyond_slots"], bool)
        assert e["agenda_level"] in AGENDA_LEVELS
        if e["agenda_level"] != "none":
            assert e["agenda_software"], e
        assert set(e["skills"]) <= SKILLS, e["skills"]
        if e["specialty"] == "Pédiatrie":
            assert "pédiatrie" in e["skills"]
        assert e["conditions"] is None or e["conditions"].strip()
        assert isinstance(e["weekly_availability"], list)
        assert all(isinstance(line, str) and line.strip() for line in e["weekly_availability"])


def test_effecteurs_cover_what_the_demo_needs(territory: dict, communes_by_insee: dict) -> None:
    effecteurs = territory["effecteurs"]
    # Colleagues of the same practice (RDV confrère du cabinet): several shared practices.
    practices = Counter((e["practice"]["name"], e["practice"]["commune_insee"]) for e in effecteurs)
    shared = [size for size in practices.values() if size >= 2]
    assert len(shared) >= 5 and max(shared) <= 4
    # Every sector has doctors.
    sectors = Counter(communes_by_insee[e["practice"]["commune_insee"]]["sector"]
                      for e in effecteurs)  # fmt: skip
    assert all(sectors[code] >= 5 for code in ("LR", "AN", "AS", "RE")), sectors
    # Orientation hors disponibilité: not a SAS participant but accepts extra patients.
    assert sum(not e["sas_participant"] and e["accepts_beyond_slots"] for e in effecteurs) >= 3
    assert Counter(e["agenda_level"] for e in effecteurs).keys() == AGENDA_LEVELS
    assert sum(e["specialty"] == "Pédiatrie" for e in effecteurs) >= 2
    assert any(e["conditions"] for e in effecteurs)
    assert any(not e["weekly_availability"] for e in effecteurs)
    assert sum(bool(e["weekly_availability"]) for e in effecteurs) >= 30
    for skill in SKILLS:
        assert any(skill in e["skills"] for e in effecteurs), skill


# -- training scenarios --------------------------------------------------------------

SCENARIO_KEYS = {"id", "title", "line", "caller", "weight", "debrief", "expected", "patient",
                 "dialogue"}  # fmt: skip
EXPECTED_KEYS = {"priority", "track", "decision", "consultation"}
PATIENT_REQUIRED = {"last_name", "first_name", "sex", "callback", "commune_insee", "address",
                    "motif"}  # fmt: skip
SCENARIO_FILES = sorted(TRAINING.glob("*.toml"))


def load_scenario(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def test_there_are_enough_scenarios() -> None:
    assert len(SCENARIO_FILES) >= 12
    ids = [load_scenario(p)["id"] for p in SCENARIO_FILES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_scenario(path: Path, communes_by_insee: dict, territory: dict) -> None:
    s = load_scenario(path)
    assert set(s) == SCENARIO_KEYS
    assert s["id"] == path.stem
    assert s["title"].strip()
    assert s["line"] in {line.value for line in Line}
    assert is_fictional_phone(s["caller"])
    assert isinstance(s["weight"], int) and 1 <= s["weight"] <= 10
    assert isinstance(s["debrief"], str) and len(s["debrief"]) > 80

    exp = s["expected"]
    assert set(exp) == EXPECTED_KEYS
    assert exp["priority"] in {p.value for p in Priority}
    assert exp["track"] in {t.value for t in Track} | {""}
    assert exp["decision"] in {d.value for d in Decision} | {""}
    assert exp["consultation"] in {c.value for c in ConsultationType} | {""}
    # The regulation rules the scenario must respect.
    if exp["priority"] == "P3":
        assert exp == {"priority": "P3", "track": "", "decision": "", "consultation": ""}
    else:
        assert exp["track"] and exp["decision"]
    if exp["priority"] in ("P0", "P1"):
        assert exp["track"] == "AMU"
    if exp["track"] == "SNP":
        assert exp["priority"] == "P2"
    if exp["consultation"]:
        assert exp["decision"] == "ORIENT"
    if exp["decision"] == "ORIENT" and exp["track"] == "SNP":
        assert exp["consultation"]

    patient = s["patient"]
    assert PATIENT_REQUIRED <= set(patient)
    extra = set(patient) - PATIENT_REQUIRED
    assert extra in ({"age"}, {"birth_date"}), extra
    if "age" in patient:
        assert isinstance(patient["age"], int) and 0 <= patient["age"] <= 110
    else:
        born = patient["birth_date"]
        born = born if isinstance(born, dt.date) else dt.date.fromisoformat(born)
        assert born < dt.date.today()
    assert patient["sex"] in {"F", "M"}
    assert is_fictional_phone(patient["callback"])
    assert patient["commune_insee"] in communes_by_insee
    assert patient["last_name"].lower() not in SEED_SURNAMES
    for key in ("last_name", "first_name", "address", "motif"):
        assert patient[key].strip()

    dialogue = s["dialogue"]
    assert 5 <= len(dialogue) <= 10
    assert dialogue[0]["who"] == "arm"
    for turn in dialogue:
        assert set(turn) == {"who", "text"}
        assert turn["who"] in {"arm", "appelant"}
        assert turn["text"].strip()
    assert {t["who"] for t in dialogue} == {"arm", "appelant"}

    # A training call must never ring a demo doctor's phone.
    doctor_phones = {n for e in territory["effecteurs"] for n in e["phones"].values()}
    doctor_phones |= {st["snp_phone"] for st in territory["structures"]}
    assert s["caller"] not in doctor_phones
    assert patient["callback"] not in doctor_phones


def test_scenarios_cover_lines_priorities_and_tracks() -> None:
    scenarios = [load_scenario(p) for p in SCENARIO_FILES]
    assert {s["line"] for s in scenarios} == {"15", "116117"}
    assert {s["expected"]["priority"] for s in scenarios} == {"P0", "P1", "P2", "P3"}
    assert {s["expected"]["track"] for s in scenarios} == {"AMU", "SNP", ""}
    consultations = {s["expected"]["consultation"] for s in scenarios}
    assert {"cabinet", "teleconsultation", "visite"} <= consultations
