"""Who sees a dossier, a task or a call: the same rule for snapshots and broadcasts."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.db.models import Dossier, OsnpTask
from app.domain.enums import DossierStatus, Queue, Role
from app.domain.rules import QUEUE_READERS, ROLES_SEEING_CALLS, ROLES_SEEING_TASKS
from app.hub.auth import Principal


@dataclass
class Audience:
    """Roles and users an event goes to. Supervisors always see everything."""

    roles: set[Role] = field(default_factory=lambda: {Role.SUPERVISEUR})
    users: set[int] = field(default_factory=set)

    def admits(self, principal: Principal) -> bool:
        return principal.role in self.roles or principal.user_id in self.users

    def add_dossier(self, d: Dossier, task: OsnpTask | None = None) -> Audience:
        if d.queue:
            self.roles |= QUEUE_READERS[Queue(d.queue)]
        if task is not None or d.status == DossierStatus.AWAITING_OSNP:
            self.roles |= ROLES_SEEING_TASKS
        for uid in (d.owner_id, d.opened_by_id, d.decided_by_id, task.owner_id if task else None):
            if uid is not None:
                self.users.add(uid)
        return self


def calls_audience() -> Audience:
    return Audience(roles=set(ROLES_SEEING_CALLS))


def can_see_dossier(p: Principal, d: Dossier, task: OsnpTask | None) -> bool:
    return Audience().add_dossier(d, task).admits(p)
