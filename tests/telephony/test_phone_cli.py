"""``sasdesk phone``: the headless line, driven like an operator would."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from telephony.kamailio import KamailioRoom
from telephony.kamailio.sipp import PCAPS, Sipp, caller_scenario

from .conftest import DOMAIN, REPO, n1_room

RUN = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"


def _phone(
    room: KamailioRoom, *extra: str, user: str = "arm1", password: str = "secret-1"
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUN,
            "phone",
            "--server",
            room.host,
            "--port",
            str(room.port),
            "--user",
            user,
            "--password",
            password,
            "--domain",
            DOMAIN,
            *extra,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait_for(path: Path, kind: str, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in _events(path):
            if event["kind"] == kind:
                return event
        time.sleep(0.05)
    raise AssertionError(f"no {kind} in {[e['kind'] for e in _events(path)]}")


@pytest.mark.peers
def test_phone_command_answers_records_and_logs_jsonl(
    tmp_path: Path, room_factory: Callable[..., KamailioRoom], sipp_factory: Callable[..., Sipp]
) -> None:
    room = n1_room(room_factory)
    events = tmp_path / "events.jsonl"
    proc = _phone(
        room, "--auto-answer", "0.2", "--record", str(tmp_path / "rec"), "--events", str(events)
    )
    try:
        _wait_for(events, "registered")
        sipp = sipp_factory(
            caller_scenario(
                DOMAIN, caller="0611111111", talk_ms=800, dtmf_pcaps=[PCAPS / "dtmf_2833_7.pcap"]
            ),
            proxy=(room.host, room.port),
            service="116117",
        ).start()
        assert sipp.wait(30) == 0, sipp.errors
        recording = _wait_for(events, "recording")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    kinds = [e["kind"] for e in _events(events)]
    assert kinds[:6] == ["registered", "ringing", "answered", "dtmf", "ended", "recording"]
    ringing = _events(events)[1]
    assert (ringing["line"], ringing["caller"]) == ("116117", "0611111111")
    assert _events(events)[3]["digit"] == "7"
    assert _events(events)[4]["reason"] == "remote_hangup"
    assert (tmp_path / "rec").exists() and recording["path"].endswith(".wav")
    assert out.splitlines()[0] == json.dumps(_events(events)[0], ensure_ascii=False, sort_keys=True)


@pytest.mark.peers
def test_phone_command_with_a_wrong_password_exits_with_an_error(
    tmp_path: Path, room_factory: Callable[..., KamailioRoom]
) -> None:
    room = n1_room(room_factory)
    events = tmp_path / "events.jsonl"
    proc = _phone(room, "--events", str(events), password="wrong")
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 2, err
    assert _wait_for(events, "registration_failed")["reason"].startswith("401")


def test_phone_command_help_lists_its_options() -> None:
    out = subprocess.run(
        [sys.executable, "-c", RUN, "phone", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in (
        "--server",
        "--port",
        "--user",
        "--password",
        "--sip-port",
        "--auto-answer",
        "--record",
        "--events",
    ):
        assert flag in out
