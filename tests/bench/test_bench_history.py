"""``sasdesk bench history --json`` runs end to end (small), prints its figures and a
baseline of the same run, and both runs return the same dossiers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_history_small_run_prints_indexed_and_baseline_figures() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "bench", "history", "--dossiers", "20000",
         "--lookups", "60", "--baseline-lookups", "10", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    figures = json.loads(out.stdout)
    assert figures["generated"]["dossiers"] == 20000 and figures["same_answers"] is True
    for kind in ("history", "search"):
        assert figures["indexed"][kind]["n"] == 60
        assert figures["baseline_without_indexes"][kind]["n"] == 10
        # Medians, not p95 (2 shared cores): an index read beats a 20,000-row scan.
        assert (figures["indexed"][kind]["p50_ms"]
                < figures["baseline_without_indexes"][kind]["p50_ms"])  # fmt: skip
