"""The audit of reads: each read path leaves a row, refusals too, and the trail is
append-only; the supervisor and ``sasdesk audit`` read it back."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from app.audit.hub import install as install_audit
from app.db.audit import AuditRead
from app.flow.service import FlowService
from app.hub.auth import Principal
from app.room import Hub
from tests.command import sasdesk
from tests.flow.flow_helpers import Actor, answer_call, snp_dossier
from tests.hub.desks import logged_client

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)


@pytest.fixture
def audited(sessions: sessionmaker[Session]) -> FlowService:
    service = FlowService(sessions, clock=lambda: NOW)
    install_audit(service)
    return service


def at_desk(service: FlowService, who: Principal) -> Actor:
    return Actor(service, dataclasses.replace(who, desk=f"poste-{who.username}"))


def reads(sessions: sessionmaker[Session]) -> list[AuditRead]:
    with sessions() as s:
        return list(s.scalars(select(AuditRead).order_by(AuditRead.id)))


def test_opening_a_dossier_is_recorded_with_who_where_when_and_why(
    audited: FlowService, people: dict[str, Principal], sessions: sessionmaker[Session]
) -> None:
    n1, mrl = at_desk(audited, people["n1"]), at_desk(audited, people["mrl"])
    dossier_id = snp_dossier(n1, mrl)
    assert reads(sessions) == []  # working on a dossier is in the events, not a read
    reply = mrl.send("dossier.get", dossier_id=dossier_id)
    assert reply["timeline"]
    [row] = reads(sessions)
    assert (row.username, row.role, row.desk, row.dossier_id, row.intent, row.granted) == (
        "mrl",
        "MRL",
        "poste-mrl",
        dossier_id,
        "dossier.get",
        True,
    )
    assert row.dossier_number == reply["dossier"]["number"] and row.at == NOW


def test_a_read_outside_the_role_is_refused_like_a_missing_dossier_and_audited(
    audited: FlowService, people: dict[str, Principal], sessions: sessionmaker[Session]
) -> None:
    n1, n1b = at_desk(audited, people["n1"]), at_desk(audited, people["n1b"])
    d = answer_call(n1)  # N1's dossier in progress: another N1 does not see it
    hidden = n1b.refused("dossier.get", dossier_id=d["id"])
    missing = n1b.refused("dossier.get", dossier_id=999)
    assert hidden.code == missing.code == "not_found"
    assert hidden.message == f"dossier {d['id']} introuvable ou non accessible"
    assert d["number"] not in hidden.message and "n1" not in hidden.message
    rows = reads(sessions)
    assert [(r.username, r.desk, r.dossier_id, r.granted, r.detail) for r in rows] == [
        ("n1b", "poste-n1b", d["id"], False, "not_found"),
        ("n1b", "poste-n1b", 999, False, "not_found"),
    ]
    assert rows[0].dossier_number == d["number"] and rows[1].dossier_number is None


def test_the_trail_cannot_be_updated_or_deleted(
    audited: FlowService, people: dict[str, Principal], sessions: sessionmaker[Session]
) -> None:
    n1 = at_desk(audited, people["n1"])
    d = answer_call(n1)
    n1.send("dossier.get", dossier_id=d["id"])
    for statement in (
        update(AuditRead).values(username="personne"),
        delete(AuditRead),
        text("UPDATE audit_reads SET granted = 0"),
    ):
        with pytest.raises(DatabaseError, match="append-only"), sessions.begin() as s:
            s.execute(statement)
    assert [r.username for r in reads(sessions)] == ["n1"]


def test_supervisor_lists_the_trail_and_no_one_else_does(
    audited: FlowService, people: dict[str, Principal], sessions: sessionmaker[Session]
) -> None:
    n1, mrl, sup = (at_desk(audited, people[n]) for n in ("n1", "mrl", "sup"))
    first = snp_dossier(n1, mrl, "call-1")
    second = snp_dossier(n1, mrl, "call-2")
    mrl.send("dossier.get", dossier_id=first)
    mrl.send("dossier.get", dossier_id=second)
    sup.send("dossier.get", dossier_id=first)
    at_desk(audited, people["osnp"]).refused("dossier.get", dossier_id=first)
    everything = sup.send("audit.list")["reads"]
    assert [r["username"] for r in everything] == ["osnp", "sup", "mrl", "mrl"]  # newest first
    number = everything[1]["dossier_number"]
    by_dossier = sup.send("audit.list", dossier=number)["reads"]
    assert {r["username"] for r in by_dossier} == {"mrl", "sup", "osnp"}
    assert [r["username"] for r in sup.send("audit.list", dossier=str(second))["reads"]] == ["mrl"]
    assert len(sup.send("audit.list", username="mrl")["reads"]) == 2
    refused = sup.send("audit.list", refused_only=True)["reads"]
    assert [(r["username"], r["granted"]) for r in refused] == [("osnp", False)]
    later = (NOW + timedelta(minutes=1)).isoformat()
    assert sup.send("audit.list", since=later)["reads"] == []
    page = sup.send("audit.list", limit=3)
    assert page["more"] is True and len(page["reads"]) == 3
    rest = sup.send("audit.list", before_id=page["reads"][-1]["id"])
    assert rest["more"] is False and [r["username"] for r in rest["reads"]] == ["mrl"]
    for who in ("n1", "mrl", "osnp"):
        assert at_desk(audited, people[who]).refused("audit.list").code == "forbidden"


async def test_over_the_hub_the_desk_named_at_login_is_recorded(hub: Hub) -> None:
    n1 = await logged_client(hub, "n1")
    await n1.request("call.offered", call_ref="c-1", line="15", caller="0600000000")
    dossier = (await n1.request("call.answered", call_ref="c-1"))["dossier"]
    await n1.request("dossier.get", dossier_id=dossier["id"])
    sup = await logged_client(hub, "sup")
    listed = await sup.request("audit.list", dossier=dossier["number"])
    assert [(r["username"], r["desk"], r["intent"], r["label"]) for r in listed["reads"]] == [
        ("n1", "poste-n1", "dossier.get", "consultation du dossier et de sa chronologie")
    ]
    await n1.close()
    await sup.close()


def sasdesk_audit(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return sasdesk("audit", "--db", db_url, *args)


def test_audit_command_by_dossier_user_and_date(
    db_url: str, audited: FlowService, people: dict[str, Principal]
) -> None:
    n1, mrl, osnp = (at_desk(audited, people[n]) for n in ("n1", "mrl", "osnp"))
    dossier_id = snp_dossier(n1, mrl)
    number = mrl.send("dossier.get", dossier_id=dossier_id)["dossier"]["number"]
    osnp.refused("dossier.get", dossier_id=dossier_id)
    out = sasdesk_audit(db_url, "--dossier", number)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == [
        "Date",
        "(Paris)",
        "Utilisateur",
        "Rôle",
        "Poste",
        "Dossier",
        "Lecture",
        "Résultat",
    ]
    assert "24/11/2026 09:30:00" in out.stdout  # 08:30 UTC is 09:30 in Paris
    assert any("mrl" in line and "poste-mrl" in line and "accordée" in line for line in lines)
    assert any("osnp" in line and "REFUSÉE (not_found)" in line for line in lines)
    assert "2 lecture(s)" in out.stdout
    as_json = json.loads(sasdesk_audit(db_url, "--user", "osnp", "--json").stdout)
    assert [(r["username"], r["granted"]) for r in as_json["reads"]] == [("osnp", False)]
    assert "Aucune lecture" in sasdesk_audit(db_url, "--since", "2026-11-25").stdout
    assert "2 lecture(s)" in sasdesk_audit(db_url, "--since", "2026-11-24").stdout
    refused = sasdesk_audit(db_url, "--since", "2026-11-24", "--refused").stdout
    assert "1 lecture(s)" in refused and "REFUSÉE" in refused and "accordée" not in refused
    by_id = json.loads(sasdesk_audit(db_url, "--dossier", str(dossier_id), "--json").stdout)
    assert {r["dossier_number"] for r in by_id["reads"]} == {number}
    mine = sasdesk_audit(db_url, "--user", "mrl", "--since", "2026-11-01").stdout
    assert "1 lecture(s)" in mine and "poste-mrl" in mine and "osnp" not in mine
    bad = sasdesk_audit(db_url, "--since", "hier")
    assert bad.returncode == 2 and "date invalide" in bad.stderr


@pytest.mark.peers
def test_postgresql_trigger_refuses_update_delete_truncate_unless_the_purge_gate_is_open(
    pg_sessions: sessionmaker[Session],
) -> None:
    from app.domain.enums import Role
    from app.hub.read_audit import record_read

    who = Principal(1, "mrl", "Dr M", Role.MRL, "poste-1")
    with pg_sessions.begin() as s:
        record_read(s, who, who.desk, 41, "dossier.get", at=NOW)
        record_read(s, who, who.desk, 42, "dossier.get", at=NOW)
    for statement in (
        "UPDATE audit_reads SET username = 'x'",
        "DELETE FROM audit_reads",
        "TRUNCATE audit_reads",
    ):
        with pytest.raises(DatabaseError, match="append-only"), pg_sessions.begin() as s:
            s.execute(text(statement))
    with pg_sessions.begin() as s:  # what the retention purge does, in one transaction
        s.execute(text("UPDATE audit_purge_gate SET open = true WHERE id = 1"))
        s.execute(text("DELETE FROM audit_reads WHERE dossier_id = 41"))
        s.execute(text("UPDATE audit_purge_gate SET open = false WHERE id = 1"))
    with pg_sessions() as s:
        assert [r.dossier_id for r in s.scalars(select(AuditRead))] == [42]
        assert s.scalar(text("SELECT open FROM audit_purge_gate")) is False


@pytest.mark.peers
def test_documented_postgresql_privileges_leave_the_hub_role_insert_only(
    postgres_server: str,
) -> None:
    import re

    from app.db.engine import make_engine
    from app.db.migrate import upgrade

    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    revokes = next(b for b in re.findall(r"```sql\n(.*?)```", doc, re.S) if "REVOKE" in b)
    engine = make_engine(postgres_server)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        conn.execute(text("DROP ROLE IF EXISTS sasdesk_hub; CREATE ROLE sasdesk_hub NOLOGIN"))
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "GRANT USAGE ON SCHEMA public TO sasdesk_hub; "
                "GRANT ALL ON ALL TABLES IN SCHEMA public TO sasdesk_hub; "
                "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO sasdesk_hub"
            )
        )
        conn.execute(text(revokes))
    insert = text(
        "INSERT INTO audit_reads (at, username, role, desk, intent, granted, detail) "
        "VALUES (now(), 'mrl', 'MRL', 'poste-1', 'dossier.get', true, '')"
    )
    for statement, allowed in (
        (insert, True),
        (text("SELECT count(*) FROM audit_reads"), True),
        (text("UPDATE audit_purge_gate SET open = true"), False),
        (text("DELETE FROM audit_reads"), False),
        (text("TRUNCATE audit_reads"), False),
    ):
        with engine.connect() as conn:
            conn.execute(text("SET ROLE sasdesk_hub"))
            if allowed:
                conn.execute(statement)
            else:
                with pytest.raises(DatabaseError, match="permission denied"):
                    conn.execute(statement)
            conn.rollback()
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        conn.execute(text("DROP ROLE sasdesk_hub"))
    engine.dispose()
