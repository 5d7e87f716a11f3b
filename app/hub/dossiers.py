"""The kernel's access to dossiers, shared by every feature that touches one.

A dossier is loaded locked and only if the desk may see it, its OSNP task found the
same way everywhere, and every change to it bumps its version and goes out as an event
to whoever could see it before and after: the flow, the caller history, recordings and
exports all go through these functions instead of each writing its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import bindparam, select

from app.db.fast import Fast
from app.db.models import Dossier, OsnpTask
from app.domain.enums import DossierStatus
from app.domain.permissions import Action, require
from app.domain.rules import FlowError
from app.hub.events import EventName
from app.hub.flush import row_class
from app.hub.read_audit import record_read, refused_read
from app.hub.visibility import Audience, can_see_dossier

if TYPE_CHECKING:
    from app.hub.service import Unit

#: Built once: each unit only binds its id (a statement built per call costs the single
#: writer its construction and its cache key, on every intent).
LOCKED_DOSSIER = select(Dossier).where(Dossier.id == bindparam("id")).with_for_update()
TASK_OF_DOSSIER = select(OsnpTask).where(OsnpTask.dossier_id == bindparam("dossier_id"))


def visible_dossier(u: Unit, dossier_id: int) -> Dossier:
    """The dossier, locked for this unit, if the desk may see it; else ``not_found``."""
    # FOR UPDATE: several hubs may share one PostgreSQL (a no-op on SQLite, where the
    # single writer already serialises everything).
    d = locked_dossier(u, dossier_id)
    assert u.actor is not None
    if d is None or not can_see_dossier(u.actor, d, task_of(u, d)):
        raise FlowError("not_found", f"dossier {dossier_id} introuvable ou non accessible")
    return d


def locked_dossier(u: Unit, dossier_id: int) -> Dossier | None:
    """The dossier, locked for this unit (whoever may see it), or None."""
    return u.s.scalars(LOCKED_DOSSIER, {"id": dossier_id}).first()


def task_of(u: Unit, d: Dossier) -> OsnpTask | None:
    """The dossier's OSNP task, if one matters to who may see the dossier."""
    # A task exists only once a doctor has oriented to a consultation; a dossier in
    # qualification or regulation has none that matters (a cancelled one is done).
    if d.status not in (DossierStatus.AWAITING_OSNP, DossierStatus.CLOSED):
        return None
    return u.s.scalars(TASK_OF_DOSSIER, {"dossier_id": d.id}).first()


def dossier_event(
    u: Unit,
    type_: EventName,
    d: Dossier,
    before: Audience | None = None,
    task: OsnpTask | None = None,
    **data: Any,
) -> None:
    """A change to the dossier: its version bumped, the event told to whoever could see
    it ``before`` the change and can see it now."""
    d.version += 1
    d.updated_at = u.now
    audience = before or Audience()
    audience.add_dossier(d, task)
    u.emit(type_, audience, dossier=d, task=task, **data)


def read_dossier(u: Unit, dossier_id: int, intent: str) -> Dossier:
    """A dossier whose content is about to be shown: visibility checked, read audited.

    Every read path (open, timeline, exports, recordings played…) goes through here
    or calls app.audit.record_read (app.hub.read_audit) itself; a refusal is audited
    too.
    """
    assert u.actor is not None
    try:
        require(u.actor.role, Action.READ_DOSSIERS)  # the role first: it names nothing
        d = visible_dossier(u, dossier_id)
    except FlowError as exc:
        raise refused_read(exc, dossier_id, intent) from None
    record_read(u.s, u.actor, u.actor.desk, d.id, intent, at=u.now)
    return d


def audited_visible_dossier(u: Unit, dossier_id: int, intent: str) -> Dossier:
    """``visible_dossier`` for a feature that shows a dossier's content under its own
    permission (exports, recordings, the platform's search): a refusal is an audited
    refused read of ``intent`` and answers ``not_found`` whether the dossier is absent
    or hidden; the feature records the granted read once it shows the content."""
    try:
        return visible_dossier(u, dossier_id)
    except FlowError as exc:
        raise refused_read(exc, dossier_id, intent) from None


# -- the same reads with Core rows (app.hub.flush.Row), for the flow's hot path -----------

_DOSSIERS: Any = Dossier.__table__
_TASKS: Any = OsnpTask.__table__
_DOSSIER_KEYS = tuple(_DOSSIERS.c.keys())
_TASK_KEYS = tuple(_TASKS.c.keys())
LOCKED_DOSSIER_ROW = Fast(
    select(*_DOSSIERS.c).where(_DOSSIERS.c.id == bindparam("id")).with_for_update()
)
TASK_ROW_OF_DOSSIER = Fast(select(*_TASKS.c).where(_TASKS.c.dossier_id == bindparam("dossier_id")))


def locked_dossier_row(u: Unit, dossier_id: int) -> Dossier | None:
    """:func:`locked_dossier` as a Core row the unit writes back (no ORM object)."""
    found = LOCKED_DOSSIER_ROW.first(u.conn, {"id": dossier_id})
    if found is None:
        return None
    return cast(Dossier, u.track(row_class(Dossier)(dict(zip(_DOSSIER_KEYS, found, strict=True)))))


def task_row_of(u: Unit, d: Dossier) -> OsnpTask | None:
    """:func:`task_of` as a Core row, its ``dossier`` set to ``d``."""
    if d.status not in (DossierStatus.AWAITING_OSNP, DossierStatus.CLOSED):
        return None
    found = TASK_ROW_OF_DOSSIER.first(u.conn, {"dossier_id": d.id})
    if found is None:
        return None
    task = u.track(row_class(OsnpTask)(dict(zip(_TASK_KEYS, found, strict=True))))
    task.__dict__["dossier"] = d
    return cast(OsnpTask, task)


def visible_dossier_row(u: Unit, dossier_id: int) -> Dossier:
    """:func:`visible_dossier` as a Core row: locked, and only if the desk may see it."""
    d = locked_dossier_row(u, dossier_id)
    assert u.actor is not None
    if d is None or not can_see_dossier(u.actor, d, task_row_of(u, d)):
        raise FlowError("not_found", f"dossier {dossier_id} introuvable ou non accessible")
    return d
