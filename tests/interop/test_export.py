"""Export of a dossier: its RS-EDA message (valid against the official schemas) and
its appointment as a FHIR Appointment of the SAS guide, from the hub intent (the
desk's Ctrl+E) and the command line; every export is an audited read."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.cli import main
from app.db.audit import AuditRead
from app.db.models import Dossier
from app.db.types import utcnow
from app.hub.auth import Principal
from app.hub.service import HubService
from app.interop.hubsante import messages
from app.room import install_all
from tests.directory.builders import doctor, slot
from tests.flow.flow_helpers import ORIENT_48H, Actor, snp_dossier
from tests.interop.envelopes import message
from tests.rows import stored


@pytest.fixture
def booked(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> tuple[HubService, int, int]:
    """A P2 dossier decided by the MRL, its appointment booked by the OSNP on a slot."""
    service = HubService(sessions)
    install_all(service)
    desks = {n: Actor(service, people[n]) for n in ("n1", "mrl", "osnp", "n1b")}
    dossier_id = snp_dossier(desks["n1"], desks["mrl"])
    task = desks["mrl"].send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)["task"]
    start = (utcnow() + timedelta(hours=6)).replace(second=0, microsecond=0)
    with sessions.begin() as s:
        e = doctor(s, "10000000501", "Hérault", first="Cécile")
        x = slot(s, e, start, minutes=20)
        slot_id = x.id
    desks["osnp"].send("task.take", task_id=task["id"])
    desks["osnp"].send("slot.book", slot_id=slot_id, dossier_id=dossier_id)
    desks["osnp"].send("task.close", task_id=task["id"], outcome="RDV_CRENEAU",
                       appointment={"with": "Dr Cécile Hérault", "at": start.isoformat(),
                                    "place": "Cabinet du Port"})  # fmt: skip
    return service, dossier_id, slot_id


def test_desk_export_rs_eda_and_appointment_audited(
    booked: tuple[HubService, int, int], sessions: sessionmaker[Session],
    people: dict[str, Principal],
) -> None:  # fmt: skip
    service, dossier_id, _slot_id = booked
    mrl = Actor(service, people["mrl"])
    out = mrl.send("dossier.export", dossier_id=dossier_id, format="rs-eda")
    envelope = out["export"]
    assert messages.problems(envelope) == []
    case = message(envelope)["createCaseHealth"]
    with sessions() as s:
        number = stored(s, Dossier, dossier_id).number
    assert case["caseId"] == f"fr.health.sasdesk.{number}"
    assert case["perimeter"] == "SNP" and case["decision"][0]["decisionType"] == "ORIENT"
    assert case["patient"][0]["identity"]["nonStrictFeatures"]["lastName"] == "Morin"
    assert out["filename"] == f"dossier-{number}-rs-eda.json"
    rdv = mrl.send("dossier.export", dossier_id=dossier_id, format="fhir-appointment")["export"]
    assert rdv["resourceType"] == "Appointment" and rdv["status"] == "booked"
    assert rdv["meta"]["profile"] == ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"]
    actor = rdv["participant"][0]["actor"]["identifier"]
    assert (actor["system"], actor["value"]) == ("urn:oid:1.2.250.1.71.4.2.1", "810000000501")
    assert rdv["participant"][0]["status"] == "accepted"
    start, end = (datetime.fromisoformat(rdv[k]) for k in ("start", "end"))
    assert end - start == timedelta(minutes=20)  # the slot's own length
    operator = rdv["extension"][0]["valueReference"]["identifier"]
    assert operator["value"] == "mrl"
    refused = Actor(service, people["n1b"]).refused("dossier.export", dossier_id=dossier_id)
    assert refused.code == "not_found"
    with sessions() as s:
        reads = s.scalars(select(AuditRead).where(AuditRead.intent == "dossier.export")).all()
    assert [(r.username, r.granted) for r in reads] == [
        ("mrl", True),
        ("mrl", True),
        ("n1b", False),
    ]


def test_command_line_export(
    booked: tuple[HubService, int, int], db_url: str, sessions: sessionmaker[Session],
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _service, dossier_id, _slot = booked
    with sessions() as s:
        number = stored(s, Dossier, dossier_id).number
    assert main(["export", "dossier", number, "--format", "rs-eda", "--db", db_url]) == 0
    envelope = json.loads(capsys.readouterr().out)
    assert messages.problems(envelope) == [] and envelope["senderID"] == "fr.health.sasdesk"
    out = tmp_path / "rdv.json"
    assert main(["export", "dossier", str(dossier_id), "--format", "fhir-appointment",
                 "--out", str(out), "--db", db_url]) == 0  # fmt: skip
    assert json.loads(out.read_text(encoding="utf-8"))["resourceType"] == "Appointment"
    assert main(["export", "dossier", "99999999-000000", "--db", db_url]) == 2
    with sessions() as s:
        reads = s.scalars(select(AuditRead).where(AuditRead.desk == "sasdesk export")).all()
    assert len(reads) == 2 and all(r.granted for r in reads)


def test_no_appointment_to_export_is_a_clear_refusal(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    """Oriented, its RDV search still open: no booking, no appointment on the task."""
    service = HubService(sessions)
    install_all(service)
    n1, mrl = Actor(service, people["n1"]), Actor(service, people["mrl"])
    dossier_id = snp_dossier(n1, mrl)
    mrl.send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)
    with sessions() as s:
        number = stored(s, Dossier, dossier_id).number
    refused = mrl.refused("dossier.export", dossier_id=dossier_id, format="fhir-appointment")
    assert (refused.code, str(refused)) == (
        "invalid_state",
        f"le dossier {number} n'a pas de rendez-vous",
    )
