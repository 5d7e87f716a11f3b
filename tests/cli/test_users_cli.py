"""`sasdesk users add|disable|enable|reset-password|list`, run as an administrator would,
against a running hub: the policy for new passwords, a clear refusal for a duplicate,
and disabled accounts or reset passwords closing the open desks at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.client.hub_client import HubClient, HubError
from app.config.settings import HubSettings, SessionSettings
from app.domain.passwords import WeakPassword, check_new_password
from app.room import Hub
from tests.command import sasdesk
from tests.hub.desks import logged_client
from tests.waits import until


def users(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return sasdesk("users", *args, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("Court-1", "trop court"),
        ("toutminuscule", "trop simple"),
        ("Motdepasse2026!", "trop courant"),
        ("Jean.Dupont-2026", "identifiant"),
        ("Aa1!Aa1!Aa1!Aa1!", "répétitif"),
    ],
)
def test_weak_new_passwords_are_refused_with_the_reason(password: str, why: str) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_new_password(password, "jean.dupont")
    assert why in str(refused.value)


@pytest.mark.parametrize("password", ["Régul@tion-15-SAS", "le cheval blanc d'henri iv"])
def test_strong_passwords_and_passphrases_are_accepted(password: str) -> None:
    check_new_password(password, "jean.dupont")


def test_add_refuses_a_weak_password_a_bad_name_and_a_duplicate(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    weak = users("add", "--db", db, "--username", "arm7", "--role", "ARM_N1",
                 "--password", "arm7arm7")  # fmt: skip
    assert weak.returncode == 1 and "trop court" in weak.stderr and "Traceback" not in weak.stderr
    bad = users("add", "--db", db, "--username", "Arm 7", "--role", "ARM_N1",
                "--password", "Régul@tion-15-SAS")  # fmt: skip
    assert bad.returncode == 1 and "identifiant « Arm 7 » refusé" in bad.stderr
    good = users("add", "--db", db, "--username", "arm7", "--name", "Lou Garnier", "--role",
                 "ARM_N1", "--password-env", "NEW_PW",
                 env={"NEW_PW": "Régul@tion-15-SAS"})  # fmt: skip
    assert good.returncode == 0, good.stderr
    again = users("add", "--db", db, "--username", "arm7", "--role", "OSNP",
                  "--password", "Régul@tion-15-SAS")  # fmt: skip
    assert again.returncode == 1 and "existe déjà" in again.stderr
    listed = users("list", "--db", db).stdout
    assert "arm7\tARM_N1\tLou Garnier\tactif\t0 session(s)" in listed
    nobody = users("disable", "--db", db, "--username", "ghost")
    assert nobody.returncode == 1 and "aucun compte « ghost »" in nobody.stderr


async def run_users(*args: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(users, *args)


async def test_disable_and_reset_password_close_the_open_desks_at_once(
    hub: Hub, db_url: str
) -> None:
    n1 = await logged_client(hub, "n1")
    ended: list[dict[str, Any]] = []
    n1.on_session_ended.append(ended.append)
    done = await run_users("disable", "--db", db_url, "--username", "n1")
    assert done.returncode == 0 and "1 session(s) fermée(s)" in done.stdout, done.stderr
    t0 = time.monotonic()
    await until(lambda: bool(ended), "desk closed", timeout=3)
    assert time.monotonic() - t0 < 1.5 and ended[0]["reason"] == "disabled"
    assert "désactivé" in users("list", "--db", db_url).stdout
    with pytest.raises(HubError):
        await logged_client(hub, "n1")
    assert (await run_users("enable", "--db", db_url, "--username", "n1")).returncode == 0
    n1 = await logged_client(hub, "n1")
    n1.on_session_ended.append(ended.append)
    reset = await run_users("reset-password", "--db", db_url, "--username", "n1",
                            "--password", "Nouvelle-phrase-2026")  # fmt: skip
    assert reset.returncode == 0, reset.stderr
    await until(lambda: len(ended) == 2, "both desks closed", timeout=3)
    assert ended[1]["reason"] == "revoked"
    with pytest.raises(HubError) as refused:
        await logged_client(hub, "n1")  # the old password
    assert refused.value.code == "bad_credentials"
    fresh = HubClient(hub.url)
    await fresh.connect()
    await fresh.login("n1", "Nouvelle-phrase-2026")
    await fresh.close()
    await n1.close()


@pytest.mark.peers
async def test_disable_reaches_every_hub_on_postgresql_at_once(pg_url: str) -> None:
    slow = HubSettings(sessions=SessionSettings(check_seconds=30))  # only NOTIFY is this fast
    a, b = (
        Hub(pg_url, "127.0.0.1", 0, settings=slow),
        Hub(pg_url, "127.0.0.1", 0, settings=slow),
    )
    await a.start()
    await b.start()
    try:
        on_a, on_b = await logged_client(a, "mrl"), await logged_client(b, "mrl")
        ended: list[str] = []
        on_a.on_session_ended.append(lambda m: ended.append("a"))
        on_b.on_session_ended.append(lambda m: ended.append("b"))
        done = await run_users("disable", "--db", pg_url, "--username", "mrl")
        assert done.returncode == 0, done.stderr
        t0 = time.monotonic()
        await until(lambda: len(ended) == 2, "both desks closed", timeout=3)
        assert time.monotonic() - t0 < 1.0 and sorted(ended) == ["a", "b"]
        for c in (on_a, on_b):
            await c.close()
    finally:
        await a.stop()
        await b.stop()


def test_national_identifiers_are_checked_unique_and_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import main

    db = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    monkeypatch.setenv("NEW_PW", "Régul@tion-15-SAS")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["users", *args, "--db", db])
        out = capsys.readouterr()
        return code, out.out, out.err

    add = ("add", "--role", "MRL", "--password-env", "NEW_PW")
    code, _, err = run(*add, "--username", "mrl7", "--national-id", "10001234567")
    assert code == 1 and "saisissez 810001234567" in err
    code, _, err = run(*add, "--username", "mrl7", "--national-id", "0123456789")
    assert code == 1 and "RPPS" in err
    code, out, _ = run(*add, "--username", "mrl7", "--name", "Dr Claire Martin",
                       "--national-id", "810001234567")  # fmt: skip
    assert code == 0 and "identifiant national 810001234567" in out
    code, _, err = run(*add, "--username", "mrl8", "--national-id", "810001234567")
    assert code == 1 and "déjà celui du compte « mrl7 »" in err
    assert run("add", "--username", "osnp7", "--role", "OSNP", "--password-env", "NEW_PW")[0] == 0
    code, _, err = run("set-national-id", "--username", "osnp7", "--national-id", "0123456789")
    assert code == 0, err
    listed = run("list")[1]
    assert "mrl7\tMRL\tDr Claire Martin\tactif\t0 session(s)\t810001234567" in listed
    assert "osnp7\tOSNP\tosnp7\tactif\t0 session(s)\t0123456789" in listed
    assert run("set-national-id", "--username", "osnp7", "--national-id", "")[0] == 0
    assert "osnp7\tOSNP\tosnp7\tactif\t0 session(s)\t-" in run("list")[1]
    # The command line as README.md shows it, once, as a process.
    shown = users("add", "--db", db, "--username", "amu7", "--role", "MEDECIN_AMU",
                  "--password-env", "NEW_PW", "--national-id", "810009876543",
                  env={"NEW_PW": "Régul@tion-15-SAS"})  # fmt: skip
    assert shown.returncode == 0, shown.stderr


def test_platform_identifiers_are_checked_unique_listed_and_shown_in_the_account_view(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ARM or an OSNP has no national identifier: the account carries the one the
    national SAS platform gave them, so that an appointment naming it finds the desk."""
    from app.cli import main
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.models import User
    from app.hub.views import user_view
    from ui.psc_text import account_text

    db = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    monkeypatch.setenv("NEW_PW", "Régul@tion-15-SAS")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["users", *args, "--db", db])
        out = capsys.readouterr()
        return code, out.out, out.err

    add = ("add", "--role", "OSNP", "--password-env", "NEW_PW")
    code, _, err = run(*add, "--username", "osnp7", "--platform-id", "ptf 42")
    assert code == 1 and "sans espace" in err
    code, out, err = run(*add, "--username", "osnp7", "--platform-id", "3170100042/12345SR")
    assert code == 0 and "identifiant plateforme SAS 3170100042/12345SR" in out, err
    code, _, err = run(*add, "--username", "osnp8", "--platform-id", "3170100042/12345SR")
    assert code == 1 and "déjà celui du compte « osnp7 »" in err
    assert run("list")[0] == 0
    assert "osnp7\tOSNP\tosnp7\tactif\t0 session(s)\t-\t3170100042/12345SR" in run("list")[1]
    engine = make_engine(db)
    with make_sessionmaker(engine)() as s:
        seen = user_view(s.scalars(select(User).where(User.username == "osnp7")).one())
    engine.dispose()
    assert seen is not None
    assert "identifiant plateforme SAS 3170100042/12345SR" in account_text(seen, "password")
    code, _, err = run("set-platform-id", "--username", "osnp7", "--platform-id", "")
    assert code == 0, err
    assert "osnp7\tOSNP\tosnp7\tactif\t0 session(s)\t-\t-" in run("list")[1]
    assert run("set-platform-id", "--username", "osnp7")[0] == 2
    # The command line as README.md shows it, once, as a process.
    shown = users("set-platform-id", "--db", db, "--username", "osnp7",
                  "--platform-id", "3170100042/12345SR")  # fmt: skip
    assert shown.returncode == 0 and "3170100042/12345SR" in shown.stdout, shown.stderr
