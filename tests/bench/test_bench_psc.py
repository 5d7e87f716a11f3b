"""``sasdesk bench psc-login --json`` runs end to end (small): password logins as the
same-run baseline, PSC logins through a hub process against the PSC double, each login
really polled at PSC once; out-of-bounds sizes are refused before anything starts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "bench", "psc-login", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_bench_psc_login_prints_both_modes() -> None:
    out = bench("--logins", "3", "--interval", "0", "--json")
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    assert figures["password_login_ms"]["samples"] == 3
    assert figures["psc_login_ms"]["samples"] == 3
    assert figures["psc_token_polls"] == 3  # one poll each: approved at the first
    assert 0 < figures["psc_login_ms"]["p50"] <= figures["psc_login_ms"]["p95"]
    assert figures["ratio_p50"] is not None and figures["ratio_p95"] is not None


def test_bench_psc_login_refuses_sizes_out_of_bounds() -> None:
    out = bench("--logins", "0", "--json")
    assert out.returncode == 2 and "connexions" in out.stderr and not out.stdout
