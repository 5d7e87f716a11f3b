"""The kernel's access to dossiers, shared by every feature that touches one.

A dossier is loaded locked and only if the desk may see it, its OSNP task found the
same way everywhere, and every change to it bumps its version and goes out as an event
to whoever could see it before and after: the flow, the caller history, recordings and
exports all go through these functions instead of each writing its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from app.db.models import Dossier, OsnpTask
from app.domain.enums import DossierStatus
from app.domain.permissions import Action, require
from app.domain.rules import FlowError
from app.hub.events import EventName
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
