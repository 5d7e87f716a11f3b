"""What a purge would delete now: read-only, the same list for ``--dry-run`` and the purge.

- A dossier goes once it is closed, its period is over (and, R1112-7, its patient is past
  their 28th birthday), it is not on hold, and its recording (if any) is due too; with it
  go its call, OSNP task, call-back rows, events and Hub Santé case and messages.
  Bookings keep the doctor's slot but lose the link to the dossier. Statistics facts
  (no names, no numbers) stay. Hub Santé messages older than the period go too.
- A call that never became a dossier (abandoned) goes after the dossiers' period.
- A recording goes after its own period, counted from the call, unless its dossier is
  on hold.
- Audit rows go after the audit period (the purge journal is never purged).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db.audit import AuditRead
from app.db.models import Call, Dossier
from app.domain.enums import DossierStatus
from app.recordings.models import Recording
from app.retention import Periods, minor_keep_until
from app.retention.models import RetentionHold


@dataclass(frozen=True)
class DossierDue:
    id: int
    number: str
    closed_at: datetime
    call_id: int | None


@dataclass(frozen=True)
class CallDue:
    id: int
    call_ref: str
    offered_at: datetime


@dataclass(frozen=True)
class RecordingDue:
    id: int
    call_id: int | None  # None: an outgoing call-back call (its attempt)
    dossier_id: int | None
    stored_name: str
    started_at: datetime
    size: int


@dataclass
class PurgePlan:
    now: datetime
    periods: Periods
    dossiers: list[DossierDue] = field(default_factory=list)
    calls: list[CallDue] = field(default_factory=list)
    recordings: list[RecordingDue] = field(default_factory=list)
    audit_rows: int = 0
    #: Dossiers past their period but kept: on hold, or a minor's until 28.
    held: list[str] = field(default_factory=list)
    minors_kept: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.dossiers or self.calls or self.recordings or self.audit_rows)

    def cutoffs(self) -> dict[str, datetime]:
        return {
            name: getattr(self.periods, name).cutoff(self.now)
            for name in ("dossiers", "recordings", "audit")
        }


def plan_purge(s: Session, periods: Periods, now: datetime) -> PurgePlan:
    plan = PurgePlan(now, periods)
    cut = plan.cutoffs()
    held = set(s.scalars(select(RetentionHold.dossier_id)))
    recordings = list(s.scalars(select(Recording).order_by(Recording.id)))
    # A dossier holds several recordings (incoming call, call-backs, calls placed from
    # the search): it waits for the one kept longest, whatever the order of upload.
    newest: dict[int, datetime] = {}
    for r in recordings:
        if r.dossier_id is not None:
            newest[r.dossier_id] = max(r.started_at, newest.get(r.dossier_id, r.started_at))
    for d in s.scalars(
        select(Dossier)
        .where(Dossier.status == DossierStatus.CLOSED, Dossier.closed_at < cut["dossiers"])
        .order_by(Dossier.closed_at, Dossier.id)
    ).unique():
        assert d.closed_at is not None
        if d.id in held:
            plan.held.append(d.number)
            continue
        minor = minor_keep_until(d.closed_at, d.patient_birth_date, d.patient_age)
        if minor is not None and minor > now:
            plan.minors_kept.append(d.number)
            continue
        latest = newest.get(d.id)
        if latest is not None and latest >= cut["recordings"]:
            continue  # a recording of it is kept longer: the dossier waits for it
        plan.dossiers.append(DossierDue(d.id, d.number, d.closed_at, d.call_id))
    going = {d.id for d in plan.dossiers}
    for r in recordings:
        if r.dossier_id in held:
            continue
        if r.started_at < cut["recordings"] or r.dossier_id in going:
            plan.recordings.append(
                RecordingDue(r.id, r.call_id, r.dossier_id, r.stored_name, r.started_at, r.size)
            )
    recorded = {r.call_id for r in recordings} - {r.call_id for r in plan.recordings}
    linked = select(Dossier.call_id).where(Dossier.call_id.is_not(None))
    plan.calls = [
        CallDue(c.id, c.call_ref, c.offered_at)
        for c in s.scalars(
            select(Call)
            .where(Call.offered_at < cut["dossiers"], Call.id.not_in(linked))
            .order_by(Call.offered_at, Call.id)
        )
        if c.id not in recorded
    ]
    plan.audit_rows = int(
        s.scalar(select(func.count()).select_from(AuditRead).where(AuditRead.at < cut["audit"]))
        or 0
    )
    return plan
