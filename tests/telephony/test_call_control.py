"""Hold/resume, blind transfer to a level-2 group, outgoing calls (407, busy)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import Sipp, callee_scenario
from telephony.line import EndReason
from telephony.line import LineEventKind as K
from telephony.sip import SipLine
from tests.telephony.conftest import EventLog
from tests.waits import wait_until

from .conftest import answer_on_ring, call_of, n1_room

pytestmark = pytest.mark.peers


def _patient_calls(
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    room: KamailioRoom,
    service: str = "15",
) -> tuple[SipLine, EventLog, str, SipLine, EventLog, str]:
    """A caller line (a room user playing the patient) calls the service; arm1 answers."""
    desk, dlog = line_factory(room, "arm1", "secret-1")
    patient, plog = line_factory(room, "patient", "secret-patient")
    dlog.wait(K.REGISTERED, 5)
    plog.wait(K.REGISTERED, 5)
    answer_on_ring(desk, dlog)
    patient_call = patient.dial(service)
    desk_call = dlog.wait(K.ANSWERED, 10).call_id
    plog.wait(K.ANSWERED, 5)
    return desk, dlog, desk_call, patient, plog, patient_call


def test_hold_and_resume(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory)
    desk, dlog, desk_call, patient, plog, patient_call = _patient_calls(line_factory, room)
    assert dlog.of(K.RINGING)[0].line == "15"
    rtp = call_of(patient, patient_call).rtp
    assert rtp is not None
    wait_until(lambda: rtp.packets_in > 10, "the desk's media reaches the patient")
    desk.hold(desk_call)
    dlog.wait(K.HELD, 5)
    assert plog.wait(K.HELD, 5).reason == "remote"  # the re-INVITE said sendonly
    # An observation window, not a wait: the packets already on the wire land (0.1 s),
    # then for 0.5 s none may come (the held desk sends nothing).
    time.sleep(0.1)
    before = rtp.packets_in
    time.sleep(0.5)
    assert rtp.packets_in == before  # the held desk sends nothing
    desk.resume(desk_call)
    dlog.wait(K.RESUMED, 5)
    plog.wait(K.RESUMED, 5)
    wait_until(lambda: rtp.packets_in > before + 10, "the resumed desk's media is back")
    desk.hangup(desk_call)
    assert plog.wait(K.ENDED, 5).reason == EndReason.REMOTE_HANGUP


@pytest.mark.parametrize("group", ["n2-amu", "n2-snp"])
def test_blind_transfer_to_a_level_2_group(
    group: str,
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
) -> None:
    room = n1_room(room_factory)
    user, password = ("amu1", "secret-amu") if group == "n2-amu" else ("snp1", "secret-snp")
    level2, llog = line_factory(room, user, password)
    llog.wait(K.REGISTERED, 5)
    answer_on_ring(level2, llog)
    desk, dlog, desk_call, patient, plog, patient_call = _patient_calls(line_factory, room)
    desk.transfer(desk_call, group)
    assert dlog.wait(K.TRANSFERRED, 5).number == group
    ringing = llog.wait(K.RINGING, 5)
    assert ringing.line == group and ringing.caller == "patient"
    llog.wait(K.ANSWERED, 5)
    # the N1 desk is free once the level-2 desk has the patient
    assert dlog.wait(K.ENDED, 5).reason == EndReason.TRANSFERRED
    assert plog.wait(K.ENDED, 5, where=lambda e: e.call_id == patient_call).reason == (
        EndReason.TRANSFERRED
    )
    assert desk.agent_state == "ready"
    assert level2.agent_state == "in_call"


def test_outgoing_call_through_a_407_challenge(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    callee = sipp_factory(callee_scenario(talk_ms=0))
    room = n1_room(room_factory, gateway=callee.address)
    callee.start()
    osnp, log = line_factory(room, "osnp1", "secret-osnp")
    log.wait(K.REGISTERED, 5)
    challenges = osnp.stats["challenges"]
    call_id = osnp.dial("0142000000")
    assert log.wait(K.DIALING, 1).number == "0142000000"
    log.wait(K.REMOTE_RINGING, 10)
    log.wait(K.ANSWERED, 10)
    assert osnp.stats["challenges"] == challenges + 1  # Kamailio sent 407, we answered
    assert [key[0] for key in call_of(osnp, call_id).challenges] == ["proxy-authorization"]
    time.sleep(0.5)  # the call talks a moment, as a user's would
    osnp.hangup(call_id)
    assert log.wait(K.ENDED, 5).reason == EndReason.LOCAL_HANGUP
    # SIPp needs our ACK (to its Contact) and our BYE to finish without error
    assert callee.wait(20) == 0, callee.errors


def test_outgoing_call_to_a_busy_doctor(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    callee = sipp_factory(callee_scenario(status=486))
    room = n1_room(room_factory, gateway=callee.address)
    callee.start()
    osnp, log = line_factory(room, "osnp1", "secret-osnp")
    log.wait(K.REGISTERED, 5)
    osnp.dial("0142000001")
    assert log.wait(K.ENDED, 10).reason == EndReason.BUSY
    assert callee.wait(20) == 0, callee.errors


def test_outgoing_call_with_a_wrong_password_fails_without_blocking(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    room = n1_room(room_factory)
    osnp, log = line_factory(room, "osnp1", "secret-osnp")
    log.wait(K.REGISTERED, 5)
    osnp.config.password = "changed"
    started = time.monotonic()
    osnp.dial("0142000002")
    assert time.monotonic() - started < 0.5  # dial() does not wait for the network
    assert log.wait(K.ENDED, 5).reason == EndReason.FAILED
    assert osnp.stats["challenges"] >= 2


def test_outgoing_call_answering_both_the_proxy_407_and_the_far_end_401(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    callee = sipp_factory(callee_scenario(challenge=("osnp1", "secret-osnp")))
    room = n1_room(room_factory, gateway=callee.address)
    callee.start()
    osnp, log = line_factory(room, "osnp1", "secret-osnp")
    log.wait(K.REGISTERED, 5)
    call_id = osnp.dial("0142000003")
    log.wait(K.ANSWERED, 10)
    assert sorted(key[0] for key in call_of(osnp, call_id).challenges) == [
        "authorization",
        "proxy-authorization",
    ]
    osnp.hangup(call_id)
    assert callee.wait(20) == 0, callee.errors  # SIPp checked our digest (verifyauth)


def test_outgoing_call_refused_by_the_far_end_401_with_a_wrong_password(
    room_factory: Callable[..., KamailioRoom],
    line_factory: Callable[..., tuple[SipLine, EventLog]],
    sipp_factory: Callable[..., Sipp],
) -> None:
    callee = sipp_factory(callee_scenario(challenge=("osnp1", "another-password")))
    room = n1_room(room_factory, gateway=callee.address)
    callee.start()
    osnp, log = line_factory(room, "osnp1", "secret-osnp")
    log.wait(K.REGISTERED, 5)
    osnp.dial("0142000004")
    assert log.wait(K.ENDED, 10).reason == EndReason.FAILED  # 403 from the far end
    assert callee.wait(20) != 0  # and SIPp saw wrong credentials


def test_wrap_up_after_a_call_then_ready_again(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory)
    desk, dlog = line_factory(room, "arm1", "secret-1", wrap_up_after_call=True)
    patient, plog = line_factory(room, "patient", "secret-patient")
    dlog.wait(K.REGISTERED, 5)
    plog.wait(K.REGISTERED, 5)
    answer_on_ring(desk, dlog)
    first = patient.dial("15")
    dlog.wait(K.RINGING, 5)
    plog.wait(K.ANSWERED, 10)
    assert desk.agent_state == "in_call"
    patient.hangup(first)
    dlog.wait(K.ENDED, 5)
    assert desk.agent_state == "wrap_up"
    patient.dial("15")  # the only N1 desk is writing its dossier: nobody takes it
    assert plog.wait(K.ENDED, 10, count=2).reason == EndReason.BUSY
    assert desk.stats["rejected_busy"] == 1
    assert [e.kind for e in dlog.events].count(K.RINGING) == 1
    desk.ready()
    patient.dial("15")
    assert dlog.wait(K.ANSWERED, 10, count=2).line == "15"


def test_stopping_the_line_hangs_up_its_call(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory)
    desk, dlog = line_factory(room, "arm1", "secret-1")
    patient, plog = line_factory(room, "patient", "secret-patient")
    dlog.wait(K.REGISTERED, 5)
    plog.wait(K.REGISTERED, 5)
    answer_on_ring(desk, dlog)
    patient.dial("116117")
    plog.wait(K.ANSWERED, 10)
    started = time.monotonic()
    desk.stop()
    assert time.monotonic() - started < 2.5
    assert dlog.wait(K.ENDED, 1).reason == EndReason.LOCAL_HANGUP
    assert plog.wait(K.ENDED, 5).reason == EndReason.REMOTE_HANGUP


def test_desk_rejects_a_ringing_call(
    room_factory: Callable[..., KamailioRoom], line_factory: Callable[..., tuple[SipLine, EventLog]]
) -> None:
    room = n1_room(room_factory)
    desk, dlog = line_factory(room, "arm1", "secret-1")
    patient, plog = line_factory(room, "patient", "secret-patient")
    dlog.wait(K.REGISTERED, 5)
    plog.wait(K.REGISTERED, 5)
    patient.dial("116117")
    ringing = dlog.wait(K.RINGING, 5)
    plog.wait(K.REMOTE_RINGING, 5)
    desk.reject(ringing.call_id)
    assert dlog.wait(K.ENDED, 5).reason == EndReason.REJECTED
    assert plog.wait(K.ENDED, 5).reason == EndReason.BUSY  # the caller heard 486
    assert desk.agent_state == "ready"
