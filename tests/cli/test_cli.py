"""The command line: --version, --help everywhere, clear errors, accounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cli import build_parser, main
from tests.command import sasdesk


def test_version() -> None:
    out = sasdesk("--version")
    assert out.returncode == 0 and out.stdout.startswith("sasdesk ")


def test_every_command_has_a_french_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sub.choices is not None
    names = list(sub.choices)
    assert {"hub", "desk", "users", "phone", "import", "report", "bench"} <= set(names)
    for name in names:
        with pytest.raises(SystemExit) as done:
            main([name, "--help"])
        assert done.value.code == 0
    for bench in ("flow", "sip", "slots", "report"):
        with pytest.raises(SystemExit) as done:
            main(["bench", bench, "--help"])
        assert done.value.code == 0


def test_hub_with_an_unreachable_database_says_so() -> None:
    out = sasdesk("hub", "--db", "postgresql://nobody@127.0.0.1:1/x", "--port", "0")
    assert out.returncode == 1
    assert "base de données injoignable" in out.stderr and "Traceback" not in out.stderr


def test_users_add_and_list_on_the_same_database(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    added = sasdesk(
        "users",
        "add",
        "--db",
        db,
        "--username",
        "osnp7",
        "--name",
        "Camille Roy",
        "--role",
        "OSNP",
        "--password",
        "s3cret-Camille",
    )
    assert added.returncode == 0, added.stderr
    again = sasdesk(
        "users", "add", "--db", db, "--username", "osnp7", "--role", "OSNP", "--password", "x"
    )
    assert again.returncode == 1 and "existe déjà" in again.stderr
    listed = sasdesk("users", "list", "--db", db)
    assert "osnp7\tOSNP\tCamille Roy" in listed.stdout
