"""``sasdesk bench soak``: calls, desks and hubs under kill -9, then count what was lost.

SIPp callers dial 15 through the room's Kamailio; N headless desks (each its own
process: ``app.bench.soak_desk``) answer, record, open and qualify the dossier, and
upload the recording; doctors and OSNPs (hub clients in this process,
``app.bench.soak_office``) carry the dossiers to their end, booking multi-patient
ranges. Meanwhile a seeded chaos schedule kills -9 a hub, a desk (one in a call, if
one is within a few seconds) or Kamailio at random moments and restarts it. Then the
database is checked against everything the hub acknowledged (``app.bench.soak_check``);
every call must have ended (a desk killed mid-call ends its call at its next start).
Bounded: the run stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.bench.flow import PASSWORD, free_port, percentile, prepare_db
from app.bench.hubproc import bench_env, hub_command
from app.domain.enums import Role
from app.hub.protocol import IntentName

if TYPE_CHECKING:
    from app.bench.soak_office import Office
    from telephony.kamailio import KamailioRoom
    from telephony.kamailio.sipp import Sipp

DOMAIN = "sas.local"
HUB_RESTART_TIMEOUT = 180.0  # a loaded machine starts Python slowly
OFFICE = (Role.MRL, Role.MRL, Role.MEDECIN_AMU, Role.OSNP, Role.OSNP, Role.SUPERVISEUR)


@dataclass
class SoakConfig:
    calls: int = 1000
    desks: int = 10
    rate: float = 4.0
    kills: int | None = None  # default: one per 50 calls, at least 2
    seed: int = 1
    db_url: str | None = None
    pg_temp: bool = False
    hubs: int = 1
    talk_ms: int = 1500
    restart_after: float = 0.5

    @property
    def kill_count(self) -> int:
        return self.kills if self.kills is not None else max(2, self.calls // 50)


class Proc:
    """A child process we may kill -9 and start again; its JSON lines go to a callback."""

    def __init__(self, name: str, cmd: list[str], on_line: Any = None, log: Path | None = None):
        self.name = name
        self.cmd = cmd
        self.on_line = on_line
        self.log = log
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        err = self.log.open("a") if self.log is not None else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            self.cmd,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=bench_env(),  # bytecode cached, as an installed hub and desk have it
        )
        if self.log is not None:
            err.close()  # type: ignore[union-attr]
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if self.on_line is not None and line.startswith("{"):
                with contextlib.suppress(ValueError):
                    self.on_line(self.name, json.loads(line))

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Milestones:
    """Each desk's ``ready`` / ``registered`` reports, to time its return after a kill."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    events: list[tuple[str, str, float, str]] = field(default_factory=list)
    hub_of: dict[str, str] = field(default_factory=dict)

    refusals: Counter[str] = field(default_factory=Counter)

    def on_line(self, desk: str, msg: dict[str, Any]) -> None:
        if msg.get("ev") in ("refused", "gave_up"):
            self.refusals[f"{msg['ev']}:{msg.get('type')}:{msg.get('code', '')}"] += 1
        with self.lock:
            self.events.append(
                (desk, msg.get("ev", ""), float(msg.get("t", 0)), msg.get("hub", ""))
            )
            if msg.get("ev") == "ready":
                self.hub_of[desk] = msg.get("hub", "")

    def first_after(self, desk: str, kind: str, after: float) -> float | None:
        with self.lock:
            times = [t for d, k, t, _h in self.events if d == desk and k == kind and t > after]
        return min(times) if times else None


