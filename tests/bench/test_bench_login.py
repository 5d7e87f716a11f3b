"""``sasdesk bench login-flood --json`` runs end to end (small): a same-run baseline and
the flooded phase, each with its samples, the flood really reaching the password checks;
out-of-bounds sizes are refused before anything starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "bench", "login-flood", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def test_bench_login_flood_prints_baseline_and_flooded_figures() -> None:
    out = bench("--flooders", "16", "--intents", "30", "--seconds", "30", "--json")
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    assert figures["baseline_ms"]["samples"] == 30 and figures["flood_ms"]["samples"] == 30
    assert figures["throttle"] == "off" and figures["flooders"] == 16
    # Every flooder got answers, all of them refusals of the wrong password.
    assert figures["flood_attempts"] >= 16
    assert set(figures["flood_replies"]) <= {"bad_credentials", "busy"}
    assert figures["ratio_p50"] is not None and figures["ratio_p99"] is not None
    # An honest login is not queued behind the guesses (checked in turn, 16 of them
    # would keep it waiting 16 argon2 checks): the flooded account has its own thread.
    alone, during = figures["honest_login_alone_ms"], figures["honest_login_during_flood_ms"]
    assert 0 < during < max(3000, 4 * alone), figures
    # Before the checks left the writer, each intent took seconds under such a flood.
    assert figures["flood_ms"]["p50"] < 1000, figures


def test_bench_login_flood_refuses_sizes_out_of_bounds() -> None:
    out = bench("--flooders", "100000", "--json")
    assert out.returncode == 2 and "sockets" in out.stderr and not out.stdout


@pytest.mark.peers
def test_bench_login_flood_on_two_hubs_sharing_a_throwaway_postgresql() -> None:
    out = bench("--pg-temp", "--hubs", "2", "--flooders", "8", "--intents", "20",
                "--seconds", "30", "--throttle", "on", "--json")  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    assert figures["db"] == "postgresql" and figures["hubs"] == 2
    assert len(figures["hub_cpu_seconds_each"]) == 2 and min(figures["hub_cpu_seconds_each"]) > 0
    assert figures["baseline_ms"]["samples"] == 20 and figures["flood_ms"]["samples"] == 20
    # Both hubs answered the flood from the one count in the database: three guesses
    # reach argon2 at once, then one after 1 s, 2 s more, 4 s more… A second of flood
    # gives 3 or 4; with a limit per hub the first burst alone gave 6.
    replies = figures["flood_replies"]
    assert set(replies) <= {"bad_credentials", "throttled", "locked"}, replies
    assert 3 <= replies.get("bad_credentials", 0) <= 5, replies
    assert replies.get("throttled", 0) + replies.get("locked", 0) > 0, replies


def test_bench_login_flood_wants_postgresql_for_several_hubs() -> None:
    out = bench("--hubs", "2", "--json")
    assert out.returncode == 2 and "PostgreSQL" in out.stderr and not out.stdout
