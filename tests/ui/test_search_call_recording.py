"""F7 from the slot search on a real SIP desk: the OSNP phones the patient's doctor
through Kamailio, the doctor's phone answers, and the call's recording reaches the hub's
store linked to the dossier in hand (hash checked), the desk's copy deleted only then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Dossier
from app.flow.service import FlowService
from app.hub.auth import Principal
from app.recordings.models import Recording
from app.recordings.protocol import file_sha256
from app.recordings.store import default_store
from telephony.audio.capture import CapturePort
from telephony.kamailio import Desk as RoomDesk
from telephony.kamailio import KamailioRoom
from tests.telephony.media import played_units, speech_like_signal, units_for
from tests.ui.conftest import focus, open_desk, oriented_task, until
from tests.ui.sip_desk import answering_phone, desk_line, first_answered
from ui.widgets.search_panel import KIND, PAYLOAD

pytestmark = pytest.mark.peers


def placed(sessions: sessionmaker[Session]) -> Recording | None:
    with sessions() as s:
        return s.scalar(
            select(Recording).where(Recording.placed_ref.is_not(None), Recording.state == "stored")
        )


def test_f7_call_from_the_search_is_recorded_in_the_hub_store(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    mt: dict,
    db_url: str,
    sessions: sessionmaker[Session],
    service: FlowService,
    people: dict[str, Principal],
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    d, _task = oriented_task(service, people, f"Dr {mt['first_name']} {mt['last_name']}")
    room = room_factory(
        [RoomDesk("osnp1", "secret-o", ""), RoomDesk("cabinet", "secret-c", "")], start=False
    )
    doctor_port = CapturePort(mic=speech_like_signal(2.0, seed=31))
    headset = CapturePort(mic=speech_like_signal(2.0, seed=33))
    doctor = answering_phone(room, "cabinet", "secret-c", doctor_port)
    doctor.start()
    room.gateway = f"127.0.0.1:{doctor.local_port}"
    room.start()
    rec = tmp_path / "rec"
    line = desk_line(room, "osnp1", "secret-o", rec, monkeypatch)
    line.config.audio_factory = lambda: headset
    desk_call = first_answered(line)
    try:

        async def scenario() -> None:
            desk = await open_desk(hub_url, "osnp", tmp_path, line)
            w = desk.window
            assert w is not None and w.task_panel is not None and w.search_panel is not None
            qtbot.addWidget(w)
            await until(lambda: "prête" in w.call_bar.line_status.text(), "registered")
            tasks = w.tasks_model
            assert tasks is not None
            await until(lambda: tasks.rowCount() == 1, "task listed")
            w.task_panel.table.setCurrentIndex(tasks.index(0, 0))
            w.task_panel.request_take()
            await until(lambda: w.dossier_form.dossier is not None, "dossier in hand")
            await focus(desk)
            qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
            panel = w.search_panel
            await until(lambda: panel.model.rowCount() > 0, "search results")
            # The patient's own doctor comes first, below the commune's CPTS.
            first = next(
                panel.model.item(r)
                for r in range(panel.model.rowCount())
                if panel.model.item(r).data(KIND) == "doctor"
            )
            assert mt["last_name"] in first.text()
            panel.tree.setCurrentIndex(first.index())
            qtbot.keyClick(w, Qt.Key.Key_F7)
            await until(lambda: desk_call.get("id"), "the doctor answers", timeout=30)
            assert "Appel de" in w.message_label.text()
            talk = units_for(8000)  # a second of the doctor's voice, heard and recorded
            await until(lambda: played_units(line, desk_call["id"]) >= talk, "talk", timeout=20)
            w.trigger("hangup")
            await until(lambda: not w.call_bar.hangup_button.isEnabled(), "hung up")
            await until(lambda: placed(sessions), "recording stored by the hub", timeout=30)
            await until(lambda: not list(rec.glob("*.wav")), "desk copy deleted")
            number = first.data(PAYLOAD).get("phone_direct") or first.data(PAYLOAD).get(
                "phone_secretary"
            )
            row = placed(sessions)
            assert row is not None and row.placed_number == number
            await desk.close()

        qloop.run_until_complete(scenario())
    finally:
        line.stop()
        doctor.stop()
        headset.close()
        doctor_port.close()
    row = placed(sessions)
    with sessions() as s:
        dossier = s.get(Dossier, d["id"])
        assert dossier is not None
    assert row is not None and row.dossier_id == dossier.id
    assert row.placed_ref == desk_call["id"]
    assert mt["last_name"] in row.placed_to
    kept = default_store(db_url) / row.stored_name
    assert file_sha256(kept) == row.sha256
    assert kept.stat().st_size > 8000 * 2 * 2  # a second of both sides, not a bare header
    assert not list(rec.glob("*.wav")) and not list(rec.glob("*.raw"))
