"""The appointment board: appointments received (an editor's or the platform's) that
belong to no dossier yet, and their attachment to a dossier.

Seen by the desks that follow appointments (OSNP, MRL, supervisor: the permission
table's ``APPOINTMENT_BOARD``). An appointment is attached by itself when its regulator
is an account of the room with exactly one open SNP dossier waiting for an appointment
(decided by them, its search under way, no appointment yet); otherwise a desk attaches
it from the board. Either way the attachment is an event in the dossier's timeline
(who, when, automatically or not), sent to whoever follows the dossier and the board.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.appointments.followup import follow_up
from app.appointments.models import Appointment
from app.appointments.protocol import (
    AppointmentAttach,
    AppointmentBoard,
    AttachReply,
    BoardAppointment,
    BoardReply,
)
from app.appointments.views import FOLLOWERS, appointment_view, regulator_account
from app.db.models import Dossier, OsnpTask, User
from app.directory.models import Effecteur
from app.domain.enums import DossierStatus, Track
from app.domain.permissions import Action, require
from app.domain.rules import FlowError
from app.hub.dossiers import task_of, visible_dossier
from app.hub.events import EventName
from app.hub.service import Unit
from app.hub.visibility import Audience

#: How far back the board looks: an appointment older than this is history, not work.
BOARD_DAYS = 7


def board_view(s: Session, row: Appointment) -> BoardAppointment:
    """The event's view, and the structure: the one the effecteur works for, else the
    one the platform names (a health centre's appointment, RS-SAS-RDV)."""
    view = appointment_view(s, row, regulator_account(s, row))
    effecteur = s.get(Effecteur, row.effecteur_id) if row.effecteur_id is not None else None
    structure = effecteur.structure if effecteur is not None else None
    return {
        **view,
        "structure": structure.name if structure is not None else row.organization_name,
        "dossier_id": row.dossier_id,
    }


def board(u: Unit, i: AppointmentBoard) -> BoardReply:
    assert u.actor is not None
    require(u.actor.role, Action.APPOINTMENT_BOARD)
    rows = u.s.scalars(
        select(Appointment)
        .where(
            Appointment.dossier_id.is_(None),
            Appointment.start >= u.now - timedelta(days=BOARD_DAYS),
        )
        .order_by(Appointment.start, Appointment.id)
        .limit(i.limit)
    )
    return {"appointments": [board_view(u.s, r) for r in rows]}


def _attach(u: Unit, row: Appointment, d: Dossier, task: OsnpTask | None, auto: bool) -> None:
    row.dossier_id = d.id
    row.version += 1
    audience = Audience(roles=set(FOLLOWERS)).add_dossier(d, task)
    account = regulator_account(u.s, row)
    if account is not None:
        audience.users.add(account.id)
    u.emit(
        EventName.APPOINTMENT_ATTACHED,
        audience,
        dossier=d,
        appointment=board_view(u.s, row),
        automatic=auto,
    )


def attach(u: Unit, i: AppointmentAttach, *, weekly_cap: int) -> AttachReply:
    """Put a board's appointment on a dossier; one whose fate the agenda already gave
    closes the call-back follow-up waiting for it (followup.py), as its update would."""
    assert u.actor is not None
    require(u.actor.role, Action.APPOINTMENT_BOARD)
    d = visible_dossier(u, i.dossier_id)
    task = task_of(u, d)
    row = u.s.get(Appointment, i.appointment_id, with_for_update=True)
    if row is None:
        raise FlowError("not_found", f"rendez-vous {i.appointment_id} introuvable")
    if row.dossier_id == d.id:
        return {"appointment": board_view(u.s, row)}  # already there: nothing to do
    if row.dossier_id is not None:
        raise FlowError(
            "conflict", "ce rendez-vous est déjà rattaché à un autre dossier : rechargez le tableau"
        )
    _attach(u, row, d, task, auto=False)
    follow_up(u, row, weekly_cap=weekly_cap)
    return {"appointment": board_view(u.s, row)}


def waiting_dossiers(s: Session, account: User) -> list[Dossier]:
    """The account's open SNP dossiers waiting for an appointment and holding none."""
    attached = select(Appointment.dossier_id).where(Appointment.dossier_id.is_not(None))
    return list(
        s.scalars(
            select(Dossier).where(
                Dossier.decided_by_id == account.id,
                Dossier.status == DossierStatus.AWAITING_OSNP,
                Dossier.track == Track.SNP,
                Dossier.id.not_in(attached),
            )
        )
    )


def auto_attach(u: Unit, row: Appointment) -> bool:
    """Attach ``row`` by itself when its regulator has exactly one dossier waiting."""
    if row.dossier_id is not None or row.status != "booked":
        return False
    account = regulator_account(u.s, row)
    if account is None:
        return False
    waiting = waiting_dossiers(u.s, account)
    if len(waiting) != 1:
        return False
    d = waiting[0]
    task = u.s.scalar(select(OsnpTask).where(OsnpTask.dossier_id == d.id))
    _attach(u, row, d, task, auto=True)
    return True
