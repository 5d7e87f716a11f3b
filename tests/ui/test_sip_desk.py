"""A real call reaches a real desk: SIPp dials 15 through Kamailio to the desk's SIP line,
the desk rings with the line and the caller, F2 answers and opens the dossier."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Call, Dossier
from app.recordings.models import Recording
from app.recordings.protocol import file_sha256
from telephony.kamailio import Desk as RoomDesk
from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import Sipp, caller_scenario
from telephony.sip import SipConfig, SipLine
from tests.sip_room import DOMAIN
from tests.ui.conftest import focus, open_desk, until

pytestmark = pytest.mark.peers


def test_sipp_call_on_15_opens_a_dossier_on_the_desk(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = room_factory([RoomDesk("arm1", "secret-1", "n1")])
    line = SipLine(
        SipConfig(
            server=room.host,
            port=room.port,
            user="arm1",
            password="secret-1",
            domain=DOMAIN,
            record_dir=tmp_path / "rec",
        )
    )
    sipp = sipp_factory(
        caller_scenario(DOMAIN, caller="0639980199", talk_ms=1500),
        proxy=(room.host, room.port),
        service="15",
    )

    def recorded() -> bool:
        with sessions() as s:
            call = s.scalar(select(Call))
            return bool(call and call.recording_path)

    try:

        async def scenario() -> None:
            desk = await open_desk(hub_url, "n1", tmp_path, line)
            w = desk.window
            assert w is not None
            qtbot.addWidget(w)
            await until(
                lambda: "prête" in w.call_bar.line_status.text(),
                lambda: f"registered ({w.call_bar.line_status.text()})",
            )
            sipp.start()
            await until(w.call_bar.answer_button.isEnabled, "the desk rings")
            assert w.call_bar.badge.text() == "15"
            assert w.call_bar.caller.text() == "0639980199"
            await focus(desk)
            qtbot.keyClick(w, Qt.Key.Key_F2)
            await until(lambda: w.dossier_form.dossier is not None, "dossier opened")
            assert w.dossier_form.edits["callback_number"].text() == "0639980199"
            # Mute and the level meters are offered on a SIP line (not on the training line).
            assert w.call_bar.mute_button.isVisible() and w.call_bar.rx_level.isVisible()
            qtbot.keyClick(w, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
            assert w.call_bar.mute_button.isChecked() and "Micro coupé" in w.message_label.text()
            await until(
                lambda: not w.call_bar.hangup_button.isEnabled(),
                "the caller hangs up after talking",
            )
            assert sipp.wait(20) == 0, sipp.errors
            await until(lambda: recorded(), "recording linked by the hub")
            # The hub links the file when it commits; the desk deletes its copy on the reply.
            await until(lambda: not list((tmp_path / "rec").glob("*.wav")), "desk copy deleted")
            await desk.close()

        qloop.run_until_complete(scenario())
    finally:
        line.stop()
    with sessions() as s:
        call = s.scalar(select(Call))
        dossier = s.scalar(select(Dossier))
        assert call is not None and dossier is not None
        assert (call.line, call.caller, dossier.line) == ("15", "0639980199", "15")
        assert call.answered_at is not None and call.ended_at is not None
        assert not call.abandoned
        # The recording of both directions went up to the hub's store (beside its
        # database), hash checked, linked to the call and the dossier; the desk's copy
        # was deleted once the hub confirmed it.
        row = s.scalar(select(Recording))
        assert row is not None and row.state == "stored" and row.dossier_id == dossier.id
        assert call.recording_path == row.stored_name
        kept = tmp_path / "hub-recordings" / row.stored_name
        assert file_sha256(kept) == row.sha256 and kept.stat().st_size > 44
        assert not list((tmp_path / "rec").glob("*.wav"))
