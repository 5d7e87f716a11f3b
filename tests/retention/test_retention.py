"""Retention: what is past its period is listed by ``sasdesk purge --dry-run``, deleted by
``sasdesk purge`` (database and recording files) and journalled; holds, a minor's 28th
birthday and a longer-kept recording keep a dossier; the audit trail keeps the fact."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.callback.hub import install as install_callback
from app.callback.models import CallbackTarget
from app.config.settings import RetentionSettings
from app.db.audit import AuditRead
from app.db.models import Call, Dossier, Event, OsnpTask
from app.db.types import utcnow
from app.directory.hub import install as install_directory
from app.flow.service import FlowService
from app.hub.auth import Principal
from app.interop.hubsante.models import HsCase, HsJournal, HsOutbox
from app.recordings.models import Recording
from app.retention import minor_keep_until, periods
from app.retention.models import PurgeJournal
from app.retention.plan import plan_purge
from tests import command
from tests.flow.flow_helpers import ORIENT_48H, Actor, answer_call, snp_dossier

ROOT = Path(__file__).resolve().parents[2]
NOW = utcnow()
OLD = NOW - relativedelta(years=21)


@dataclass
class Room:
    adult_old: str  # closed 21 years ago: goes
    minor_old: str  # a 3-year-old 21 years ago: kept until 28
    held_old: str  # goes once the hold is lifted
    recent: str  # closed a year ago: stays
    long_recorded: str  # old, but its recording is kept longer by the room
    store: Path


def closed_dossier(
    service: FlowService, people: dict[str, Principal], ref: str, age: int, with_plan: bool = False
) -> str:
    n1, mrl, osnp = (Actor(service, people[n]) for n in ("n1", "mrl", "osnp"))
    dossier_id = snp_dossier(n1, mrl, ref)
    mrl.send("dossier.update", dossier_id=dossier_id, fields={"patient_age": age})
    task = mrl.send("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)["task"]
    osnp.send("task.take", task_id=task["id"])
    if with_plan:
        assert osnp.send("callback.plan", task_id=task["id"])["plan"]["targets"]
    out = osnp.send(
        "task.close",
        task_id=task["id"],
        outcome="SANS_SOLUTION",
        no_solution_reason="AUCUN_CRENEAU",
    )
    mrl.send("dossier.get", dossier_id=dossier_id)  # an audit row, as old as the dossier
    return str(out["dossier"]["number"])


def recording(sessions: sessionmaker[Session], store: Path, number: str, at: datetime) -> str:
    with sessions.begin() as s:
        d = s.scalar(select(Dossier).where(Dossier.number == number))
        assert d is not None and d.call_id is not None
        name = f"{at:%Y-%m-%d}/{d.call_id}.wav"
        (store / name).parent.mkdir(parents=True, exist_ok=True)
        (store / name).write_bytes(b"RIFF" + bytes(1000))
        s.add(
            Recording(
                call_id=d.call_id,
                dossier_id=d.id,
                uploaded_by_id=d.opened_by_id,
                sha256="0" * 64,
                size=1004,
                state="stored",
                stored_name=name,
                started_at=at,
                stored_at=at,
            )
        )
    return name


@pytest.fixture
def room(sessions: sessionmaker[Session], people: dict[str, Principal], tmp_path: Path) -> Room:
    old = FlowService(sessions, clock=lambda: OLD)
    install_directory(old)
    install_callback(old)
    adult = closed_dossier(old, people, "old-1", 40, with_plan=True)
    minor = closed_dossier(old, people, "old-2", 3)
    held = closed_dossier(old, people, "old-3", 50)
    long_recorded = closed_dossier(old, people, "old-4", 60)
    n1 = Actor(old, people["n1"])
    n1.send("call.offered", call_ref="gave-up", line="15", caller="0600000009")
    n1.send("call.ended", call_ref="gave-up", reason="caller_gave_up")
    recent = closed_dossier(
        FlowService(sessions, clock=lambda: NOW - timedelta(days=365)), people, "new-1", 40
    )
    with sessions.begin() as s:  # the adult's case was shared on the Hub Santé
        d = s.scalar(select(Dossier).where(Dossier.number == adult))
        kept = s.scalar(select(Dossier).where(Dossier.number == minor))
        assert d is not None and kept is not None
        s.add(
            HsCase(
                case_id="fr.health.samu170.old",
                dossier_id=d.id,
                owner="fr.health.samu170",
                peer="fr.health.samu440",
                creation="OWN",
            )
        )
        for n, dossier_id in enumerate((d.id, kept.id, None)):
            s.add(
                HsJournal(
                    direction="out",
                    distribution_id=f"m-{n}",
                    status="acked",
                    dossier_id=dossier_id,
                    body='{"patient": "..."}',
                    at=OLD,
                )
            )
        s.add(HsOutbox(distribution_id="m-0", body="{}", created_at=OLD, sent_at=OLD))
    store = tmp_path / "store"
    recording(sessions, store, adult, OLD)
    recording(sessions, store, recent, NOW - timedelta(days=365))
    recording(sessions, store, long_recorded, NOW - relativedelta(years=2))  # re-recorded
    return Room(adult, minor, held, recent, long_recorded, store)


def sasdesk(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return command.sasdesk(*args, "--db", db_url, timeout=120)


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as s:
        return {
            m.__tablename__: int(s.scalar(select(func.count()).select_from(m)) or 0)
            for m in (Dossier, Call, Event, OsnpTask, CallbackTarget, Recording, AuditRead)
        }


def test_dry_run_lists_and_purge_deletes_and_journals(
    room: Room, db_url: str, sessions: sessionmaker[Session]
) -> None:
    held = sasdesk(db_url, "purge", "--hold", room.held_old, "--reason", "recours CCI 2026-17")
    assert held.returncode == 0 and "conservé" in held.stdout
    assert "recours CCI 2026-17" in sasdesk(db_url, "purge", "--holds").stdout
    before = counts(sessions)

    dry = sasdesk(db_url, "purge", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    listed = json.loads(dry.stdout)
    assert [d["number"] for d in listed["dossiers"]] == [room.adult_old]
    assert [c["call_ref"] for c in listed["calls"]] == ["gave-up"]
    assert [r["dossier_id"] for r in listed["recordings"]] == [listed["dossiers"][0]["id"]]
    assert listed["held"] == [room.held_old] and listed["minors_kept"] == [room.minor_old]
    assert listed["audit_rows"] == 4  # the four old dossier.get (the recent one stays)
    assert listed["periods"]["dossiers"] == "20 ans (Code de la santé publique, art. R1112-7)"
    text_dry = sasdesk(db_url, "purge", "--dry-run").stdout
    assert text_dry.startswith("Simulation : rien n'est supprimé.")
    assert f"  {room.adult_old}  clôturé le" in text_dry
    assert counts(sessions) == before  # a dry run deletes nothing

    done = sasdesk(db_url, "purge", "--recordings-store", str(room.store))
    assert done.returncode == 0, done.stderr
    assert "Supprimés : 1 dossier(s), 1 appel(s), 1 enregistrement(s), 4 trace(s)" in done.stdout
    with sessions() as s:
        numbers = set(s.scalars(select(Dossier.number)))
        assert numbers == {room.minor_old, room.held_old, room.recent, room.long_recorded}
        assert s.scalar(select(Call).where(Call.call_ref.in_(["gave-up", "old-1"]))) is None
        assert s.scalar(select(func.count()).select_from(CallbackTarget)) == 0
        assert s.scalar(select(func.count()).select_from(HsCase)) == 0
        assert s.scalar(select(func.count()).select_from(HsOutbox)) == 0
        left = s.scalars(select(HsJournal.distribution_id)).all()
        assert left == ["m-1"]  # the minor's dossier is kept, and its messages with it
        assert not (room.store / f"{OLD:%Y-%m-%d}").exists() or not any(
            (room.store / f"{OLD:%Y-%m-%d}").iterdir()
        )
        assert len(list(room.store.rglob("*.wav"))) == 2
        journal = {j.kind: j for j in s.scalars(select(PurgeJournal))}
        assert set(journal) == {"dossiers", "calls", "recordings", "audit"}
        assert journal["dossiers"].detail == {"numbers": [room.adult_old]}
        assert journal["audit"].count == 4 and journal["recordings"].detail["bytes"] == 1004
        assert s.scalar(text("SELECT open FROM audit_purge_gate")) in (0, False)
    after = counts(sessions)
    assert after["events"] < before["events"] and after["osnp_tasks"] == before["osnp_tasks"] - 1
    # The audit trail keeps the fact of the purge (and the recent reads).
    fact = sasdesk(db_url, "audit", "--dossier", room.adult_old)
    assert "sasdesk purge" in fact.stdout and "suppression (conservation échue)" in fact.stdout

    assert "Rien à supprimer" in sasdesk(db_url, "purge").stdout
    released = sasdesk(db_url, "purge", "--release", room.held_old)
    assert released.returncode == 0 and "levée" in released.stdout
    again = json.loads(sasdesk(db_url, "purge", "--dry-run", "--json").stdout)
    assert [d["number"] for d in again["dossiers"]] == [room.held_old]


def test_a_dossier_waits_for_the_newest_of_its_recordings(
    sessions: sessionmaker[Session], people: dict[str, Principal], tmp_path: Path
) -> None:
    """The newest recording is not the last uploaded: a desk killed mid-call uploads an
    older call placed from the search at its next start. The dossier and every one of
    its recordings stay until the newest is due."""
    old = FlowService(sessions, clock=lambda: OLD)
    install_directory(old)
    install_callback(old)
    number = closed_dossier(old, people, "old-5", 45)
    recent = NOW - relativedelta(years=2)  # within the recordings' period
    recording(sessions, tmp_path, number, recent)
    with sessions.begin() as s:
        d = s.scalar(select(Dossier).where(Dossier.number == number))
        assert d is not None
        s.add(
            Recording(
                placed_ref="f7-late@desk",
                placed_number="0546123456",
                placed_to="Dr Vasseur",
                dossier_id=d.id,
                uploaded_by_id=d.opened_by_id,
                sha256="1" * 64,
                size=2000,
                state="stored",
                stored_name="old/out-2.wav",
                started_at=OLD,
                stored_at=NOW,
            )
        )
    with sessions() as s:
        plan = plan_purge(s, periods(RetentionSettings()), NOW)
    assert [d.number for d in plan.dossiers] == []
    kept = [r for r in plan.recordings if r.started_at >= recent - timedelta(days=1)]
    assert kept == []  # the recent one is not purged early with its dossier


def test_holds_need_a_reason_and_a_dossier(room: Room, db_url: str) -> None:
    out = sasdesk(db_url, "purge", "--hold", room.held_old)
    assert out.returncode == 1 and "précisez le motif" in out.stderr
    out = sasdesk(db_url, "purge", "--hold", "99999999-999999", "--reason", "x")
    assert out.returncode == 1 and "introuvable" in out.stderr
    out = sasdesk(db_url, "purge", "--release", room.recent)
    assert out.returncode == 1 and "n'est pas suspendu" in out.stderr


def test_periods_minima_and_a_minors_28th_birthday() -> None:
    legal = periods(RetentionSettings())
    assert legal.below_minimum() == []
    assert legal.dossiers.cutoff(datetime(2026, 11, 24, tzinfo=UTC)) == datetime(
        2006, 11, 24, tzinfo=UTC
    )
    short = periods(RetentionSettings(dossiers_days=3650, recordings_days=100, audit_days=30))
    problems = short.below_minimum()
    assert len(problems) == 3
    assert "arrêté du 20 octobre 2011" in problems[1] and "R1112-7" in problems[0]
    assert "CNIL" in problems[2]
    longer = periods(RetentionSettings(recordings_days=3650))
    assert longer.below_minimum() == [] and "réglage de la salle" in longer.recordings.describe()
    closed = datetime(2006, 1, 10, 9, tzinfo=UTC)
    born = minor_keep_until(closed, date(2003, 5, 2), None)
    assert born == datetime(2031, 5, 2, 9, tzinfo=UTC)
    assert minor_keep_until(closed, None, 3) == closed + relativedelta(years=26)
    assert minor_keep_until(closed, None, 40) is None


@pytest.mark.peers
def test_purge_on_postgresql_opens_the_audit_gate_only_inside_its_transaction(
    pg_sessions: sessionmaker[Session], pg_people: dict[str, Principal], tmp_path: Path
) -> None:
    from app.recordings.store import RecordingStore
    from app.retention.plan import plan_purge
    from app.retention.purge import purge

    old = FlowService(pg_sessions, clock=lambda: OLD)
    number = closed_dossier(old, pg_people, "pg-old", 45)
    answer_call(Actor(FlowService(pg_sessions), pg_people["n1"]), "pg-new")
    with pg_sessions() as s:
        plan = plan_purge(s, periods(RetentionSettings()), utcnow())
    assert [d.number for d in plan.dossiers] == [number] and plan.audit_rows == 1
    report = purge(pg_sessions, plan, RecordingStore(tmp_path), "test@pg")
    assert (report.dossiers, report.audit_rows) == (1, 1)
    with pg_sessions() as s:
        assert s.scalar(select(Dossier).where(Dossier.number == number)) is None
        assert s.scalar(text("SELECT open FROM audit_purge_gate")) is False
        kept = list(s.scalars(select(AuditRead.intent)))
        assert kept == ["retention.purge"]


def test_the_room_configuration_sets_the_periods_and_their_floors(
    room: Room, db_url: str, tmp_path: Path
) -> None:
    import re

    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```toml\n(.*?)```", doc, re.S) if "[conservation]" in b)
    longer = tmp_path / "hub.toml"
    longer.write_text(f'[base]\nurl = "{db_url}"\n\n{block}', encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "purge", "--config", str(longer), "--dry-run", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert listed["periods"]["dossiers"] == "9131 jours (réglage de la salle)"
    assert listed["dossiers"] == []  # 25 years: nothing closed 21 years ago goes
    too_short = tmp_path / "short.toml"
    too_short.write_text(
        f'[base]\nurl = "{db_url}"\n\n[conservation]\nenregistrements_jours = 100\n',
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "purge", "--config", str(too_short)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "purge refusée" in out.stderr and "arrêté du 20 octobre 2011" in out.stderr
