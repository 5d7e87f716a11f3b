"""`sasdesk desk` started the way a room starts it: a SIP line on the room's Kamailio,
recordings kept in a directory. It used to die at start (AttributeError)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.room.embedded import EmbeddedHub
from telephony.kamailio import Desk as RoomDesk
from telephony.kamailio import KamailioRoom

pytestmark = pytest.mark.peers
STAY_UP = 6.0


def test_sip_desk_with_recordings_reaches_its_login_window_and_stays_up(
    embedded: EmbeddedHub, tmp_path: Path
) -> None:
    room = KamailioRoom([RoomDesk("arm1", "secret-1", "n1")])
    room.start()
    record = tmp_path / "rec"
    record.mkdir()
    old = record / "old-call.wav"
    old.write_bytes(b"RIFF")
    os.utime(old, (time.time() - 40 * 86400,) * 2)
    recent = record / "recent-call.wav"
    recent.write_bytes(b"RIFF")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "SASDESK_SIP_PASSWORD": "secret-1",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    command = [
        sys.executable, "-m", "app.cli", "desk", "--hub", embedded.hub.url,
        "--sip-server", room.host, "--sip-port", str(room.port), "--sip-user", "arm1",
        "--record", str(record), "--retention-days", "30",
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        # The desk shows its login dialog once the hub has welcomed it: wait for that.
        while time.monotonic() < deadline and not bool(embedded.hub.connections):
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.1)
        assert bool(embedded.hub.connections), "the desk never connected to its hub"
        time.sleep(STAY_UP)  # staying up is what is tested
        assert proc.poll() is None, f"the desk died:\n{proc.communicate()[0]}"
    finally:
        proc.terminate()
        try:
            out = proc.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0]
        room.cleanup()
    assert "Traceback" not in out, out
    # --retention-days ran on --record: the old recording went, the recent one stays.
    assert not old.exists() and recent.exists()
    assert "1 enregistrement(s) de plus de 30 jours supprimé(s)" in out
