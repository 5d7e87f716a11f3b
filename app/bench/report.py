"""``sasdesk bench report``: a month of 100,000 dossiers, then time the report and the
live view.

The month is written straight into a temporary SQLite, in the shapes the hub writes
(``app.hub.service``, ``app.directory.hub``; ``tests/stats/test_bench.py`` checks them
against the real service). Timed: building the whole monthly report (median of
several runs) against a same-run baseline, a plain full read of the events table;
then the live view's update latency (event received → view recomputed) under a
steady stream of events produced by the real flow service.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_sessionmaker
from app.db.migrate import upgrade
from app.db.models import Call, Commune, Dossier, OsnpTask, User
from app.demo.seed import load_territory
from app.directory.models import Effecteur, Practice, Slot
from app.domain.enums import Role
from app.hub.events import EventName
from app.hub.protocol import IntentName
from app.stats.calendar import Period
from app.stats.projection import rebuild

if TYPE_CHECKING:
    from app.hub.auth import Principal


def _iso(at: datetime) -> str:
    return at.isoformat()


_WANTED = [("10", "SM54")] * 8 + [("10", "SM40"), ("60", "")]


#: Who decided, as the hub writes it (a password session: no national identifier).
_DECIDED_BY = {"national_id": "", "auth": "password"}


class MonthWriter:
    """Writes calls, dossiers, tasks, bookings and their events for one month."""

    def __init__(self, sessions: sessionmaker[Session], period: Period, seed: int = 17):
        self.sessions = sessions
        self.period = period
        self.rng = random.Random(seed)
        self.events: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self.dossiers: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        self.slots: list[tuple[int, int, datetime]] = []  # (slot id, effecteur id, start)
        self.booking_id = 0
        self.facts: dict[str, int] = {}  # rows per fact table, once written
        self.rebuild_seconds = 0.0

    def setup(self) -> None:
        territory = load_territory()
        with self.sessions.begin() as s:
            for username, role in (
                ("n1", Role.ARM_N1),
                ("mrl", Role.MRL),
                ("amu", Role.MEDECIN_AMU),
                ("n2", Role.ARM_N2),
                ("osnp", Role.OSNP),
            ):
                s.add(
                    User(
                        username=username, display_name=username, role=str(role), password_hash="-"
                    )
                )
            for c in territory["communes"]:
                s.add(
                    Commune(
                        insee=c["insee"],
                        name=c["name"],
                        postal_codes=" ".join(c.get("postal_codes", [])),
                        sector=c["sector"],
                    )
                )
            self.communes = [(c["insee"], c["name"]) for c in territory["communes"]]
            doctors = []
            for i, (insee, _name) in enumerate(self.communes):
                e = Effecteur(rpps=f"{10**10 + i}", last_name=f"Médecin {i}")
                e.practices.append(Practice(name="Cabinet", commune_insee=insee))
                s.add(e)
                doctors.append(e)
            s.flush()
            slots = []
            for day in self.period.days():
                for e in doctors:
                    start = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
                    for k in range(6):
                        slots.append(
                            Slot(
                                effecteur_id=e.id,
                                practice_id=e.practices[0].id,
                                start=start + timedelta(minutes=15 * k),
                                end=start + timedelta(minutes=15 * (k + 1)),
                            )
                        )
            s.add_all(slots)
            s.flush()
            self.slots = [(x.id, x.effecteur_id, x.start) for x in slots]
            self.users = {u.username: u.id for u in s.query(User)}

    def _event(
        self,
        at: datetime,
        type_: str,
        actor: str,
        *,
        dossier: int | None = None,
        task: int | None = None,
        call: int | None = None,
        **data: Any,
    ) -> None:
        self.events.append(
            {
                "at": at,
                "type": type_,
                "actor_id": self.users[actor],
                "dossier_id": dossier,
                "task_id": task,
                "call_id": call,
                "data": data,
            }
        )

    def dossier(self, n: int, at: datetime) -> None:
        """One call, its dossier and what follows, in the hub's event shapes."""
        r = self.rng
        d = n
        call_id, answered = self._answered_call(d, at)
        t, prio, track, queue = self._qualified(d, answered, call_id)
        if prio == "P3":
            self._close(d, t, None, prio, None, at)
            return
        t += timedelta(minutes=r.uniform(1, 20))
        taker = "mrl" if track == "SNP" else "amu"
        self._event(t, EventName.DOSSIER_TAKEN, taker, dossier=d, queue=queue, waited_seconds=300.0)
        if track == "SNP" and r.random() < 0.05:
            self._event(
                t,
                EventName.DOSSIER_TRACK_MOVED,
                taker,
                dossier=d,
                queue="AMU_MEDECIN",
                from_track="SNP",
                to_track="AMU",
                reason="aggravation",
            )
            track, taker = "AMU", "amu"
            self._event(
                t,
                EventName.DOSSIER_TAKEN,
                taker,
                dossier=d,
                queue="AMU_MEDECIN",
                waited_seconds=60.0,
            )
        t += timedelta(minutes=5)
        if track == "SNP" and r.random() < 0.35:
            self._task(d, t, at, prio)
            return
        decision = "CONSEIL" if track == "SNP" else r.choice(("INTER", "ORIENT", "CONSEIL"))
        self._event(
            t,
            EventName.DOSSIER_DECIDED,
            taker,
            dossier=d,
            decision=decision,
            care_level="R3",
            filiere=track,
            orientation="URGENCES" if decision == "ORIENT" else None,
            means="SMUR" if decision == "INTER" else None,
            track=track,
            decided_by=_DECIDED_BY,
        )
        self._close(d, t + timedelta(minutes=1), track, prio, decision, at)

    def _answered_call(self, d: int, at: datetime) -> tuple[int, datetime]:
        """The call offered at ``at``, answered, and its dossier ``d`` opened."""
        r = self.rng
        line = "116117" if r.random() < 0.4 else "15"
        call_id = len(self.calls) + 1
        wait = r.expovariate(1 / 18)
        self.calls.append(
            {
                "id": call_id,
                "call_ref": f"bench-{call_id}",
                "line": line,
                "caller": "0600000000",
                "offered_at": at,
                "desks_rung": 1,
            }
        )
        self._event(
            at,
            EventName.CALL_OFFERED,
            "n1",
            call=call_id,
            line=line,
            caller="0600000000",
            offered_at=at.isoformat(),
        )
        answered = at + timedelta(seconds=wait)
        self.dossiers.append(
            {
                "id": d,
                "number": f"B-{d:07d}",
                "line": line,
                "status": "CLOSED",
                "opened_by_id": self.users["n1"],
                "answered_at": answered,
                "call_id": call_id,
            }
        )
        self._event(
            answered, EventName.CALL_ANSWERED, "n1", call=call_id, wait_seconds=round(wait, 3)
        )
        self._event(
            answered,
            EventName.DOSSIER_OPENED,
            "n1",
            dossier=d,
            line=line,
            caller="0600000000",
            call_id=call_id,
        )
        return call_id, answered

    def _qualified(
        self, d: int, answered: datetime, call_id: int
    ) -> tuple[datetime, str, str | None, str | None]:
        """The dossier's commune and motif typed in, its priority (track and queue), the
        call ended: when, the priority, the track, the queue."""
        r = self.rng
        insee, name = r.choice(self.communes)
        t = answered + timedelta(seconds=40)
        self._event(
            t,
            EventName.DOSSIER_UPDATED,
            "n1",
            dossier=d,
            fields={"commune_insee": insee, "commune_name": name},
        )
        self._event(t, EventName.DOSSIER_UPDATED, "n1", dossier=d, fields={"motif": "fièvre"})
        x = r.random()
        prio = "P3" if x < 0.1 else "P0" if x < 0.15 else "P1" if x < 0.5 else "P2"
        t += timedelta(seconds=60)
        track = {"P0": "AMU", "P1": "AMU", "P2": "SNP", "P3": None}[prio]
        queue = {"P0": "AMU_MEDECIN", "P1": "AMU_N2", "P2": "SNP", "P3": None}[prio]
        self._event(
            t,
            EventName.DOSSIER_QUALIFIED,
            "n1",
            dossier=d,
            priority=prio,
            queue=queue,
            track=track,
            reflex=prio == "P0",
        )
        self._event(
            t + timedelta(seconds=20),
            EventName.CALL_ENDED,
            "n1",
            call=call_id,
            reason="hangup",
            abandoned=False,
            talk_seconds=120.0,
            ended_at=(t + timedelta(seconds=20)).isoformat(),
        )
        return t, prio, track, queue

    def _task(self, d: int, t: datetime, rang: datetime, prio: str) -> None:
        r = self.rng
        task = len(self.tasks) + 1
        # Most consultations a GP's, some a paediatrician's or a nurse's (not drawn from
        # the generator: the month's other figures stay those of the same seed).
        profession, specialty = _WANTED[task % len(_WANTED)]
        self.tasks.append(
            {
                "id": task,
                "dossier_id": d,
                "status": "DONE",
                "consultation_type": "cabinet",
                "profession": profession,
                "specialty": specialty,
                "created_at": t,
                "deadline_at": t + timedelta(hours=48),
            }
        )
        self._event(
            t,
            EventName.DOSSIER_DECIDED,
            "mrl",
            dossier=d,
            task=task,
            decision="ORIENT",
            care_level="R3",
            filiere="SNP",
            orientation="CONSULTATION_48H",
            consultation_type="cabinet",
            profession=profession,
            specialty=specialty,
            track="SNP",
            decided_by=_DECIDED_BY,
        )
        self._event(
            t,
            EventName.TASK_CREATED,
            "mrl",
            dossier=d,
            task=task,
            deadline_at=_iso(t + timedelta(hours=48)),
        )
        t += timedelta(minutes=r.uniform(2, 90))
        self._event(t, EventName.TASK_TAKEN, "osnp", dossier=d, task=task, waited_seconds=600.0)
        t += timedelta(minutes=r.uniform(3, 30))
        x = r.random()
        outcome = (
            "RDV_MT"
            if x < 0.35
            else "RDV_CONFRERE"
            if x < 0.45
            else "RDV_CRENEAU"
            if x < 0.75
            else "RDV_HORS_DISPO"
            if x < 0.8
            else "SANS_SOLUTION"
        )
        appt = self._appointment(d, t, outcome)
        self._event(
            t,
            EventName.TASK_CLOSED,
            "osnp",
            dossier=d,
            task=task,
            outcome=outcome,
            no_solution_reason="AUCUN_CRENEAU" if outcome == "SANS_SOLUTION" else None,
            appointment_at=_iso(appt) if appt else None,
            seconds_to_outcome=round((t - self.tasks[-1]["created_at"]).total_seconds(), 3),
        )
        self._close(d, t, "SNP", prio, "ORIENT", rang, task)

    def _appointment(self, d: int, t: datetime, outcome: str) -> datetime | None:
        """The appointment an outcome gives, if any: a slot booked (or a booking beyond
        the slots, both as ``slot.booked``), or one the treating doctor or a confrère
        gave."""
        r = self.rng
        appt = None
        if outcome in ("RDV_CRENEAU", "RDV_HORS_DISPO"):
            slot_id, eff, start = self.slots[r.randrange(len(self.slots))]
            self.booking_id += 1
            appt = start if outcome == "RDV_CRENEAU" else t + timedelta(hours=3)
            booking = {
                "id": self.booking_id,
                "slot_id": slot_id if outcome == "RDV_CRENEAU" else None,
                "effecteur_id": eff,
                "effecteur": "Dr",
                "appointment_at": _iso(appt),
                "type": "cabinet",
                "dossier_id": d,
                "requires_call": False,
                "agenda_status": "",
                "booking_page": "",
                "released_at": None,
            }
            self._event(
                t,
                EventName.SLOT_BOOKED,
                "osnp",
                booking=booking,
                slot=None,
                weekly_snp=1,
                weekly_cap=20,
            )
        elif outcome != "SANS_SOLUTION":
            appt = t + timedelta(hours=5)
        return appt

    def _close(
        self,
        d: int,
        t: datetime,
        track: str | None,
        prio: str,
        decision: str | None,
        rang: datetime,
        task: int | None = None,
    ) -> None:
        self._event(
            t,
            EventName.DOSSIER_CLOSED,
            "osnp" if task else "n1",
            dossier=d,
            task=task,
            reason="fin",
            track=track,
            priority=prio,
            decision=decision,
            total_seconds=round((t - rang).total_seconds(), 3),
        )

    def abandoned(self, at: datetime) -> None:
        call_id = len(self.calls) + 1
        self.calls.append(
            {
                "id": call_id,
                "call_ref": f"bench-{call_id}",
                "line": "15",
                "caller": "0600000000",
                "offered_at": at,
                "desks_rung": 3,
                "abandoned": True,
            }
        )
        self._event(
            at,
            EventName.CALL_OFFERED,
            "n1",
            call=call_id,
            line="15",
            caller="0600000000",
            offered_at=at.isoformat(),
        )
        gave_up = at + timedelta(seconds=self.rng.uniform(5, 120))
        self._event(
            gave_up,
            EventName.CALL_ENDED,
            "n1",
            call=call_id,
            reason="caller_gave_up",
            abandoned=True,
            talk_seconds=0.0,
            ended_at=gave_up.isoformat(),
        )

    def write(self, dossiers: int) -> int:
        span = (self.period.end - self.period.start).total_seconds() - 6 * 3600
        starts = sorted(self.rng.uniform(0, span) for _ in range(dossiers))
        for n, offset in enumerate(starts, start=1):
            self.dossier(n, self.period.start + timedelta(seconds=offset))
            if n % 25 == 0:
                self.abandoned(self.period.start + timedelta(seconds=offset + 7))
        self.events.sort(key=lambda e: e["at"])
        # Events go in through the driver (1M rows): stored exactly as the UTCDateTime and
        # JSON column types store them on SQLite (naive UTC text, JSON text).
        rows = [
            (
                e["at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                e["type"],
                e["actor_id"],
                e["dossier_id"],
                e["task_id"],
                e["call_id"],
                json.dumps(e["data"]),
            )
            for e in self.events
        ]
        with self.sessions.begin() as s:
            s.execute(insert(Call), self.calls)
            s.execute(insert(Dossier), self.dossiers)
            s.execute(insert(OsnpTask), self.tasks)
            s.connection().exec_driver_sql(
                "INSERT INTO events (at, type, actor_id, dossier_id, task_id, call_id, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        # The events went in beside the hub, so its projector did not see them: the facts
        # are folded from the log as migration 0004 folds an existing database's.
        t0 = time.perf_counter()
        with self.sessions.begin() as s:
            self.facts = rebuild(s.connection())
        self.rebuild_seconds = time.perf_counter() - t0
        return len(self.events)


#: The monthly report of 100,000 dossiers (issue 17).
TARGET_SECONDS = 0.3


def _report_parts(sessions: sessionmaker[Session], period: Period, runs: int) -> dict[str, Any]:
    """Median wall and CPU time of the report's largest reads, each timed alone: the
    calls and the dossiers counted by the database, the searches counted in one pass
    (with the bookings and appointments they need, read as facts)."""
    from app.stats.aggregates import call_groups, dossier_counts
    from app.stats.facts import gc_paused, load_facts
    from app.stats.searches import search_counts
    from app.stats.territory import load_territory

    def searches(s: Session) -> Any:
        facts = load_facts(s, period, searches_only=True, searches=False)
        standing = facts.standing_bookings()
        return search_counts(s.connection(), period, load_territory(s), standing, {})

    def on_connection(fn: Any) -> Any:
        def run() -> None:
            with gc_paused(), sessions() as s:  # as build_report runs them
                fn(s)

        return run

    timed = {
        "calls_counted": lambda s: call_groups(s.connection(), period, lambda c: c or ""),
        "dossiers_counted": lambda s: dossier_counts(s.connection(), period),
        "searches_counted": searches,
    }
    out = {}
    for name, fn in timed.items():
        t = _timed(on_connection(fn), runs)
        out[name] = {"median": t["median"], "cpu_median": t["cpu_median"]}
    return out


def _timed(fn: Any, runs: int) -> dict[str, Any]:
    """Wall and CPU time of ``runs`` runs. The CPU time of this process is what a
    shared, busy machine does not inflate (the report and the scan are single-threaded)."""
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {
        "median": round(statistics.median(wall), 3),
        "runs": [round(x, 3) for x in wall],
        "cpu_median": round(statistics.median(cpu), 3),
    }


def _live_people(sessions: sessionmaker[Session]) -> dict[str, Principal]:
    """The live bench's two accounts, an N1 operator and an MRL, by username."""
    from app.hub.auth import principal_of

    with sessions.begin() as s:
        for username, role in (("n1", Role.ARM_N1), ("mrl", Role.MRL)):
            s.add(User(username=username, display_name=username, role=str(role), password_hash="-"))
    with sessions() as s:
        return {u.username: principal_of(u) for u in s.query(User)}


def live_latency(seconds: float, rate: float, seed: int = 17) -> dict[str, Any]:
    """Steady stream from the real flow service; latency = event produced → view ready."""
    from app.flow.protocol import INTENTS as FLOW_INTENTS
    from app.flow.service import FlowService
    from app.hub.protocol import Wire, parse_intent
    from app.stats.live import LiveState

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'live.sqlite3'}")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        people = _live_people(sessions)
        service = FlowService(sessions)
        wire = Wire(FLOW_INTENTS)  # the flow's intents only: no extension is installed
        live = LiveState()
        rng = random.Random(seed)
        latencies: list[float] = []
        events = 0
        open_calls: list[str] = []
        queued: list[int] = []
        n = 0

        def send(who: str, type_: str, **payload: Any) -> dict[str, Any]:
            nonlocal events
            outcome = service.handle(
                people[who], parse_intent(json.dumps({"type": type_, **payload}), wire)
            )
            for e in outcome.events:
                t0 = time.perf_counter()
                live.apply(json.loads(json.dumps(e.message)))  # as received from the socket
                live.view(datetime.now(UTC))
                latencies.append((time.perf_counter() - t0) * 1000)
                events += 1
            return outcome.reply

        interval = 1 / rate
        start = time.perf_counter()
        next_at = start
        while time.perf_counter() - start < seconds:
            x = rng.random()
            if x < 0.35 or not open_calls:
                n += 1
                open_calls.append(f"live-{n}")
                send("n1", IntentName.CALL_OFFERED, call_ref=open_calls[-1], line="15")
            elif x < 0.7:
                ref = open_calls.pop(0)
                d = send("n1", IntentName.CALL_ANSWERED, call_ref=ref)["dossier"]["id"]
                send("n1", IntentName.DOSSIER_QUALIFY, dossier_id=d, priority="P2")
                send("n1", IntentName.CALL_ENDED, call_ref=ref, reason="hangup")
                queued.append(d)
            elif queued:
                send("mrl", IntentName.DOSSIER_TAKE, dossier_id=queued.pop(0))
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        elapsed = time.perf_counter() - start
        engine.dispose()
    ordered = sorted(latencies)

    def q(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 4)

    return {
        "events": events,
        "seconds": round(elapsed, 2),
        "events_per_second": round(events / elapsed, 1),
        "update_latency_ms": {"p50": q(50), "p99": q(99), "max": round(ordered[-1], 4)},
        "state": {
            "calls_ringing": len(live.ringing),
            "dossiers_queued": len(live.queued),
            "calls_in_window": len(live.recent),
        },
    }


def run_report_bench(
    dossiers: int,
    runs: int = 5,
    month: str = "2023-06",
    live_seconds: float = 20.0,
    live_rate: float = 50.0,
) -> dict[str, Any]:
    from app.stats.report import build_report

    period = Period.parse_month(month)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        writer = MonthWriter(sessions, period)
        t0 = time.perf_counter()
        writer.setup()
        n_events = writer.write(dossiers)
        generate = time.perf_counter() - t0

        def baseline() -> int:
            con = sqlite3.connect(path)
            try:
                return len(con.execute("SELECT * FROM events").fetchall())
            finally:
                con.close()

        def report() -> Any:
            with sessions() as s:
                return build_report(s, period)

        base = _timed(baseline, runs)
        rep = _timed(report, runs)
        parts = _report_parts(sessions, period, runs)
        r = report()
        engine.dispose()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "bench": "report",
        "month": month,
        "dossiers": dossiers,
        "events": n_events,
        "generate_seconds": round(generate, 2),
        "facts_rebuild": {
            "seconds": round(writer.rebuild_seconds, 2),
            "rows": writer.facts,
            "what": "the whole log folded into the fact tables (as the "
            "migration's backfill), inside generate_seconds",
        },
        "report_seconds": rep,
        "baseline_full_scan_seconds": {
            **base,
            "what": "SELECT * FROM events, every row fetched (sqlite3)",
        },
        "report_over_baseline": round(rep["median"] / base["median"], 2)
        if base["median"]
        else None,
        "report_parts_seconds": parts,
        "target_seconds": TARGET_SECONDS,
        "within_target": rep["median"] < TARGET_SECONDS,
        "machine": {"cpus": os.cpu_count(), "load_average_1min": load},
        "report_check": {
            "dossiers_counted": r.dossiers.total,
            "calls_offered": r.calls.offered,
            "osnp_tasks": r.monthly.total.values["dossiers_osnp"],
            "transformation_rate": r.dossiers.transformation_rate,
        },
        "live": live_latency(live_seconds, live_rate),
    }