def _seed_ranges(url: str, count: int = 20) -> list[int]:
    """Multi-patient ranges ("0/3") the OSNPs book: the bench checks none is overbooked."""
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.types import utcnow
    from app.directory.models import Effecteur, Practice, Slot, bump_revision

    engine = make_engine(url)
    with make_sessionmaker(engine).begin() as s:
        rev = bump_revision(s)
        e = Effecteur(
            rpps="10000000001",
            last_name="Soak",
            sas_participant=True,
            agenda_level="end_to_end",
            phone_direct="0600000000",
            rev=rev,
        )
        e.practices.append(
            Practice(
                name="Cabinet",
                address="1 rue du Port",
                commune_insee="17300",
                commune_name="La Rochelle",
                lat=46.16,
                lon=-1.15,
            )
        )
        s.add(e)
        s.flush()
        start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
        slots = [
            Slot(
                effecteur_id=e.id,
                practice_id=e.practices[0].id,
                start=start + timedelta(hours=i),
                end=start + timedelta(hours=i + 1),
                capacity=3,
                booked=0,
                is_range=True,
                visibility="SNP",
                rev=rev,
            )
            for i in range(count)
        ]
        s.add_all(slots)
        s.flush()
        ids = [slot.id for slot in slots]
    engine.dispose()
    return ids


@contextlib.contextmanager
def database(cfg: SoakConfig, tmp: Path) -> Iterator[str]:
    if cfg.pg_temp:
        from app.bench.pgtemp import postgres_cluster

        with postgres_cluster() as url:
            yield url
    else:
        yield cfg.db_url or f"sqlite:///{tmp / 'soak.sqlite3'}"


def run_soak(cfg: SoakConfig) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sasdesk-soak-") as tmp_name:
        tmp = Path(tmp_name)
        with database(cfg, tmp) as url:
            if url.startswith("sqlite") and cfg.hubs > 1:
                raise ValueError(
                    "plusieurs hubs demandent PostgreSQL (--db postgresql://… ou --pg-temp)"
                )
            roles = [Role.ARM_N1] * cfg.desks + list(OFFICE)
            prepare_db(url, roles)
            slots = _seed_ranges(url)
            return asyncio.run(_soak(cfg, url, roles, tmp, slots))


@dataclass
class _SoakRun:
    """One soak run's children and what its phases measure, from start to summary."""

    cfg: SoakConfig
    tmp: Path
    store: Path
    rng: random.Random
    ports: list[int]
    urls: list[str]
    hubs: list[Proc]
    room: KamailioRoom
    marks: Milestones
    desks: list[Proc]
    office: Office | None = None
    sipp: Sipp | None = None
    kills: list[dict[str, Any]] = field(default_factory=list)
    started: float = 0.0
    # Measured by _run_calls.
    sipp_code: int | None = None
    sipp_counts: dict[str, int] = field(default_factory=dict)
    drain_s: float = 0.0
    wall: float = 0.0


async def _soak(
    cfg: SoakConfig, url: str, roles: list[Role], tmp: Path, slots: list[int]
) -> dict[str, Any]:
    run = _prepare(cfg, url, tmp)
    try:
        await _run_calls(run, roles, slots)
    finally:
        await _tear_down(run)
    return _summary(run, url)


def _prepare(cfg: SoakConfig, url: str, tmp: Path) -> _SoakRun:
    """The hubs', the room's and the desks' processes, not started yet."""
    from telephony.kamailio import Desk, KamailioRoom
    from telephony.kamailio.room import free_udp_port

    store = tmp / "store"
    ports = [free_port() for _ in range(cfg.hubs)]
    urls = [f"ws://127.0.0.1:{p}" for p in ports]
    py = sys.executable
    hubs = [
        Proc(
            f"hub{i}",
            hub_command(url, p, store),
            log=tmp / f"hub{i}.log",
        )
        for i, p in enumerate(ports)
    ]
    sip_users = [Desk(f"soak{i}", f"soak-secret-{i}", "n1") for i in range(cfg.desks)]
    room = KamailioRoom(sip_users, domain=DOMAIN, max_expires=30)
    marks = Milestones()
    desks = [
        Proc(
            f"desk{i:02d}",
            [
                py,
                "-m",
                "app.bench.soak_desk",
                "--hubs",
                ",".join(urls[i % len(urls) :] + urls[: i % len(urls)]),
                "--user",
                f"desk{i:02d}",
                "--password",
                PASSWORD,
                "--sip",
                f"{room.host}:{room.port}",
                "--sip-user",
                d.user,
                "--sip-password",
                d.password,
                "--sip-port",
                str(free_udp_port()),
                "--domain",
                DOMAIN,
                "--data",
                str(tmp / f"desk{i:02d}"),
                "--seed",
                str(cfg.seed),
                "--answer-after",
                f"{0.05 + 0.03 * i:.2f}",
            ],
            marks.on_line,
            tmp / f"desk{i:02d}.log",
        )
        for i, d in enumerate(sip_users)
    ]
    return _SoakRun(
        cfg=cfg,
        tmp=tmp,
        store=store,
        rng=random.Random(cfg.seed),
        ports=ports,
        urls=urls,
        hubs=hubs,
        room=room,
        marks=marks,
        desks=desks,
    )


