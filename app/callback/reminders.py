"""Reminders and deadlines: what is due, and the hub's scheduler that fires it on time.

Why our own table and not APScheduler's SQLAlchemyJobStore: a retry is asked for by
an intent, and must exist if and only if that intent's transaction commits (the
attempt, its event and its reminder together). The job store writes on its own
connection, pickles callables, and keeps a table outside our migrations. So
``cb_reminders`` is the truth; on start the scheduler reads the pending rows and
arms one APScheduler date job per due time (in memory), and each job fires every
reminder due by then. A reminder due while the hub was down fires at start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from app.callback.models import CallbackTarget, Reminder
from app.callback.settings import Settings
from app.callback.vocab import ReminderKind
from app.db.models import OsnpTask
from app.domain.enums import Role, TaskStatus
from app.hub.events import EventName
from app.hub.service import HubService, Outgoing, Unit
from app.hub.views import iso
from app.hub.visibility import Audience

log = logging.getLogger(__name__)

#: How often the scheduler looks for new tasks to watch (deadline, closing time).
SCAN_EVERY = timedelta(seconds=60)


def _supervisor_and_owner(task: OsnpTask) -> Audience:
    users = {task.owner_id} if task.owner_id is not None else set()
    return Audience(roles={Role.SUPERVISEUR}, users=users)


def pending(session: Any) -> list[Reminder]:
    return list(
        session.scalars(
            select(Reminder)
            .where(Reminder.fired_at.is_(None), Reminder.cancelled_at.is_(None))
            .order_by(Reminder.due_at, Reminder.id)
        )
    )


def cancel_for_task(
    session: Any, task_id: int, now: datetime, kinds: tuple[ReminderKind, ...] = tuple(ReminderKind)
) -> int:
    rows = session.scalars(
        select(Reminder).where(
            Reminder.task_id == task_id,
            Reminder.fired_at.is_(None),
            Reminder.cancelled_at.is_(None),
            Reminder.kind.in_([str(k) for k in kinds]),
        )
    ).all()
    for r in rows:
        r.cancelled_at = now
    return len(rows)


def watch_tasks(u: Unit, settings: Settings) -> list[Reminder]:
    """Arm the deadline and closing-time reminders of every open task that lacks them."""
    tasks = u.s.scalars(select(OsnpTask).where(OsnpTask.status != TaskStatus.DONE)).unique().all()
    if not tasks:
        return []
    existing: dict[tuple[int, str], list[Reminder]] = {}
    for r in u.s.scalars(
        select(Reminder).where(
            Reminder.task_id.in_([t.id for t in tasks]),
            Reminder.kind.in_([str(ReminderKind.DEADLINE), str(ReminderKind.OUTSIDE_HOURS)]),
        )
    ):
        existing.setdefault((r.task_id, r.kind), []).append(r)
    added = []
    for t in tasks:
        if not existing.get((t.id, str(ReminderKind.DEADLINE))):
            due = max(t.created_at, t.deadline_at - settings.deadline_warning)
            added.append(
                Reminder(
                    kind=str(ReminderKind.DEADLINE),
                    task_id=t.id,
                    due_at=due,
                    created_at=u.now,
                    data={"deadline_at": iso(t.deadline_at)},
                )
            )
        if settings.is_open(u.now):
            closing, due = settings.next_closing(u.now), settings.next_closing(u.now)
        else:  # closed now: one alert for this closed period, at once
            closing, due = max(settings.last_closing(u.now), t.created_at), u.now
        keys = {
            r.data.get("closing") for r in existing.get((t.id, str(ReminderKind.OUTSIDE_HOURS)), [])
        }
        if iso(closing) not in keys and due < t.deadline_at:
            added.append(
                Reminder(
                    kind=str(ReminderKind.OUTSIDE_HOURS),
                    task_id=t.id,
                    due_at=due,
                    created_at=u.now,
                    data={"closing": iso(closing)},
                )
            )
    u.s.add_all(added)
    u.s.flush()
    return added


def fire_due(u: Unit) -> int:
    """Fire every reminder due by ``u.now``: one event each, to whom it concerns."""
    fired = 0
    for r in u.s.scalars(
        select(Reminder)
        .where(
            Reminder.fired_at.is_(None), Reminder.cancelled_at.is_(None), Reminder.due_at <= u.now
        )
        .order_by(Reminder.due_at, Reminder.id)
        # Several hubs on one PostgreSQL: each due reminder is fired by one of them.
        .with_for_update(skip_locked=True)
    ).all():
        task = u.s.get(OsnpTask, r.task_id)
        if task is None or task.status == TaskStatus.DONE:
            r.cancelled_at = u.now
            continue
        r.fired_at = u.now
        fired += 1
        late = round((u.now - r.due_at).total_seconds(), 3)
        d = task.dossier
        patient = " ".join(x for x in (d.patient_first_name, d.patient_last_name) if x)
        if r.kind == ReminderKind.RETRY:
            target = u.s.get(CallbackTarget, r.target_id) if r.target_id else None
            user = r.user_id if r.user_id is not None else task.owner_id
            audience = Audience(roles=set(), users={user} if user is not None else set())
            if not audience.users:
                audience = _supervisor_and_owner(task)
            u.emit(
                EventName.CALLBACK_REMINDER,
                audience,
                task=task,
                dossier=d,
                reminder_id=r.id,
                target_id=r.target_id,
                target=target.name if target else "",
                phone=(target.phone_direct or target.phone_secretary) if target else "",
                due_at=iso(r.due_at),
                late_seconds=late,
                message=f"Rappeler {target.name if target else ''} pour {patient}".strip(),
            )
        elif r.kind == ReminderKind.DEADLINE:
            left = (task.deadline_at - u.now).total_seconds() / 3600
            u.emit(
                EventName.CALLBACK_DEADLINE_NEAR,
                _supervisor_and_owner(task),
                task=task,
                dossier=d,
                reminder_id=r.id,
                deadline_at=iso(task.deadline_at),
                hours_left=round(left, 2),
                message=f"Recherche de RDV pour {patient} : échéance de 48 h dans "
                f"{max(left, 0):.1f} h",
            )
        else:
            u.emit(
                EventName.CALLBACK_OUTSIDE_HOURS,
                _supervisor_and_owner(task),
                task=task,
                dossier=d,
                reminder_id=r.id,
                closing=r.data.get("closing"),
                message=f"SAS fermé : la recherche de RDV pour {patient} est toujours "
                "ouverte (PDSA ou reprise à l'ouverture)",
            )
    return fired


Runner = Callable[[Callable[[], list[Outgoing]]], Awaitable[list[Outgoing]]]
#: Another feature's due things on the same scheduler (the bookings left pending at an
#: agenda editor): called in the scheduler's units, it fires what is due by ``u.now``
#: and returns when its next ones fall due.
Watcher = Callable[[Unit], list[datetime]]


class ReminderScheduler:
    """APScheduler in the hub's loop: one date job per due time, plus a periodic scan.

    ``clock`` is the hub's clock (a test may shift it); APScheduler runs on real time,
    so a due time is armed at ``real now + (due - clock())``.
    """

    def __init__(
        self,
        service: HubService,
        settings: Settings,
        run: Runner,
        broadcast: Callable[[list[Outgoing]], None],
    ):
        self.service = service
        self.settings = settings
        self.run = run
        self.broadcast = broadcast
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.watchers: list[Watcher] = []

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.scheduler.start()
        self.scheduler.add_job(
            self.scan,
            IntervalTrigger(seconds=SCAN_EVERY.total_seconds()),
            id="callback-scan",
            coalesce=True,
            max_instances=1,
        )
        await self.scan()

    async def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def _unit_work(self, fn: Callable[[Unit], Any]) -> Callable[[], list[Outgoing]]:
        def work() -> list[Outgoing]:
            return self.service.run_unit(fn)[1]

        return work

    async def scan(self) -> None:
        """Arm reminders for new tasks, fire what is due, arm a job for every due time."""
        dues: list[datetime] = []

        def work(u: Unit) -> None:
            watch_tasks(u, self.settings)
            fire_due(u)
            dues.extend(r.due_at for r in pending(u.s))
            for watcher in self.watchers:
                dues.extend(watcher(u))

        try:
            self.broadcast(await self.run(self._unit_work(work)))
        except Exception:
            log.exception("call-back reminders: scan failed")
        for due in dues:
            self.arm(due)

    def arm(self, due: datetime) -> None:
        """Fire at ``due`` (hub clock). Thread-safe: the writer thread calls it."""
        if self.loop is None:
            return
        if _on_loop(self.loop):
            self._arm(due)
        else:
            self.loop.call_soon_threadsafe(self._arm, due)

    def _arm(self, due: datetime) -> None:
        if not self.scheduler.running:
            return
        delay = (due - self.service.clock()).total_seconds()
        run_at = datetime.now(UTC) + timedelta(seconds=max(0.0, delay))
        self.scheduler.add_job(
            self.fire,
            DateTrigger(run_date=run_at),
            id=f"callback-due-{due.isoformat()}",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    async def fire(self) -> None:
        dues: list[datetime] = []

        def work(u: Unit) -> None:
            fire_due(u)
            for watcher in self.watchers:
                dues.extend(watcher(u))

        try:
            self.broadcast(await self.run(self._unit_work(work)))
        except Exception:
            log.exception("call-back reminders: firing failed")
        for due in dues:
            if due > self.service.clock():
                self.arm(due)


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
