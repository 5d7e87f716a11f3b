"""`sasdesk bench soak` at a small count: SIPp through Kamailio to three SIP desks in
their own processes, a hub killed -9 twice and a desk once (mid-call), and nothing lost,
no call left open."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Real time, one core at most (SIPp at one call a second, three desks, two hub kills):
# scripts/test.sh runs it beside the package build.
pytestmark = [pytest.mark.peers, pytest.mark.beside_package]
ROOT = Path(__file__).resolve().parents[2]


def test_soak_small_run_loses_nothing_through_kills() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "bench",
            "soak",
            "--calls",
            "30",
            "--desks",
            "3",
            "--rate",
            "1",
            "--kills",
            "3",
            "--seed",
            "36",  # the desk killed first, away from the hub kills: its call at the hub
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.stdout.strip(), done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert done.returncode == 0, result
    assert sorted(k["kind"] for k in result["kills"]) == ["desk", "hub", "hub"]
    # The desk was killed during a call: at its next start it ended it at the hub.
    assert [k["mid_call"] for k in result["kills"] if k["kind"] == "desk"] == [True]
    assert result["calls_not_ended"] == 0, result
    assert result["calls_offered_sipp"] == 30
    assert result["calls_answered"] >= 20 and result["intents_acknowledged"] > 200
    for loss in (
        "acknowledged_intents_missing",
        "dossiers_lost",
        "recordings_lost",
        "ranges_overbooked",
        "event_seq_duplicates_delivered",
    ):
        assert result[loss] == 0, (loss, result)
    assert result["recordings_stored"] == result["calls_answered"]
    assert result["desk_back_after_kill_s"]["samples"] == 7  # 3 desks × 2 hub kills + 1
    assert result["desk_back_after_kill_s"]["max"] < 60