async def _run_calls(run: _SoakRun, roles: list[Role], slots: list[int]) -> None:
    """Start everything, place the calls with the kills on their schedule, then drain."""
    from app.bench.hubproc import wait_port
    from app.bench.soak_office import Office
    from telephony.kamailio.sipp import PCAPS, Sipp, caller_scenario

    cfg, marks, desks = run.cfg, run.marks, run.desks
    budget = cfg.calls / cfg.rate + 120
    run.started = time.monotonic()
    for hub, port in zip(run.hubs, run.ports, strict=True):
        hub.start()
        assert hub.proc is not None
        await asyncio.to_thread(wait_port, port, hub.proc)
    run.room.start()
    for desk in desks:
        desk.start()
    await _until(
        lambda: all(
            marks.first_after(d.name, "ready", 0) and marks.first_after(d.name, "registered", 0)
            for d in desks
        ),
        180,
        "desks ready and registered",
    )
    office = Office(run.urls, roles[cfg.desks :], first_user=cfg.desks, seed=cfg.seed, slots=slots)
    run.office = office
    await office.start()
    scenario = caller_scenario(
        DOMAIN, pcap=PCAPS / "g711a.pcap", talk_ms=cfg.talk_ms, answer_timeout_ms=8000
    )
    sipp = run.sipp = Sipp(
        scenario,
        proxy=(run.room.host, run.room.port),
        service="15",
        calls=cfg.calls,
        rate=cfg.rate,
        timeout_s=budget,
    )
    duration = cfg.calls / cfg.rate
    plan = sorted(run.rng.uniform(0.1, 0.85) * duration for _ in range(cfg.kill_count))
    sipp.start()
    t0 = time.monotonic()
    sipp_done = asyncio.ensure_future(asyncio.to_thread(sipp.wait, budget + 10))
    for at in plan:
        await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
        run.kills.append(
            await _kill_one(run.rng, cfg, run.hubs, run.ports, desks, run.room, marks, run.tmp)
        )
    run.sipp_code = await sipp_done
    # Let the desks upload and the office finish what is queued: as long as the
    # uploads go on (a loaded hub takes its time), never past DRAIN_MAX.
    drain_started = time.monotonic()
    await _drain(
        lambda: _settled(run.tmp, desks) and office.idle() and _all_back(run.kills, marks),
        lambda: _pending(run.tmp, desks),
    )
    run.drain_s = time.monotonic() - drain_started
    run.sipp_counts = sipp.counts()
    run.wall = time.monotonic() - run.started


async def _tear_down(run: _SoakRun) -> None:
    """Kill every child, whatever happened; keep the files if SASDESK_SOAK_KEEP says where."""
    for desk in run.desks:
        desk.kill()
    if run.office is not None:
        await run.office.stop()
    for hub in run.hubs:
        hub.kill()
    run.room.cleanup()
    if run.sipp is not None:
        run.sipp.cleanup()
    keep = os.environ.get("SASDESK_SOAK_KEEP")
    if keep:  # the desks' journals and logs, the hubs' logs, the store: to look into
        import shutil

        shutil.copytree(run.tmp, keep, dirs_exist_ok=True)


