"""What the desks are told of an appointment sent back by an editor or the national
platform (RS-SAS-RDV), and who is told. ``end`` is ``start`` when ``end_known`` is
false (the platform may send no end).

The regulator named in an appointment is recognised when a sasdesk account carries
the same national identifier (``users.national_id``, 8 + RPPS or 0 + ADELI): that
account receives the event even if its role would not, and the view names it.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.appointments.models import Appointment, AppointmentMessage
from app.appointments.protocol import JournalMessage, ReceivedAppointment
from app.db.models import User
from app.directory.models import Effecteur
from app.domain.enums import Role
from app.hub.visibility import Audience

#: Desks that follow appointments: the OSNP (who searched for them), the MRL (who
#: decided them) and the supervisor.
FOLLOWERS = frozenset({Role.SUPERVISEUR, Role.OSNP, Role.MRL})


def regulator_account(s: Session, row: Appointment) -> User | None:
    """The active account the appointment's regulator is: by its national identifier
    (8 + RPPS, 0 + ADELI), or by the identifier the national platform gave an account
    without one (an ARM, an OSNP: ``users.platform_id``)."""
    if not row.regulator_id:
        return None
    same = User.platform_id == row.regulator_id
    if row.regulator_national:
        same = or_(User.national_id == row.regulator_id, same)
    return s.scalar(select(User).where(same, User.active))


def appointment_view(s: Session, row: Appointment, account: User | None) -> ReceivedAppointment:
    effecteur = s.get(Effecteur, row.effecteur_id) if row.effecteur_id is not None else None
    return {
        "id": row.id,
        "source": row.source,
        "sender": row.sender,
        "identifier_system": row.identifier_system,
        "identifier": row.identifier,
        "status": row.status,
        "start": row.start.astimezone(UTC).isoformat(),
        "end": row.end.astimezone(UTC).isoformat(),
        "end_known": row.end_known,
        "effecteur": {
            "id": row.effecteur_id,
            "national_id": row.effecteur_national_id,
            "name": (
                f"{effecteur.first_name} {effecteur.last_name}".strip()
                if effecteur
                else row.practitioner_name
            ),
        },
        "organization": (
            {"id": row.organization_id, "name": row.organization_name}
            if row.organization_id
            else None
        ),
        "orientation_category": row.orientation_category,
        "booked_at": row.booked_at.astimezone(UTC).isoformat() if row.booked_at else None,
        "regulator": {
            "id": row.regulator_id,
            "national": row.regulator_national,
            "name": row.regulator_name,
            "user": (
                {"id": account.id, "username": account.username, "name": account.display_name}
                if account is not None
                else None
            ),
        },
        "version": row.version,
    }


def appointment_audience(account: User | None) -> Audience:
    """Supervisors, OSNP and MRL desks, and the regulator's own account."""
    return Audience(roles=set(FOLLOWERS), users={account.id} if account is not None else set())


def refusal_audience() -> Audience:
    """A refused feedback (who sent it, the answer, the issues): supervisors only."""
    return Audience(roles={Role.SUPERVISEUR})


def message_view(m: AppointmentMessage) -> JournalMessage:
    """One journal line: what an editor sent and what became of it."""
    return {
        "id": m.id,
        "at": m.at.isoformat(),
        "source": m.source,
        "sender": m.sender,
        "identifier": m.identifier,
        "answer": m.answer,
        "outcome": m.outcome,
        "issues": m.issues,
        "appointment_id": m.appointment_id,
        #: For the platform's messages: the Hub Santé distribution id (hubsante.journal).
        "detail": m.detail,
    }
