"""A desk's SIP line as ``sasdesk desk`` wires it, and what the desk tests on a real
line observe with it: the far end's phone, the first call answered, the level meters,
how much of a voice an earpiece played (tests/telephony/media.py measures)."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import numpy as np
import pytest

from app.cli.desk import sip_line
from telephony.audio.capture import CapturePort
from telephony.kamailio import KamailioRoom
from telephony.line import LineEvent, LineEventKind
from telephony.sip import SipConfig, SipLine
from tests.sip_room import DOMAIN
from tests.telephony.media import best_alignment, reference_g711_roundtrip
from ui.widgets.call_bar import CallBar

PASSWORD_ENV = "SASDESK_TEST_SIP_PASSWORD"


def desk_line(
    room: KamailioRoom, user: str, password: str, rec: Path, monkeypatch: pytest.MonkeyPatch
) -> SipLine:
    """The line exactly as ``sasdesk desk`` builds it from its command line."""
    monkeypatch.setenv(PASSWORD_ENV, password)
    args = argparse.Namespace(
        sip_server=room.host,
        sip_port=room.port,
        sip_user=user,
        sip_domain=DOMAIN,
        sip_password_env=PASSWORD_ENV,
        sip_local_host="127.0.0.1",
        sip_local_port=0,
        record=rec,
    )
    line = sip_line(args)
    assert line.config.use_headset, "the desk plays calls in its headset"
    return line


class Meters:
    """The highest value each level meter of the call bar showed."""

    def __init__(self, bar: CallBar) -> None:
        self.bar = bar
        self.rx = self.tx = -90

    def sample(self) -> bool:
        self.rx = max(self.rx, self.bar.rx_level.value())
        self.tx = max(self.tx, self.bar.tx_level.value())
        return False


def first_answered(line: SipLine) -> dict[str, str]:
    """Filled with ``{"id": call_id}`` once ``line`` has its first call up (either way)."""
    found: dict[str, str] = {}

    def on(event: LineEvent) -> None:
        if event.kind == LineEventKind.ANSWERED:
            found.setdefault("id", event.call_id)

    line.subscribe(on)
    return found


def chunks_heard(played: np.ndarray, expected: np.ndarray, chunk: int = 2000) -> float:
    """The fraction of the 250 ms pieces of ``expected`` found in ``played`` (normalised
    correlation > 0.9 at their best place). Pieces, not the whole: the jitter buffer
    may stretch or shorten a pause by 10 ms to follow the network (or a loaded CPU),
    and a piece where a thread of a very busy machine ran late gets concealment."""
    assert len(played) > len(expected), "the earpiece played less than was sent"
    pieces = [expected[i : i + chunk] for i in range(0, len(expected) - chunk + 1, chunk)]
    found = [best_alignment(played, p)[1] > 0.9 for p in pieces if np.any(p)]
    return sum(found) / len(found)


def heard(port: CapturePort, sent: np.ndarray, codec: str = "PCMA") -> float:
    """How much of ``sent`` (after G.711) ``port``'s earpiece played."""
    return chunks_heard(port.played(), reference_g711_roundtrip(sent, codec))


def answering_phone(room: KamailioRoom, user: str, password: str, port: CapturePort) -> SipLine:
    """A second instance of our own line as the far end; it answers every call."""
    line = SipLine(
        SipConfig(
            server=room.host,
            port=room.port,
            user=user,
            password=password,
            domain=DOMAIN,
            codecs=("PCMA",),
            audio_factory=lambda: port,
        )
    )

    def on(event: LineEvent) -> None:
        if event.kind == LineEventKind.RINGING:
            threading.Timer(0.1, line.answer, args=(event.call_id,)).start()

    line.subscribe(on)
    return line
