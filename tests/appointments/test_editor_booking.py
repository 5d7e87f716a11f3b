"""Booking at the editor, end to end on a real hub: the hub pulls the fake editor's
slots (their comment is its booking page), the OSNP's « Réserver » records a booking
« en attente de l'agenda » that takes no place, the editor's FrAppointmentSAS posted
over mutual TLS confirms it (the OSNP and the MRL are told), a ``cancelled`` frees it,
and a booking the editor never confirms is brought back to the OSNP after the delay."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.appointments.hub import endpoint
from app.appointments.models import Appointment
from app.appointments.settings import AppointmentSettings, EditorCertificate
from app.callback.hub import CallbackExtension
from app.client.hub_client import HubClient, HubError
from app.config.settings import FhirEditorSettings, FhirSettings, HubSettings
from app.db.models import User
from app.directory.models import Booking, Effecteur, Slot
from app.directory.protocol import SlotBook, SlotRelease
from app.hub.protocol import Ping
from app.room import Hub
from tests.appointments.fake_editor import FakeEditor
from tests.certs import Authority, client_certificate
from tests.flow.flow_helpers import ORIENT_48H
from tests.hub.desks import logged_client
from tests.waits import until

EDITOR = EditorCertificate("agenda-test", common_name="agenda.editeur.test", unit="Editeur Test")
RPPS = "10100050075"
OSNP_ID = "810009876543"  # the OSNP account's national identifier
DESKS = ("sup", "mrl", "osnp", "n1")


@dataclass
class Room:
    hub: Hub
    editor: FakeEditor
    sessions: sessionmaker[Session]
    desks: dict[str, HubClient]
    seen: dict[str, list[dict[str, Any]]]

    def events(self, desk: str, name: str) -> list[dict[str, Any]]:
        return [m for m in self.seen[desk] if m["event"] == name]

    async def settle(self) -> None:
        for client in self.desks.values():
            await client.call(Ping)

    def slot_id(self, editor_slot: str) -> int:
        page = self.editor.page_url(editor_slot)
        with self.sessions() as s:
            found = s.scalar(select(Slot.id).where(Slot.comment == page))
        assert found is not None, f"slot {editor_slot} not pulled"
        return int(found)

    def booking(self, booking_id: int) -> Booking:
        with self.sessions() as s:
            b = s.get(Booking, booking_id)
            assert b is not None
            s.expunge(b)
            return b


def keep(into: list[dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    return into.append


@asynccontextmanager
async def room_with(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session], pending_minutes: float
) -> AsyncIterator[Room]:
    with sessions.begin() as s:
        s.add(Effecteur(rpps=RPPS, last_name="Martin", first_name="Claire"))
        s.execute(update(User).where(User.username == "osnp").values(national_id=OSNP_ID))
    ca = Authority(tmp_path / "igc")
    server = ca.issue("rdv")
    first = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    editor = FakeEditor(RPPS, first)
    await editor.start()
    settings = HubSettings(
        fhir=FhirSettings(editors=(FhirEditorSettings("agenda-test", editor.fhir_url),)),
        sections=(
            AppointmentSettings(
                server.cert,
                server.key,
                ca.file,
                (EDITOR,),
                port=0,
                base="/sas/fhir",
                pending_minutes=pending_minutes,
            ),
        ),
    )
    hub = Hub(db_url, "127.0.0.1", 0, settings=settings)
    await hub.start()
    running = endpoint(hub)
    assert running is not None and running.port
    editor.hub_url = f"https://127.0.0.1:{running.port}/sas/fhir"
    editor.hub_ca = str(ca.file)
    editor.cert = client_certificate(ca, "editor", cn=EDITOR.common_name, ou=EDITOR.unit)
    desks = {name: await logged_client(hub, name) for name in DESKS}
    seen: dict[str, list[dict[str, Any]]] = {name: [] for name in DESKS}
    for name, client in desks.items():
        client.on_event.append(keep(seen[name]))
    room = Room(hub, editor, sessions, desks, seen)
    try:
        await until(lambda: _pulled(sessions, editor), timeout=20)
        yield room
    finally:
        for client in desks.values():
            await client.close()
        await hub.stop()
        await editor.stop()


def _pulled(sessions: sessionmaker[Session], editor: FakeEditor) -> bool:
    with sessions() as s:
        return s.scalar(select(Slot.id).where(Slot.comment == editor.page_url("ed-0"))) is not None


async def snp_task_dossier(room: Room) -> int:
    """A P2 dossier decided by the MRL (a 48 h consultation): the OSNP's task."""
    n1, mrl = room.desks["n1"], room.desks["mrl"]
    await n1.request("call.offered", call_ref="c-1", line="15", caller="0639980101")
    d = (await n1.request("call.answered", call_ref="c-1"))["dossier"]
    await n1.request(
        "dossier.update",
        dossier_id=d["id"],
        fields={"patient_last_name": "Morin", "patient_first_name": "Zoé", "patient_age": 3,
                "commune_insee": "17300", "motif": "Fièvre 39,5 depuis hier"},
    )  # fmt: skip
    await n1.request("dossier.qualify", dossier_id=d["id"], priority="P2")
    await mrl.request("dossier.take", dossier_id=d["id"])
    await mrl.request("dossier.decide", dossier_id=d["id"], **ORIENT_48H)
    return int(d["id"])


