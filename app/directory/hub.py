"""Directory intents on the hub: search, book, release, and the manual agenda.

Installed by ``app.hub.extensions``. Bookings and agenda changes are broadcast as
events (``slot.booked``, ``slot.released``, ``agenda.changed``) so every desk's
search panel refreshes the doctor concerned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.db.models import Dossier, OsnpTask
from app.directory import agenda, editor_booking
from app.directory.booking import (
    BookingOutcome,
    book_beyond_slots,
    book_slot,
    hm,
    release_booking,
)
from app.directory.booking_page import booking_page
from app.directory.editor_booking import book_at_editor
from app.directory.engine import DirectoryIndex
from app.directory.models import Slot, StructureMember
from app.directory.protocol import (
    BOOKING_INTENTS,
    AgendaChangeReply,
    AgendaSlotCancel,
    AgendaSlotCreate,
    AgendaSlotUpdate,
    BookingChange,
    BookingReply,
    BookingView,
    DirectorySearch,
    SearchReply,
    SearchView,
    SlotBook,
    SlotBookBeyond,
    SlotRelease,
    SlotView,
    UnavailabilityAdd,
    UnavailabilityRemove,
    UnavailabilityView,
)
from app.directory.query import SearchQuery
from app.directory.vocab import WEEKLY_SNP_CAP
from app.domain.enums import ConsultationType, Role
from app.domain.permissions import Action, require, roles_for
from app.domain.professions import UnknownCode, Wanted, parse_wanted
from app.domain.rules import FlowError
from app.hub.dossiers import task_of, visible_dossier
from app.hub.events import EventName
from app.hub.extensions import Extension, Handler, install_one
from app.hub.protocol import Intent
from app.hub.service import HubService, Unit
from app.hub.visibility import Audience

#: Who searches and books, who keeps agendas: app.domain.permissions' table.
SEARCHERS = roles_for(Action.SEARCH_SLOTS)
AGENDA_KEEPERS = roles_for(Action.KEEP_AGENDAS)


def directory_audience() -> Audience:
    return Audience(roles=set(SEARCHERS | AGENDA_KEEPERS))


def slot_view(slot: Slot) -> SlotView:
    return {
        "id": slot.id,
        "effecteur_id": slot.effecteur_id,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "type": slot.consultation_type,
        "capacity": slot.capacity,
        "booked": slot.booked,
        "is_range": slot.is_range,
        "places": f"{slot.booked}/{slot.capacity}" if slot.is_range else "",
        "visibility": slot.visibility,
        "status": slot.status,
        "source": slot.source,
    }


def booking_view(o: BookingOutcome) -> BookingView:
    b = o.booking
    return {
        "id": b.id,
        "slot_id": b.slot_id,
        "effecteur_id": b.effecteur_id,
        "effecteur": o.effecteur.display_name,
        "appointment_at": b.appointment_at.isoformat(),
        "type": b.consultation_type,
        "dossier_id": b.dossier_id,
        "requires_call": b.requires_call,
        "released_at": b.released_at.isoformat() if b.released_at else None,
        #: "" our own place; pending / booked / cancelled at the editor's agenda.
        "agenda_status": b.agenda_status,
        "booking_page": b.booking_page,
    }


def agenda_message(o: BookingOutcome) -> str:
    """What the dossier says of a booking made on an editor's page, in French."""
    when = hm(o.booking.appointment_at)
    who = o.effecteur.display_name
    status = o.booking.agenda_status
    if status == editor_booking.PENDING:
        return f"RDV {who} le {when} : en attente de l'agenda (réservé sur la page de l'éditeur)"
    if status == editor_booking.BOOKED:
        return f"RDV {who} le {when} : Réservé, confirmé par l'agenda du médecin"
    return f"RDV {who} le {when} : annulé ({o.booking.release_reason or 'agenda'})"


