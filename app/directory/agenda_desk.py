"""What the CPTS structure manager's agenda screen reads: effecteurs, and one agenda.

Changes go through the agenda intents of app.directory.hub (create, update, cancel,
unavailabilities); these two only read, beside the writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import or_, select

from app.directory.models import Effecteur, Slot, Unavailability
from app.directory.protocol import (
    AGENDA_INTENTS,
    AgendaEffecteurs,
    AgendaReply,
    AgendaView,
    EffecteursReply,
)
from app.domain.permissions import Action, require, roles_for
from app.domain.rules import FlowError
from app.hub.extensions import Extension, Handler
from app.hub.protocol import Intent
from app.hub.service import Unit

KEEPERS = roles_for(Action.KEEP_AGENDAS)


def _check(u: Unit) -> None:
    assert u.actor is not None
    require(u.actor.role, Action.KEEP_AGENDAS)


def effecteurs(u: Unit, i: AgendaEffecteurs) -> EffecteursReply:
    _check(u)
    query = (
        select(Effecteur)
        .where(Effecteur.active)
        .order_by(Effecteur.last_name, Effecteur.first_name)
    )
    if i.text:
        like = f"%{i.text}%"
        query = query.where(
            or_(
                Effecteur.last_name.ilike(like),
                Effecteur.first_name.ilike(like),
                Effecteur.rpps.like(like),
            )
        )
    rows = u.s.scalars(query.limit(i.limit)).unique().all()
    return {
        "effecteurs": [
            {
                "id": e.id,
                "rpps": e.rpps,
                "name": f"Dr {e.first_name} {e.last_name}".strip(),
                "structure": e.structure.name if e.structure else "",
                "mode": e.mode,
                "agenda_level": e.agenda_level,
                "weekly_availability": e.weekly_availability,
            }
            for e in rows
        ]
    }


def agenda(u: Unit, i: AgendaView) -> AgendaReply:
    _check(u)
    e = u.s.get(Effecteur, i.effecteur_id)
    if e is None:
        raise FlowError("not_found", f"effecteur {i.effecteur_id} introuvable")
    until = u.now + timedelta(days=i.days)
    slots = u.s.scalars(
        select(Slot)
        .where(Slot.effecteur_id == e.id, Slot.end >= u.now, Slot.start < until)
        .order_by(Slot.start)
    ).all()
    absences = u.s.scalars(
        select(Unavailability)
        .where(Unavailability.effecteur_id == e.id, Unavailability.end >= u.now)
        .order_by(Unavailability.start)
    ).all()
    return {
        "effecteur": {
            "id": e.id,
            "name": f"Dr {e.first_name} {e.last_name}".strip(),
            "rpps": e.rpps,
            "weekly_availability": e.weekly_availability,
        },
        "slots": [
            {
                "id": s.id,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "type": s.consultation_type,
                "capacity": s.capacity,
                "booked": s.booked,
                "is_range": s.is_range,
                "visibility": s.visibility,
                "status": s.status,
                "source": s.source,
            }
            for s in slots
        ],
        "unavailabilities": [
            {"id": x.id, "start": x.start.isoformat(), "end": x.end.isoformat(), "reason": x.reason}
            for x in absences
        ],
    }


class AgendaDeskExtension(Extension):
    """The structure manager's agendas, read from a desk."""

    name = "app.directory.agenda_desk"
    protocol = AGENDA_INTENTS

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {AgendaEffecteurs: effecteurs, AgendaView: agenda}
