"""The desk carries audio both ways: real calls through Kamailio reach a Qt desk wired as
``sasdesk desk --sip-server …`` wires it, with a test sound card in place of the
headset. What the desk's earpiece plays must be what the caller sent, what the desk's
microphone hears must reach the far end, and both level meters must move.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from app.flow.service import FlowService
from app.hub.auth import Principal
from telephony.audio import g711
from telephony.audio.capture import CapturePort
from telephony.kamailio import Desk as RoomDesk
from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import Sipp, caller_scenario
from telephony.line import LineEventKind
from telephony.sip import SipConfig, SipLine
from tests.sip_room import DOMAIN
from tests.telephony.media import (
    pcap_signal,
    played_units,
    speech_like_signal,
    units_for,
    write_pcap,
)
from tests.ui.conftest import focus, open_desk, oriented_task, until
from tests.ui.sip_desk import (
    Meters,
    answering_phone,
    chunks_heard,
    desk_line,
    first_answered,
    heard,
)

pytestmark = pytest.mark.peers


def test_the_caller_sipp_plays_is_heard_in_the_desk_headset(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    sipp_factory: Callable[..., Sipp],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = room_factory([RoomDesk("arm1", "secret-1", "n1")])
    line = desk_line(room, "arm1", "secret-1", tmp_path / "rec", monkeypatch)
    desk_voice = speech_like_signal(1.0, seed=3)
    headset = CapturePort(mic=desk_voice, loop=True)
    line.config.audio_factory = lambda: headset
    caller_voice = speech_like_signal(3.0, seed=11)
    pcap = tmp_path / "caller.pcap"
    write_pcap(pcap, caller_voice, g711.PCMA)
    sipp = sipp_factory(
        caller_scenario(DOMAIN, caller="0639980199", pcap=pcap, talk_ms=3800),
        proxy=(room.host, room.port),
        service="15",
    )
    try:

        async def scenario() -> None:
            desk = await open_desk(hub_url, "n1", tmp_path, line)
            w = desk.window
            assert w is not None
            qtbot.addWidget(w)
            await until(lambda: "prête" in w.call_bar.line_status.text(), "registered")
            sipp.start()
            await until(w.call_bar.answer_button.isEnabled, "the desk rings")
            await focus(desk)
            qtbot.keyClick(w, Qt.Key.Key_F2)
            meters = Meters(w.call_bar)
            await until(lambda: meters.sample() or w.call_bar.hangup_button.isEnabled(), "talk")
            await until(
                lambda: meters.sample() or not w.call_bar.hangup_button.isEnabled(),
                "the caller hangs up after talking",
            )
            assert sipp.wait(20) == 0, sipp.errors
            # both meters moved: the caller's voice and the desk's microphone
            assert meters.rx > -40 and meters.tx > -40, (meters.rx, meters.tx)
            await desk.close()

        qloop.run_until_complete(scenario())
    finally:
        line.stop()
        headset.close()
    # every part of what SIPp sent reached the earpiece
    assert chunks_heard(headset.played(), pcap_signal(pcap)) >= 0.8


def test_desk_and_caller_hear_each_other(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    room = room_factory([RoomDesk("arm1", "secret-1", "n1"), RoomDesk("patient", "secret-p", "")])
    line = desk_line(room, "arm1", "secret-1", tmp_path / "rec", monkeypatch)
    desk_call = first_answered(line)
    desk_voice = speech_like_signal(2.0, seed=5)
    caller_voice = speech_like_signal(2.0, seed=9)
    headset = CapturePort(mic=desk_voice)
    line.config.audio_factory = lambda: headset
    phone = CapturePort(mic=caller_voice)
    caller = SipLine(
        SipConfig(
            server=room.host,
            port=room.port,
            user="patient",
            password="secret-p",
            domain=DOMAIN,
            audio_factory=lambda: phone,
        )
    )
    try:

        async def scenario() -> None:
            desk = await open_desk(hub_url, "n1", tmp_path, line)
            w = desk.window
            assert w is not None
            qtbot.addWidget(w)
            await until(lambda: "prête" in w.call_bar.line_status.text(), "registered")
            caller.start()
            await until(lambda: caller.registration.state.value == "registered", "caller")
            call_id = caller.dial("15")
            await until(w.call_bar.answer_button.isEnabled, "the desk rings")
            await focus(desk)
            qtbot.keyClick(w, Qt.Key.Key_F2)
            meters = Meters(w.call_bar)
            await until(lambda: meters.sample() or w.call_bar.hangup_button.isEnabled(), "talk")

            def both_heard() -> bool:  # each voice played out whole on the other side
                meters.sample()
                return played_units(line, desk_call.get("id")) >= units_for(
                    len(caller_voice)
                ) and played_units(caller, call_id) >= units_for(len(desk_voice))

            await until(both_heard, "both voices heard through", timeout=20)
            caller.hangup(call_id)
            await until(lambda: not w.call_bar.hangup_button.isEnabled(), "hung up")
            assert meters.rx > -40 and meters.tx > -40, (meters.rx, meters.tx)
            await desk.close()

        qloop.run_until_complete(scenario())
    finally:
        caller.stop()
        line.stop()
        headset.close()
        phone.close()
    assert heard(headset, caller_voice, "PCMU") >= 0.8  # the caller, in the desk's headset
    assert heard(phone, desk_voice, "PCMU") >= 0.8  # the desk's microphone, at the caller


def test_osnp_call_back_carries_audio_both_ways(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    mt: dict,
    sessions: sessionmaker[Session],
    service: FlowService,
    people: dict[str, Principal],
    tmp_path: Path,
    room_factory: Callable[..., KamailioRoom],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    oriented_task(service, people, f"Dr {mt['first_name']} {mt['last_name']}")
    room = room_factory(
        [RoomDesk("osnp1", "secret-o", ""), RoomDesk("cabinet", "secret-c", "")], start=False
    )
    doctor_voice = speech_like_signal(2.0, seed=21)
    osnp_voice = speech_like_signal(2.0, seed=23)
    doctor_port = CapturePort(mic=doctor_voice)
    headset = CapturePort(mic=osnp_voice)
    # the doctor's phone behind the operator gateway: our own line, answering
    doctor = answering_phone(room, "cabinet", "secret-c", doctor_port)
    doctor.start()
    room.gateway = f"127.0.0.1:{doctor.local_port}"
    room.start()
    line = desk_line(room, "osnp1", "secret-o", tmp_path / "rec", monkeypatch)
    desk_call, doctor_call = first_answered(line), first_answered(doctor)
    line.config.audio_factory = lambda: headset
    dialled: list[str] = []
    doctor.subscribe(lambda e: dialled.append(e.line) if e.kind == LineEventKind.RINGING else None)
    try:

        async def scenario() -> None:
            desk = await open_desk(hub_url, "osnp", tmp_path, line)
            w = desk.window
            assert w is not None and w.callback_panel is not None and w.task_panel is not None
            qtbot.addWidget(w)
            await until(lambda: "prête" in w.call_bar.line_status.text(), "registered")
            panel = w.callback_panel
            tasks = w.tasks_model
            assert tasks is not None
            await until(lambda: tasks.rowCount() == 1, "task listed")
            w.task_panel.table.setCurrentIndex(tasks.index(0, 0))
            w.task_panel.request_take()
            await until(lambda: panel.model.rowCount() > 0, "the plan is shown")
            panel.call_direct.click()  # dials the treating doctor through the desk's line
            meters = Meters(w.call_bar)
            await until(
                lambda: meters.sample() or "En ligne" in w.call_bar.timer_label.text(),
                "the doctor answers",
                timeout=30,
            )

            def both_heard() -> bool:  # each voice played out whole on the other side
                meters.sample()
                return played_units(line, desk_call.get("id")) >= units_for(
                    len(doctor_voice)
                ) and played_units(doctor, doctor_call.get("id")) >= units_for(len(osnp_voice))

            await until(both_heard, "both voices heard through", timeout=20)
            w.trigger("hangup")
            await until(lambda: not w.call_bar.hangup_button.isEnabled(), "hung up")
            assert meters.rx > -40 and meters.tx > -40, (meters.rx, meters.tx)
            await desk.close()

        qloop.run_until_complete(scenario())
    finally:
        line.stop()
        doctor.stop()
        headset.close()
        doctor_port.close()
    assert dialled, "the call reached the gateway"
    assert heard(headset, doctor_voice) >= 0.8  # the doctor, in the OSNP's headset
    assert heard(doctor_port, osnp_voice) >= 0.8  # the OSNP's microphone, at the doctor
