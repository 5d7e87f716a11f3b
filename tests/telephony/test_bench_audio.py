"""``sasdesk bench audio`` runs end to end on a small profile set (CI proves it works).

The figures of the full run are in docs/telephony.md; this checks the command plays
the stream to both callees, measures both, and that the loss profile really lost."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import REPO

RUN = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.peers
@pytest.mark.timeout(90)
def test_bench_audio_small_run_prints_desk_and_anchor_side_by_side() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", RUN, "bench", "audio", "--profiles", "clean,loss3"]
        + ["--seconds", "4", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=85,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    clean, loss = result["profiles"]
    assert (clean["profile"], loss["profile"]) == ("clean", "loss3")
    assert result["reference"]["g711_ceiling"] > 4.0
    # clean: the recording is the stream as sent; the earpiece carries intelligible
    # speech (its exact figure depends on the machine's load: see docs/telephony.md)
    assert clean["desk"]["mos_recording"] >= result["reference"]["g711_ceiling"] - 0.1
    assert clean["desk"]["mos_headset"] > 2.5  # 4.0+ on a quiet machine
    assert clean["stream"]["packets_lost"] == 0
    assert 0 < clean["desk"]["added_delay_ms"] < 120
    # loss: the stream lost packets, the desk concealed them, PJSIP scored the same call
    assert loss["stream"]["packets_lost"] > 0
    assert loss["desk"]["concealed"] > 0
    for r in (clean, loss):
        assert 1.0 <= r["anchor"]["mos"] <= 4.6
        assert 1.0 <= r["desk"]["mos_recording"] <= 4.6
        assert "desk_minus_anchor_mos" in r


def test_bench_audio_refuses_an_unknown_profile() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", RUN, "bench", "audio", "--profiles", "clean,netem", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "profil inconnu : netem" in proc.stderr