def _summary(run: _SoakRun, url: str) -> dict[str, Any]:
    """The database checked against every acknowledgement, with the run's measures."""
    from app.bench.soak_check import check

    cfg, tmp, desks, office, kills = run.cfg, run.tmp, run.desks, run.office, run.kills
    back = _back_times(kills, desks, run.marks)
    acks = _read_acks(tmp, desks) + (office.acks if office else [])
    kept = _kept_on_desks(tmp, desks)
    result = check(url, run.store, acks, office.seqs if office else [])
    result.update(
        {
            "calls_offered_sipp": run.sipp_counts.get("attempted"),
            "sipp_successful": run.sipp_counts.get("answered"),
            "sipp_failed": run.sipp_counts.get("failed"),
            "sipp_exit_code": run.sipp_code,
            "intents_acknowledged": len(acks),
            "desk_refusals": dict(run.marks.refusals),
            "office_refusals": dict(office.refusals) if office else {},
            "recordings_kept_on_desks": kept,
            "drain_s": round(run.drain_s, 1),
            "kills": [{k: v for k, v in kill.items() if k != "at"} for kill in kills],
            "desk_back_after_kill_s": {
                "p50": round(percentile(back, 50), 3) if back else None,
                "p99": round(percentile(back, 99), 3) if back else None,
                "max": round(max(back), 3) if back else None,
                "samples": len(back),
            },
            "calls": cfg.calls,
            "desks": cfg.desks,
            "rate": cfg.rate,
            "seed": cfg.seed,
            "hubs": cfg.hubs,
            "db": url.split(":", 1)[0],
            "wall_s": round(run.wall, 1),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
    )
    return result


#: A desk kill waits at most this long (seconds) for a desk to be in a call.
MID_CALL_WAIT = 5.0


async def _kill_one(
    rng: random.Random,
    cfg: SoakConfig,
    hubs: list[Proc],
    ports: list[int],
    desks: list[Proc],
    room: Any,
    marks: Milestones,
    tmp: Path,
) -> dict[str, Any]:
    from app.bench.hubproc import wait_port

    target = rng.choice(["hub", "desk", "kamailio"])
    at = time.time()
    mid_call: bool | None = None
    if target == "hub":
        i = rng.randrange(len(hubs))
        name = hubs[i].name
        with marks.lock:
            affected = [d for d, h in marks.hub_of.items() if h.endswith(f":{ports[i]}")]
        hubs[i].kill()
        await asyncio.sleep(cfg.restart_after)
        hubs[i].start()
        proc = hubs[i].proc
        assert proc is not None
        await asyncio.to_thread(wait_port, ports[i], proc, HUB_RESTART_TIMEOUT)
    elif target == "desk":
        # A desk in a call if there is one: the call it leaves open must be ended at its
        # next start (calls_not_ended), and only a kill mid-call tests that. Chosen
        # without the seeded generator, so the rest of the schedule stays the seed's.
        chosen = rng.choice(desks)
        waited = time.monotonic() + MID_CALL_WAIT
        while not (in_call := [d for d in desks if _in_call(tmp, d)]):
            if time.monotonic() > waited:
                break
            await asyncio.sleep(0.05)
        desk = chosen if chosen in in_call or not in_call else in_call[0]
        name, affected, mid_call = desk.name, [desk.name], bool(in_call)
        desk.kill()
        await asyncio.sleep(cfg.restart_after)
        desk.start()
    else:
        name, affected = "kamailio", [d.name for d in desks]
        await asyncio.to_thread(room.kill)
        await asyncio.sleep(cfg.restart_after)
        await asyncio.to_thread(room.start)
    kill = {"target": name, "kind": target, "at": at, "affected": affected, "t": round(at, 3)}
    if mid_call is not None:
        kill["mid_call"] = mid_call
    return kill


def _in_call(tmp: Path, desk: Proc) -> bool:
    """The desk is in an incoming call (its recording not finished) that the hub knows
    it answered (acknowledged)."""
    try:
        entries = json.loads((tmp / desk.name / "recordings.json").read_text() or "{}")
        acks = (tmp / desk.name / "acks.jsonl").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False
    answered = set()
    for line in acks.splitlines():
        with contextlib.suppress(ValueError):  # a line cut by kill -9
            record = json.loads(line)
            if record.get("type") == IntentName.CALL_ANSWERED:
                answered.add(record.get("call_ref"))
    return any(
        e.get("direction") == "in" and not e.get("path") and ref in answered
        for ref, e in entries.items()
    )


def _back_times(kills: list[dict[str, Any]], desks: list[Proc], marks: Milestones) -> list[float]:
    """Seconds from each kill to each affected desk being back (hub: logged in again;
    desk: logged in and registered; Kamailio: registered again)."""
    out = []
    for kill in kills:
        needs = _NEEDS[kill["kind"]]
        for desk in kill["affected"]:
            times = [marks.first_after(desk, kind, kill["at"]) for kind in needs]
            if all(t is not None for t in times):
                out.append(max(t for t in times if t is not None) - kill["at"])
            else:
                out.append(float("inf"))  # never came back: shows as an infinite p99
        kill["back_s"] = (
            [round(x, 3) for x in out[-len(kill["affected"]) :]] if kill["affected"] else []
        )
    return out


def _all_back(kills: list[dict[str, Any]], marks: Milestones) -> bool:
    """Every desk a kill touched has been back since (the run waits for them)."""
    return all(
        marks.first_after(desk, kind, kill["at"]) is not None
        for kill in kills
        for desk in kill["affected"]
        for kind in _NEEDS[kill["kind"]]
    )


_NEEDS = {"hub": ("ready",), "desk": ("ready", "registered"), "kamailio": ("registered",)}


#: The end-of-run drain gives up after this long without one more upload confirmed…
DRAIN_STALL = 90.0
#: … and in any case after this long.
DRAIN_MAX = 600.0


async def _drain(done: Any, pending: Any) -> bool:
    """Wait for ``done()``; bounded by DRAIN_MAX, and by DRAIN_STALL without progress
    (``pending()``, the recordings still on the desks, going down)."""
    started = last_progress = time.monotonic()
    least = pending()
    while not done():
        now = time.monotonic()
        if now - last_progress > DRAIN_STALL or now - started > DRAIN_MAX:
            return False
        await asyncio.sleep(0.5)
        left = pending()
        if left < least:
            least, last_progress = left, time.monotonic()
    return True


def _pending(tmp: Path, desks: list[Proc]) -> int:
    """Recordings the desks still hold and have not been refused (still to upload)."""
    return _kept_on_desks(tmp, desks).get("pending", 0)


def _settled(tmp: Path, desks: list[Proc]) -> bool:
    for desk in desks:
        journal = tmp / desk.name / "recordings.json"
        try:
            if journal.exists() and json.loads(journal.read_text() or "{}"):
                entries = json.loads(journal.read_text())
                # A call a crash interrupted is settled once the hub has ended it too.
                if any(not e.get("refused") or e.get("end_call") for e in entries.values()):
                    return False
        except ValueError:
            return False
    return True


def _kept_on_desks(tmp: Path, desks: list[Proc]) -> dict[str, int]:
    """Recordings a desk still holds at the end, by the hub's reason (never deleted)."""
    out: Counter[str] = Counter()
    for desk in desks:
        journal = tmp / desk.name / "recordings.json"
        with contextlib.suppress(OSError, ValueError):
            for entry in json.loads(journal.read_text() or "{}").values():
                out[entry.get("refused") or "pending"] += 1
    return dict(out)


def _read_acks(tmp: Path, desks: list[Proc]) -> list[dict[str, Any]]:
    acks = []
    for desk in desks:
        path = tmp / desk.name / "acks.jsonl"
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):  # a line cut by kill -9
                    acks.append({**json.loads(line), "desk": desk.name})
    return acks


async def _until(cond: Any, timeout: float, what: str, fail: bool = True) -> bool:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            if fail:
                raise RuntimeError(f"soak: {what} not reached in {timeout:g} s")
            return False
        await asyncio.sleep(0.2)
    return True
