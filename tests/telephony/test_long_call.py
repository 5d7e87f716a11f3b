"""Outgoing calls lasting over a minute, hung up by either side (the OSNP phoning a doctor).

One test for both cases, run side by side, to spend the minute only once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import PCAPS, Sipp, callee_scenario
from telephony.line import EndReason
from telephony.line import LineEventKind as K
from telephony.sip import SipLine
from tests.telephony.conftest import EventLog

from .conftest import call_of, n1_room

#: Sixty seconds of two calls that need little CPU: scripts/test.sh runs this test beside
#: the package test rather than in line with the others (tests/conftest.py).
pytestmark = [pytest.mark.peers, pytest.mark.beside_package]

MINUTE_AND_A_BIT = 61.0


def test_outgoing_calls_over_60_s_hung_up_by_either_side(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
    tmp_path: Path,
) -> None:
    doctor_hangs_up = sipp_factory(
        callee_scenario(talk_ms=int(MINUTE_AND_A_BIT * 1000), pcap=PCAPS / "g711a.pcap"),
        timeout_s=120,
    )
    desk_hangs_up = sipp_factory(callee_scenario(talk_ms=0), timeout_s=120)
    room_a = n1_room(room_factory, gateway=doctor_hangs_up.address)
    room_b = n1_room(room_factory, gateway=desk_hangs_up.address)
    doctor_hangs_up.start()
    desk_hangs_up.start()
    line_a, log_a = line_factory(room_a, "osnp1", "secret-osnp", record_dir=tmp_path)
    line_b, log_b = line_factory(room_b, "osnp1", "secret-osnp")
    log_a.wait(K.REGISTERED, 5)
    log_b.wait(K.REGISTERED, 5)
    call_a = line_a.dial("0143000001")
    call_b = line_b.dial("0143000002")
    answered_a = log_a.wait(K.ANSWERED, 10)
    answered_b = log_b.wait(K.ANSWERED, 10)
    time.sleep(MINUTE_AND_A_BIT - 0.5)  # the duration is what is tested
    assert call_of(line_b, call_b).state == "confirmed"  # still up after a minute
    line_b.hangup(call_b)
    ended_b = log_b.wait(K.ENDED, 5)
    ended_a = log_a.wait(K.ENDED, 10)
    assert ended_a.reason == EndReason.REMOTE_HANGUP and ended_a.call_id == call_a
    assert ended_b.reason == EndReason.LOCAL_HANGUP
    assert ended_a.at - answered_a.at > 60
    assert ended_b.at - answered_b.at > 60
    assert doctor_hangs_up.wait(20) == 0, doctor_hangs_up.errors
    assert desk_hangs_up.wait(20) == 0, desk_hangs_up.errors
    # the whole minute is in the recording, and the doctor's audio in it
    from telephony.audio.recorder import read_recording

    remote, _desk = read_recording(Path(log_a.wait(K.RECORDING, 5).path))
    assert len(remote) / 8000 > 60
    assert abs(remote[: 8000 * 7].astype(int)).mean() > 100
