"""The permission table walked through the real hub over websockets: every role × every
action, allowed and forbidden. An allowed cell is never refused for permission (it may
be refused for the object: not found, wrong state); a forbidden one is ``forbidden``
with the role's refusal only, naming no object. The desk receives its row at login."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.protocol import AppointmentAttach, AppointmentBoard, AppointmentJournal
from app.audit.protocol import AuditList
from app.callback.protocol import (
    AppointmentStatusIntent,
    CallbackAttemptIntent,
    CallbackLetter,
    CallbackPlan,
    CallbackScript,
    CallbackStats,
    CallbackTargetSkip,
)
from app.client.hub_client import HubClient, HubError
from app.db.models import User
from app.directory.protocol import (
    AgendaEffecteurs,
    AgendaSlotCancel,
    DirectorySearch,
    DirectoryUpload,
    SlotBook,
    SlotRelease,
)
from app.domain.enums import Queue, Role
from app.domain.permissions import ALLOWED, QUEUE_READERS, QUEUE_TAKERS, Action, permissions_of
from app.flow import protocol as fp
from app.history.protocol import DossierSearch, HistoryCaller
from app.hub import protocol as p
from app.recordings.protocol import (
    CallRecording,
    OutgoingRecording,
    RecordingList,
    RecordingOpen,
    RecordingPlaced,
)
from app.room import Hub
from app.stats.protocol import StatsLive, StatsReport
from tests.conftest import PASSWORD
from tests.flow.flow_helpers import ORIENT_48H

NOBODY = 987654  # an id no row has: an allowed cell is then refused as not_found
Probe = tuple[type[p.Intent], dict[str, Any]]

#: For each action, intents that need it (each must be refused for every role outside it).
PROBES: dict[Action, list[Probe]] = {
    Action.ANSWER_CALLS: [
        (fp.CallOffered, {"call_ref": "walk-{role}", "line": "15"}),
        (fp.CallAnswered, {"call_ref": "walk-none"}),
        (CallRecording, {"call_ref": "walk-none", "size": 100, "sha256": "0" * 64}),
    ],
    Action.READ_DOSSIERS: [
        (fp.DossierGet, {"dossier_id": NOBODY}),
        (fp.DossierNote, {"dossier_id": NOBODY, "text": "x"}),
        (HistoryCaller, {"number": "0600000000"}),
        (DossierSearch, {"phone": "0600000000"}),
    ],
    Action.EDIT_DOSSIERS: [(fp.DossierUpdate, {"dossier_id": NOBODY, "fields": {"motif": "x"}})],
    Action.QUALIFY: [(fp.DossierQualify, {"dossier_id": NOBODY, "priority": "P2"})],
    Action.FORWARD: [(fp.DossierForward, {"dossier_id": NOBODY, "queue": "AMU_MEDECIN"})],
    Action.DECIDE: [
        (
            fp.DossierDecide,
            {"dossier_id": NOBODY, "decision": "CONSEIL", "care_level": "R4", "filiere": "SNP"},
        )
    ],
    Action.MOVE_TRACK: [(fp.DossierMoveTrack, {"dossier_id": NOBODY, "track": "AMU"})],
    Action.CLOSE_DOSSIERS: [(fp.DossierClose, {"dossier_id": NOBODY})],
    Action.SEE_TASKS: [
        (CallbackPlan, {"task_id": NOBODY}),
        (CallbackScript, {"task_id": NOBODY}),
    ],
    Action.TAKE_TASKS: [(fp.TaskTake, {"task_id": NOBODY})],
    Action.CLOSE_TASKS: [(fp.TaskClose, {"task_id": NOBODY, "outcome": "RDV_MT"})],
    Action.REOPEN_TASKS: [(fp.TaskReopen, {"task_id": NOBODY, "reason": "x"})],
    Action.CALL_BACK: [
        (CallbackAttemptIntent, {"target_id": NOBODY, "result": "BUSY"}),
        (CallbackTargetSkip, {"target_id": NOBODY, "reason": "x"}),
        (AppointmentStatusIntent, {"appointment_id": NOBODY, "status": "CONFIRMED"}),
        (OutgoingRecording, {"call_ref": "walk-none", "size": 100, "sha256": "0" * 64}),
    ],
    Action.FOLLOW_UP: [
        (CallbackStats, {"start": date(2026, 1, 1), "end": date(2026, 1, 31)}),
        (CallbackLetter, {"task_id": NOBODY}),
    ],
    Action.SEARCH_SLOTS: [
        (DirectorySearch, {"commune_insee": "17300"}),
        (SlotBook, {"slot_id": NOBODY}),
        (
            RecordingPlaced,
            {"call_ref": "walk-none", "size": 100, "sha256": "0" * 64, "dossier_id": NOBODY},
        ),
    ],
    Action.RELEASE_BOOKINGS: [(SlotRelease, {"booking_id": NOBODY})],
    Action.KEEP_AGENDAS: [
        (AgendaEffecteurs, {}),
        (AgendaSlotCancel, {"slot_id": NOBODY}),
    ],
    Action.IMPORT_DIRECTORY: [
        (DirectoryUpload, {"upload_id": "walk-{role}", "seq": 0, "data": "eA=="})
    ],
    Action.READ_STATISTICS: [(StatsReport, {"month": "2026-01"})],
    Action.SUPERVISE: [(StatsLive, {}), (AppointmentJournal, {})],
    Action.LISTEN_RECORDINGS: [
        (RecordingOpen, {"dossier_id": NOBODY}),
        (RecordingList, {"dossier_id": NOBODY}),
    ],
    Action.READ_AUDIT: [(AuditList, {})],
    Action.APPOINTMENT_BOARD: [
        (AppointmentBoard, {}),
        (AppointmentAttach, {"appointment_id": NOBODY, "dossier_id": NOBODY}),
    ],
}
#: Needs a dossier whose RDV search is open (a probe on no dossier never reaches its
#: check): walked below, one real dossier per role, by
#: test_the_resume_search_cell_through_the_hub.
OBJECT_ONLY = {Action.RESUME_SEARCH}


def test_every_action_of_the_table_is_walked() -> None:
    assert set(PROBES) | OBJECT_ONLY == set(Action) == set(ALLOWED)


async def _outcome(client: HubClient, intent: type[p.Intent], fields: dict[str, Any]) -> str:
    try:
        await client.call(intent, 30, **fields)
    except HubError as exc:
        if exc.code == "forbidden":
            return "forbidden:" + exc.message
        return exc.code
    return "ok"


@pytest.fixture
async def desks(
    hub: Hub, sessions: sessionmaker[Session], password_hash: str
) -> AsyncIterator[dict[Role, HubClient]]:
    with sessions.begin() as s:
        s.add(
            User(
                username="cpts",
                display_name="cpts",
                role=str(Role.GESTIONNAIRE_CPTS),
                password_hash=password_hash,
            )
        )
    names = {
        Role.ARM_N1: "n1",
        Role.ARM_N2: "n2",
        Role.MEDECIN_AMU: "amu",
        Role.MRL: "mrl",
        Role.OSNP: "osnp",
        Role.SUPERVISEUR: "sup",
        Role.GESTIONNAIRE_CPTS: "cpts",
    }
    out: dict[Role, HubClient] = {}
    for role, username in names.items():
        client = HubClient(hub.url, desk=f"walk-{username}", reconnect=False)
        await client.connect()
        reply = await client.login(username, PASSWORD)
        assert reply["permissions"] == permissions_of(role), "the desk gets its row at login"
        out[role] = client
    yield out
    for client in out.values():
        await client.close()


async def test_every_cell_of_the_table_through_the_hub(desks: dict[Role, HubClient]) -> None:
    wrong = []
    for action, probes in PROBES.items():
        for role, client in desks.items():
            for intent, template in probes:
                fields = {
                    k: v.format(role=role.value.lower()) if isinstance(v, str) else v
                    for k, v in template.items()
                }
                got = await _outcome(client, intent, fields)
                name = p.intent_name(intent)
                if role in ALLOWED[action]:
                    if got.startswith("forbidden"):
                        wrong.append(f"{role} {action} {name}: allowed but {got}")
                else:
                    expected = "forbidden:" + action.refusal.format(role=role.label)
                    if got != expected:
                        wrong.append(f"{role} {action} {name}: expected {expected!r}, got {got!r}")
                    if str(NOBODY) in got:
                        wrong.append(f"{role} {action} {name}: the refusal names the object")
    assert not wrong, "\n".join(wrong)


async def test_every_queue_cell_through_the_hub(desks: dict[Role, HubClient]) -> None:
    wrong = []
    for queue in Queue:
        for role, client in desks.items():
            listed = await _outcome(client, fp.QueueList, {"queue": queue})
            if (role in QUEUE_READERS[queue]) == listed.startswith("forbidden"):
                wrong.append(f"{role} reads {queue}: {listed}")
            taken = await _outcome(client, fp.QueueNext, {"queue": queue})
            if role in QUEUE_TAKERS[queue]:
                if taken != "not_found":  # nothing waits: allowed, and nothing to take
                    wrong.append(f"{role} takes from {queue}: {taken}")
            elif not taken.startswith("forbidden"):
                wrong.append(f"{role} takes from {queue}: {taken}")
    assert not wrong, "\n".join(wrong)


async def _search_open(desks: dict[Role, HubClient], ref: str) -> int:
    """A P1 dossier the AMU doctor oriented to a consultation: its RDV search is open
    (AWAITING_OSNP), and the AMU doctor who decided still sees it."""
    n1, amu = desks[Role.ARM_N1], desks[Role.MEDECIN_AMU]
    await n1.call(fp.CallOffered, call_ref=ref, line="15", caller="0546000000")
    dossier_id = int((await n1.call(fp.CallAnswered, call_ref=ref))["dossier"]["id"])
    fields = {"patient_last_name": "Morin", "commune_insee": "17300", "motif": "Malaise"}
    await n1.call(fp.DossierUpdate, dossier_id=dossier_id, fields=fields)
    await n1.call(fp.DossierQualify, dossier_id=dossier_id, priority="P1")
    await n1.call(fp.CallEnded, call_ref=ref)
    await amu.call(fp.DossierTake, dossier_id=dossier_id)
    decided = await amu.call(fp.DossierDecide, dossier_id=dossier_id, **ORIENT_48H)
    assert decided["dossier"]["status"] == "AWAITING_OSNP" and decided["task"]
    return dossier_id


async def test_the_resume_search_cell_through_the_hub(desks: dict[Role, HubClient]) -> None:
    """Moving the track of a dossier whose RDV search is open, by every role: the roles
    of the cell take it back (the search is cancelled), every other is refused with the
    refusal of the first action it lacks (changing a track at all, or this one), word for
    word: the role's refusal, naming no dossier."""
    wrong, reached = [], set()
    for role, client in desks.items():
        dossier_id = await _search_open(desks, f"resume-{role.value.lower()}")
        fields = {"dossier_id": dossier_id, "track": "SNP", "reason": "walk"}
        got = await _outcome(client, fp.DossierMoveTrack, fields)
        if role in ALLOWED[Action.RESUME_SEARCH]:
            if got != "ok":
                wrong.append(f"{role} resume_search: allowed but {got}")
            continue
        lacking = (
            Action.MOVE_TRACK if role not in ALLOWED[Action.MOVE_TRACK] else (Action.RESUME_SEARCH)
        )
        expected = "forbidden:" + lacking.refusal.format(role=role.label)
        if got != expected:
            wrong.append(f"{role} resume_search: expected {expected!r}, got {got!r}")
        reached.add(lacking)
    assert not wrong, "\n".join(wrong)
    # The cell's own check is reached (by a doctor who may change tracks but not this one),
    # not only the track check before it.
    assert Action.RESUME_SEARCH in reached
