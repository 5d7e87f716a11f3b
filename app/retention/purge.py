"""The purge itself: one transaction deletes what the plan lists and journals it.

The database goes first, in one transaction (all or nothing); recording files are
removed only once it has committed, so a failure never leaves a row pointing at a
deleted file. The audit trail keeps the fact: each purged dossier gets an audit row
(intent ``retention.purge``), and each kind purged a ``purge_journal`` row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.callback.models import Appointment, CallbackAttempt, CallbackTarget, Reminder
from app.db.audit import AuditPurgeGate, AuditRead
from app.db.models import Call, Dossier, Event, OsnpTask
from app.directory.models import Booking
from app.interop.hubsante.models import HsCase, HsJournal, HsOutbox
from app.recordings.models import Recording
from app.recordings.store import RecordingStore
from app.retention.models import PurgeJournal
from app.retention.plan import PurgePlan

log = logging.getLogger(__name__)
PURGE_INTENT = "retention.purge"


@dataclass
class PurgeReport:
    dossiers: int = 0
    calls: int = 0
    recordings: int = 0
    audit_rows: int = 0
    files_left: list[str] = field(default_factory=list)


def _purge_dossiers(s: Session, plan: PurgePlan) -> None:
    ids = [d.id for d in plan.dossiers]
    calls = [d.call_id for d in plan.dossiers if d.call_id is not None]
    calls += [c.id for c in plan.calls]
    tasks = list(s.scalars(select(OsnpTask.id).where(OsnpTask.dossier_id.in_(ids))))
    for model in (Reminder, CallbackAttempt, Appointment, CallbackTarget):
        s.execute(delete(model).where(model.task_id.in_(tasks)))
    s.execute(update(Booking).where(Booking.dossier_id.in_(ids)).values(dossier_id=None))
    # Hub Santé: the shared case and the messages exchanged about it (RS-EDA bodies hold
    # the patient's data); messages tied to no dossier once older than the period; the
    # outbox's copies once sent and older than the period (the journal keeps the body).
    cutoff = plan.periods.dossiers.cutoff(plan.now)
    s.execute(delete(HsCase).where(HsCase.dossier_id.in_(ids)))
    s.execute(
        delete(HsJournal).where(
            or_(
                HsJournal.dossier_id.in_(ids),
                HsJournal.dossier_id.is_(None) & (HsJournal.at < cutoff),
            )
        )
    )
    s.execute(delete(HsOutbox).where(HsOutbox.sent_at.is_not(None), HsOutbox.created_at < cutoff))
    s.execute(
        delete(Event).where(
            or_(Event.dossier_id.in_(ids), Event.task_id.in_(tasks), Event.call_id.in_(calls))
        )
    )
    s.execute(delete(OsnpTask).where(OsnpTask.id.in_(tasks)))
    s.execute(delete(Dossier).where(Dossier.id.in_(ids)))
    s.execute(delete(Call).where(Call.id.in_(calls)))


def _purge_audit(s: Session, plan: PurgePlan) -> None:
    cutoff = plan.periods.audit.cutoff(plan.now)
    # The trigger lets DELETE through only while the gate is open, in this transaction.
    s.execute(update(AuditPurgeGate).where(AuditPurgeGate.id == 1).values(open=True))
    s.execute(delete(AuditRead).where(AuditRead.at < cutoff))
    s.execute(update(AuditPurgeGate).where(AuditPurgeGate.id == 1).values(open=False))


def _journal(s: Session, plan: PurgePlan, actor: str) -> None:
    cut = plan.cutoffs()
    p = plan.periods
    entries: tuple[tuple[str, int, datetime, str, dict[str, Any]], ...] = (
        (
            "dossiers",
            len(plan.dossiers),
            cut["dossiers"],
            p.dossiers.describe(),
            {"numbers": [d.number for d in plan.dossiers]},
        ),
        (
            "calls",
            len(plan.calls),
            cut["dossiers"],
            p.dossiers.describe(),
            {"call_refs": [c.call_ref for c in plan.calls]},
        ),
        (
            "recordings",
            len(plan.recordings),
            cut["recordings"],
            p.recordings.describe(),
            {"ids": [r.id for r in plan.recordings], "bytes": sum(r.size for r in plan.recordings)},
        ),
        ("audit", plan.audit_rows, cut["audit"], p.audit.describe(), {}),
    )
    for kind, count, cutoff, period, detail in entries:
        if count:
            s.add(
                PurgeJournal(
                    at=plan.now,
                    actor=actor,
                    kind=kind,
                    cutoff=cutoff,
                    period=period,
                    count=count,
                    detail=detail,
                )
            )


def purge(
    sessions: sessionmaker[Session], plan: PurgePlan, store: RecordingStore | None, actor: str
) -> PurgeReport:
    """Delete what ``plan`` lists (made by plan_purge just before) and journal it."""
    with sessions.begin() as s:
        s.execute(delete(Recording).where(Recording.id.in_([r.id for r in plan.recordings])))
        _purge_dossiers(s, plan)
        if plan.audit_rows:
            _purge_audit(s, plan)
        for d in plan.dossiers:  # the dossier is gone: its number comes from the plan
            s.add(
                AuditRead(
                    at=plan.now,
                    user_id=None,
                    username="sasdesk purge",
                    role="",
                    desk=actor[:255],
                    dossier_id=d.id,
                    dossier_number=d.number,
                    intent=PURGE_INTENT,
                    granted=True,
                    detail="supprimé : durée de conservation échue",
                )
            )
        _journal(s, plan, actor)
    report = PurgeReport(len(plan.dossiers), len(plan.calls), len(plan.recordings), plan.audit_rows)
    for r in plan.recordings:
        if not r.stored_name or store is None:
            continue
        try:
            store.path(r.stored_name).unlink(missing_ok=True)
        except (OSError, ValueError) as exc:
            log.error("recording file %s not deleted: %s", r.stored_name, exc)
            report.files_left.append(r.stored_name)
    if report.files_left:
        with sessions.begin() as s:
            s.add(
                PurgeJournal(
                    at=plan.now,
                    actor=actor,
                    kind="recording_files_left",
                    cutoff=None,
                    period="",
                    count=len(report.files_left),
                    detail={"files": report.files_left},
                )
            )
    return report