@pytest.fixture
async def room(tmp_path: Path, db_url: str, sessions: sessionmaker[Session]) -> AsyncIterator[Room]:
    async with room_with(tmp_path, db_url, sessions, pending_minutes=15) as r:
        yield r


async def test_the_editors_slot_is_pending_until_the_editor_confirms_then_cancels(
    room: Room,
) -> None:
    dossier_id = await snp_task_dossier(room)
    slot_id = room.slot_id("ed-1")
    reply = await room.desks["osnp"].call(SlotBook, slot_id=slot_id, dossier_id=dossier_id)
    booking = reply["booking"]
    assert booking["agenda_status"] == "pending"
    page = booking["booking_page"]
    assert page.startswith(room.editor.page_url("ed-1"))
    assert parse_qs(urlsplit(page).query) == {"origin": ["sas"]}  # nothing about Zoé
    assert "Morin" not in page and "Zo" not in page
    await room.settle()
    # Pending takes no place of the editor's slot and is announced as pending, never booked.
    with room.sessions() as s:
        slot = s.get(Slot, slot_id)
        assert slot is not None and slot.booked == 0
    assert room.events("osnp", "slot.booked") == []
    pending = room.events("mrl", "dossier.agenda_booking")
    assert [m["data"]["agenda_status"] for m in pending] == ["pending"]
    assert "en attente de l'agenda" in pending[0]["data"]["message"]

    # The OSNP's browser opens the page: the editor sees origin=sas and books.
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(page)).status_code == 200
    answer = await room.editor.book("ed-1", regulator=OSNP_ID)
    assert answer.status_code == 201, answer.text
    await room.settle()
    confirmed = room.booking(booking["id"])
    assert confirmed.agenda_status == "booked" and confirmed.released_at is None
    with room.sessions() as s:
        appt = s.scalars(select(Appointment)).one()
        assert (appt.booking_id, appt.dossier_id) == (booking["id"], dossier_id)
    for desk in ("osnp", "mrl"):  # the OSNP's screen, the MRL's timeline
        states = [m["data"]["agenda_status"] for m in room.events(desk, "dossier.agenda_booking")]
        assert states == ["pending", "booked"], desk
        last = room.events(desk, "dossier.agenda_booking")[-1]
        assert last["dossier"]["id"] == dossier_id
        assert "Réservé" in last["data"]["message"]
    assert [m["data"]["booking"]["id"] for m in room.events("osnp", "slot.booked")] == [
        booking["id"]
    ]

    # The editor cancels: the booking is freed on the dossier.
    (identifier,) = room.editor.appointments
    answer = await room.editor.update(identifier, "cancelled")
    assert answer.status_code == 200, answer.text
    await room.settle()
    freed = room.booking(booking["id"])
    assert freed.agenda_status == "cancelled" and freed.released_at is not None
    states = [m["data"]["agenda_status"] for m in room.events("mrl", "dossier.agenda_booking")]
    assert states == ["pending", "booked", "cancelled"]
    assert len(room.events("osnp", "slot.released")) == 1
    with room.sessions() as s:
        slot = s.get(Slot, slot_id)
        assert slot is not None and slot.booked == 0  # no place of ours to give back