def agenda_audience(u: Unit, o: BookingOutcome) -> tuple[Audience, Dossier | None, OsnpTask | None]:
    """Who follows a booking made at the editor: the dossier's desks and its booker."""
    b = o.booking
    users = {b.booked_by_id} if b.booked_by_id is not None else set()
    audience = Audience(roles=set(), users=users)
    d = u.s.get(Dossier, b.dossier_id) if b.dossier_id is not None else None
    task = None
    if d is not None:
        task = u.s.scalar(select(OsnpTask).where(OsnpTask.dossier_id == d.id))
        audience.add_dossier(d, task)
    return audience, d, task


def emit_agenda_booking(u: Unit, o: BookingOutcome) -> None:
    """The booking's state at the editor, on the dossier's timeline and its desks."""
    audience, d, task = agenda_audience(u, o)
    u.emit(
        EventName.DOSSIER_AGENDA_BOOKING,
        audience,
        dossier=d,
        task=task,
        booking=booking_view(o),
        agenda_status=o.booking.agenda_status,
        message=agenda_message(o),
    )


#: Weekly availabilities are turned into slots over the horizon at most this often.
MATERIALISE_EVERY = timedelta(minutes=15)


class DirectoryHandlers:
    def __init__(self, index: DirectoryIndex, weekly_cap: int = WEEKLY_SNP_CAP):
        self.index = index
        #: SNP patients per doctor and week beyond which the supplement is not paid.
        self.weekly_cap = weekly_cap
        self._materialised_at: datetime | None = None
        #: Called (writer thread) with the creation time of each booking left pending at
        #: an editor: the appointments extension arms its reminder.
        self.on_pending: Callable[[datetime], None] | None = None

    def _roll_horizon(self, u: Unit) -> None:
        """Keep 72 h of slots from the weekly availabilities as time passes (idempotent,
        and serialised by the directory revision lock across hub processes)."""
        if self._materialised_at is None or u.now - self._materialised_at >= MATERIALISE_EVERY:
            agenda.materialise_recurring(u.s, u.now)
            self._materialised_at = u.now

    @staticmethod
    def _role(u: Unit, action: Action) -> None:
        assert u.actor is not None
        require(u.actor.role, action)

    def _dossier(self, u: Unit, dossier_id: int) -> tuple[Dossier, OsnpTask | None]:
        d = visible_dossier(u, dossier_id)
        return d, task_of(u, d)

    @staticmethod
    def _structures(u: Unit) -> frozenset[int] | None:
        """The CPTS this desk works for (None: the supervisor sees every slot)."""
        assert u.actor is not None
        if u.actor.role is Role.SUPERVISEUR:
            return None
        return frozenset(
            u.s.scalars(
                select(StructureMember.structure_id).where(
                    StructureMember.user_id == u.actor.user_id
                )
            )
        )

    def _check_slot_visible(self, u: Unit, slot_id: int) -> None:
        """A slot a CPTS reserves to itself does not exist for the other desks."""
        slot = u.s.get(Slot, slot_id)
        structures = self._structures(u)
        if (
            slot is not None
            and structures is not None
            and slot.visibility == "CPTS"
            and slot.structure_id is not None
            and slot.structure_id not in structures
        ):
            raise FlowError("not_found", f"créneau {slot_id} introuvable")

    def search(self, u: Unit, i: DirectorySearch) -> SearchReply:
        self._role(u, Action.SEARCH_SLOTS)
        base: dict[str, Any] = {}
        if i.dossier_id is not None:
            d, task = self._dossier(u, i.dossier_id)
            ctype = (task.consultation_type if task else None) or d.consultation_type
            base = {
                "commune_insee": d.commune_insee,
                "patient_age": d.patient_age,
                "motif": d.motif,
                "treating_doctor": d.treating_doctor,
                "types": (ConsultationType(ctype),) if ctype else (),
            }
            if task is not None:
                base["wanted"] = Wanted(task.profession, task.specialty)
        typed = {
            "commune_insee": i.commune_insee,
            "patient_age": i.patient_age,
            "motif": i.motif,
            "treating_doctor": i.treating_doctor,
        }
        base.update({k: v for k, v in typed.items() if v is not None})
        if i.types:
            base["types"] = tuple(i.types)
        wanted: Wanted | None = base.get("wanted")
        if i.profession == "*":
            wanted = None
        elif i.profession or i.specialty:
            try:
                wanted = parse_wanted(i.profession, i.specialty)
            except UnknownCode as e:
                raise FlowError("invalid_message", str(e)) from None
        query = SearchQuery(
            commune_insee=base.get("commune_insee") or "",
            radius_km=i.radius_km,
            bands=tuple(i.bands),
            types=base.get("types", ()),
            visibilities=tuple(str(v) for v in i.visibilities),
            skills=tuple(i.skills),
            patient_age=base.get("patient_age"),
            motif=base.get("motif") or "",
            treating_doctor=base.get("treating_doctor") or "",
            text=i.text,
            limit=i.limit,
            slots_per_day=i.slots_per_day,
            structures=self._structures(u),
            profession=wanted.profession if wanted else "",
            specialty=wanted.specialty if wanted else "",
        )
        self._roll_horizon(u)
        self.index.sync(u.s, u.now)
        result = self.index.search(query, u.now)  # with this week's SNP counts
        search: SearchView = {
            **result.to_dict(),
            "weekly_cap": self.weekly_cap,
            "query": {
                "commune_insee": query.commune_insee,
                "patient_age": query.patient_age,
                "treating_doctor": query.treating_doctor,
                "types": [str(t) for t in query.types],
                "bands": list(query.bands),
                "profession": query.profession,
                "specialty": query.specialty,
                "wanted_label": wanted.label if wanted else "",
            },
        }
        return {"search": search}

    def _emit_booking(self, u: Unit, event: EventName, o: BookingOutcome) -> BookingReply:
        data: BookingChange = {
            "booking": booking_view(o),
            "slot": slot_view(o.slot) if o.slot else None,
            "weekly_snp": o.weekly_snp,
            "weekly_cap": self.weekly_cap,
        }
        u.emit(
            event,
            directory_audience(),
            booking=data["booking"],
            slot=data["slot"],
            weekly_snp=o.weekly_snp,
            weekly_cap=self.weekly_cap,
        )
        return {**data, "warnings": o.warnings}

    def book(self, u: Unit, i: SlotBook) -> BookingReply:
        self._role(u, Action.SEARCH_SLOTS)
        if i.dossier_id is not None:
            self._dossier(u, i.dossier_id)
        self._check_slot_visible(u, i.slot_id)
        assert u.actor is not None
        slot = u.s.get(Slot, i.slot_id)
        page = booking_page(slot.comment) if slot is not None else None
        if page is not None:  # the editor's slot: booked on its page, pending until it says
            o = book_at_editor(
                u.s,
                i.slot_id,
                page,
                now=u.now,
                user_id=u.actor.user_id,
                dossier_id=i.dossier_id,
                comment=i.comment,
            )
            emit_agenda_booking(u, o)
            if self.on_pending is not None:
                self.on_pending(o.booking.created_at)
            return {
                "booking": booking_view(o),
                "slot": slot_view(o.slot) if o.slot else None,
                "weekly_snp": o.weekly_snp,
                "weekly_cap": self.weekly_cap,
                "warnings": [],
            }
        o = book_slot(
            u.s,
            i.slot_id,
            now=u.now,
            user_id=u.actor.user_id,
            dossier_id=i.dossier_id,
            comment=i.comment,
            weekly_cap=self.weekly_cap,
        )
        return self._emit_booking(u, EventName.SLOT_BOOKED, o)

    def book_beyond(self, u: Unit, i: SlotBookBeyond) -> BookingReply:
        self._role(u, Action.SEARCH_SLOTS)
        if i.dossier_id is not None:
            self._dossier(u, i.dossier_id)
        assert u.actor is not None
        o = book_beyond_slots(
            u.s,
            i.effecteur_id,
            i.at,
            now=u.now,
            user_id=u.actor.user_id,
            consultation_type=str(i.consultation_type),
            dossier_id=i.dossier_id,
            comment=i.comment,
            weekly_cap=self.weekly_cap,
        )
        return self._emit_booking(u, EventName.SLOT_BOOKED, o)

    def release(self, u: Unit, i: SlotRelease) -> BookingReply:
        self._role(u, Action.RELEASE_BOOKINGS)
        o = release_booking(u.s, i.booking_id, now=u.now, reason=i.reason)
        if o.booking.agenda_status:
            emit_agenda_booking(u, o)
        return self._emit_booking(u, EventName.SLOT_RELEASED, o)

    def _agenda_event(
        self,
        u: Unit,
        action: str,
        effecteur_id: int,
        slots: list[Slot] | None = None,
        unavailability: UnavailabilityView | None = None,
        unavailability_id: int | None = None,
    ) -> AgendaChangeReply:
        reply: AgendaChangeReply = {
            "slots": [slot_view(s) for s in slots or []],
            "effecteur_id": effecteur_id,
        }
        if unavailability is not None:
            reply["unavailability"] = unavailability
        if unavailability_id is not None:
            reply["unavailability_id"] = unavailability_id
        u.emit(EventName.AGENDA_CHANGED, directory_audience(), action=action, **reply)
        return reply

    def slot_create(self, u: Unit, i: AgendaSlotCreate) -> AgendaChangeReply:
        self._role(u, Action.KEEP_AGENDAS)
        slots = agenda.create_slots(
            u.s,
            i.effecteur_id,
            i.start,
            i.end,
            consultation_type=i.consultation_type,
            capacity=i.capacity,
            visibility=i.visibility,
            weeks=i.weeks,
            practice_id=i.practice_id,
            comment=i.comment,
        )
        return self._agenda_event(u, "created", i.effecteur_id, slots)

    def slot_update(self, u: Unit, i: AgendaSlotUpdate) -> AgendaChangeReply:
        self._role(u, Action.KEEP_AGENDAS)
        slot = agenda.update_slot(
            u.s,
            i.slot_id,
            start=i.start,
            end=i.end,
            capacity=i.capacity,
            consultation_type=i.consultation_type,
            visibility=i.visibility,
        )
        return self._agenda_event(u, "updated", slot.effecteur_id, [slot])

    def slot_cancel(self, u: Unit, i: AgendaSlotCancel) -> AgendaChangeReply:
        self._role(u, Action.KEEP_AGENDAS)
        slot = agenda.cancel_slot(u.s, i.slot_id)
        return self._agenda_event(u, "cancelled", slot.effecteur_id, [slot])

    def unavailability_add(self, u: Unit, i: UnavailabilityAdd) -> AgendaChangeReply:
        self._role(u, Action.KEEP_AGENDAS)
        x = agenda.add_unavailability(u.s, i.effecteur_id, i.start, i.end, i.reason)
        return self._agenda_event(
            u,
            "unavailability_added",
            i.effecteur_id,
            unavailability={
                "id": x.id,
                "start": x.start.isoformat(),
                "end": x.end.isoformat(),
                "reason": x.reason,
            },
        )

    def unavailability_remove(self, u: Unit, i: UnavailabilityRemove) -> AgendaChangeReply:
        self._role(u, Action.KEEP_AGENDAS)
        effecteur_id = agenda.remove_unavailability(u.s, i.unavailability_id)
        return self._agenda_event(
            u,
            "unavailability_removed",
            effecteur_id,
            unavailability_id=i.unavailability_id,
        )


class DirectoryExtension(Extension):
    """The directory's search, bookings and agendas."""

    name = "app.directory"
    protocol = BOOKING_INTENTS

    def __init__(self, service: HubService):
        #: Its handlers (the appointments extension hooks into ``on_pending``).
        self.directory = DirectoryHandlers(
            DirectoryIndex(), service.settings.targets.weekly_snp_cap
        )

    def handlers(self) -> Mapping[type[Intent], Handler]:
        h = self.directory
        return {
            DirectorySearch: h.search,
            SlotBook: h.book,
            SlotBookBeyond: h.book_beyond,
            SlotRelease: h.release,
            AgendaSlotCreate: h.slot_create,
            AgendaSlotUpdate: h.slot_update,
            AgendaSlotCancel: h.slot_cancel,
            UnavailabilityAdd: h.unavailability_add,
            UnavailabilityRemove: h.unavailability_remove,
        }


def install(service: HubService) -> DirectoryExtension:
    """The directory on a bare service (tools and tests)."""
    return install_one(service, DirectoryExtension(service))
