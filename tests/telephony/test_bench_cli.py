"""``sasdesk bench sip`` runs end to end and prints its figures as JSON.

The figures themselves are read from the command's output (docs/telephony.md), not
asserted here: this only checks the command works and counts consistently."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import REPO

RUN = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.peers
def test_bench_sip_prints_json_with_every_figure() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN,
            "bench",
            "sip",
            "--calls",
            "10",
            "--rate",
            "5",
            "--desks",
            "4",
            "--json",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (result["attempted"], result["answered"], result["failed"]) == (10, 10, 0)
    assert result["desk_answered"] == 10
    # every desk saw every call: rang (then answered, or was cancelled) or was busy (486)
    assert result["invites_presented"] + result["desk_busy_486"] == 40
    latency = result["invite_to_app_latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    assert result["cpu_per_active_call_percent"] > 0