async def test_an_appointment_of_another_regulator_or_start_confirms_nothing(room: Room) -> None:
    dossier_id = await snp_task_dossier(room)
    reply = await room.desks["osnp"].call(
        SlotBook, slot_id=room.slot_id("ed-0"), dossier_id=dossier_id
    )
    other = await room.editor.book("ed-0", regulator="810003456781")  # not the OSNP
    assert other.status_code == 201
    later = await room.editor.book("ed-2", regulator=OSNP_ID)  # another start
    assert later.status_code == 201
    await room.settle()
    assert room.booking(reply["booking"]["id"]).agenda_status == "pending"
    with room.sessions() as s:
        assert s.scalars(select(Appointment.booking_id)).all() == [None, None]
    # The OSNP may still give the pending booking up; it stays off the slot count.
    released = await room.desks["osnp"].call(SlotRelease, booking_id=reply["booking"]["id"])
    assert released["booking"]["agenda_status"] == "cancelled"
    with room.sessions() as s:
        slot = s.get(Slot, room.slot_id("ed-0"))
        assert slot is not None and slot.booked == 0


async def test_an_osnp_without_national_id_is_known_by_the_platforms_identifier(
    room: Room,
) -> None:
    """The OSNP has no RPPS nor ADELI: the editor names them by the platform's technical
    identifier (INTRN), which their account carries (``users set-platform-id``)."""
    with room.sessions.begin() as s:
        s.execute(
            update(User)
            .where(User.username == "osnp")
            .values(national_id=None, platform_id="ptf-osnp-17-042")
        )
    dossier_id = await snp_task_dossier(room)
    reply = await room.desks["osnp"].call(
        SlotBook, slot_id=room.slot_id("ed-1"), dossier_id=dossier_id
    )
    answer = await room.editor.book("ed-1", regulator="ptf-osnp-17-042", technical=True)
    assert answer.status_code == 201, answer.text
    await room.settle()
    assert room.booking(reply["booking"]["id"]).agenda_status == "booked"
    with room.sessions() as s:
        appt = s.scalars(select(Appointment)).one()
        assert (appt.regulator_national, appt.dossier_id) == (False, dossier_id)


async def test_the_same_slot_twice_for_one_dossier_is_refused(room: Room) -> None:
    dossier_id = await snp_task_dossier(room)
    slot_id = room.slot_id("ed-0")
    await room.desks["osnp"].call(SlotBook, slot_id=slot_id, dossier_id=dossier_id)
    with pytest.raises(HubError) as refused:
        await room.desks["osnp"].call(SlotBook, slot_id=slot_id, dossier_id=dossier_id)
    assert refused.value.code == "conflict"
    assert "en attente de l'agenda" in str(refused.value)


async def test_the_booking_page_refuses_a_request_without_origin(room: Room) -> None:
    async with httpx.AsyncClient() as browser:
        bare = await browser.get(room.editor.page_url("ed-0"))
        assert bare.status_code == 400
        assert (await browser.get(room.editor.page_url("ed-0") + "?origin=sas")).status_code == 200
    assert room.editor.page_requests == [{}, {"origin": "sas"}]


async def test_a_booking_left_pending_past_the_delay_is_brought_back_to_the_osnp(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session]
) -> None:
    async with room_with(tmp_path, db_url, sessions, pending_minutes=0.02) as room:  # 1.2 s
        dossier_id = await snp_task_dossier(room)
        reply = await room.desks["osnp"].call(
            SlotBook, slot_id=room.slot_id("ed-0"), dossier_id=dossier_id
        )
        booked_at = datetime.now(UTC)
        await until(lambda: room.events("osnp", "dossier.agenda_late"), timeout=15)
        waited = (datetime.now(UTC) - booked_at).total_seconds()
        assert waited >= 1.0  # not before the delay
        (late,) = room.events("osnp", "dossier.agenda_late")
        assert late["data"]["booking"]["id"] == reply["booking"]["id"]
        assert late["dossier"]["id"] == dossier_id
        assert "appelez le médecin" in late["data"]["message"]
        await room.settle()
        assert room.events("mrl", "dossier.agenda_late") == []  # the OSNP's, not the MRL's
        assert room.events("sup", "dossier.agenda_late")
        assert room.booking(reply["booking"]["id"]).reminded_at is not None
        # Told once: the next firings leave it alone.
        scheduler = room.hub.extension(CallbackExtension).scheduler
        assert scheduler is not None
        await scheduler.fire()
        await room.settle()
        assert len(room.events("osnp", "dossier.agenda_late")) == 1
