"""A hub killed -9 serves its desks again quickly: its start loads only what it needs,
skips Alembic on a database already at the head, and `sasdesk bench hubstart` times it."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from app.db.engine import make_engine
from app.db.migrate import at_head, head_revision, scanned_head, upgrade

ROOT = Path(__file__).resolve().parents[2]
#: Libraries a hub without Hub Santé, letters or exports to make has no use for at start.
NOT_AT_START = ("reportlab", "hubsante_model", "jsonschema", "alembic", "numpy", "telephony")


def test_scanned_head_is_alembics_head() -> None:
    assert scanned_head() == head_revision()


def test_a_database_at_the_head_is_not_migrated_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert not at_head(engine)  # empty: no alembic_version table
    upgrade(engine)
    assert at_head(engine)
    with engine.begin() as c:  # one revision behind: Alembic runs again
        c.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert not at_head(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head_revision()})
    engine.dispose()


def test_the_hub_command_loads_no_optional_library(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade(make_engine(url))
    probe = (
        "import sys, app.cli as c\n"
        "c.build_parser(c._only(['hub']))\n"
        "from app.room import Hub\n"
        "from app.db.migrate import upgrade\n"
        f"h = Hub({url!r}); upgrade(h.engine)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({NOT_AT_START!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]", done.stdout


def test_bench_hubstart_times_restarts_and_desks_back() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "bench",
            "hubstart",
            "--runs",
            "2",
            "--desks",
            "2",
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    back = result["desk_back_after_kill_s"]
    assert back["samples"] == 4 and math.isfinite(back["max"])
    assert 0 < result["hub_listening_s"]["p50"] <= back["max"]
    assert result["hub_cpu_until_listening_s"]["p50"] > 0
    phases = result["hub_phases_p50_s"]
    assert set(phases) == {
        "command_line_loaded",
        "extensions_installed",
        "database_ready",
        "extensions_started",
        "listening",
    }
    assert result["baseline_cli_version_s"] > 0
