"""Outbound: what happens to a dossier becomes an RS-EDA message in the outbox, in the
same transaction as the events that caused it; the connector publishes the outbox.

A message that fails the official schemas never leaves: it is journalled ``invalid``
with the reasons (the dossier's own change is kept — the desk must not lose work
because a message cannot be built).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config.settings import HubSanteSettings
from app.db.models import Dossier, OsnpTask, User
from app.domain.enums import Role
from app.hub.auth import hash_password
from app.hub.events import EventName
from app.hub.service import WrittenEvent
from app.interop.hubsante import mapping, messages
from app.interop.hubsante.models import HsCase, HsJournal, HsOutbox

log = logging.getLogger(__name__)

#: The events that send the dossier to the Hub Santé (created, qualified, decided,
#: moved between tracks, closed; the OSNP's appointment closes the task).
SHARED_EVENTS = frozenset(
    {EventName.DOSSIER_OPENED, EventName.DOSSIER_QUALIFIED, EventName.DOSSIER_DECIDED,
     EventName.DOSSIER_TRACK_MOVED, EventName.DOSSIER_CLOSED, EventName.TASK_CLOSED}
)  # fmt: skip
SYSTEM_USER = "hubsante"


def system_user(s: Session) -> int:
    """The account the connector acts as (inactive: nobody logs in with it)."""
    uid = s.scalar(select(User.id).where(User.username == SYSTEM_USER))
    if uid is None:
        user = User(
            username=SYSTEM_USER,
            display_name="Hub Santé (LRM)",
            role=str(Role.ARM_N1),
            password_hash=hash_password(secrets.token_urlsafe(32)),
            active=False,
        )
        s.add(user)
        s.flush()
        uid = user.id
    return int(uid)


def enqueue(
    s: Session,
    envelope: dict[str, Any],
    *,
    now: datetime,
    case_id: str = "",
    dossier_id: int | None = None,
) -> bool:
    """Journal an outbound message and put it in the outbox, if the schemas accept it."""
    message = messages.message_of(envelope) or {}
    key = messages.content_key(message) or ""
    found = messages.problems(envelope)
    body = json.dumps(envelope, ensure_ascii=False)
    s.add(
        HsJournal(
            direction="out",
            distribution_id=envelope["distributionID"],
            kind=envelope.get("distributionKind", ""),
            content=key,
            sender=envelope.get("senderID", ""),
            recipient=envelope["descriptor"]["explicitAddress"]["explicitAddressValue"],
            case_id=case_id,
            dossier_id=dossier_id,
            status="invalid" if found else "queued",
            error="; ".join(found),
            body=body,
            at=now,
        )
    )
    if found:
        log.error("Hub Santé: message %s refused by the schemas: %s",
                  envelope["distributionID"], found)  # fmt: skip
        return False
    s.add(HsOutbox(distribution_id=envelope["distributionID"], body=body, created_at=now))
    return True


class CaseProjector:
    """Registered in HubService.projectors: runs inside each unit of work."""

    def __init__(self, settings: HubSanteSettings, wake: Callable[[], None]):
        self.settings = settings
        self.wake = wake
        self.system_id: int | None = None

    def __call__(self, s: Session, events: list[WrittenEvent]) -> None:
        if self.system_id is None:
            self.system_id = system_user(s)
        queued = False
        done: set[int] = set()
        for e in events:
            if e.type not in SHARED_EVENTS or e.dossier_id is None:
                continue
            if e.actor_id == self.system_id:
                continue  # our own application of a received message: no echo
            if e.type == EventName.TASK_CLOSED and not (e.data or {}).get("appointment_at"):
                continue
            if e.dossier_id in done:
                continue  # one message per dossier and unit of work, as it stands at the end
            done.add(e.dossier_id)
            queued |= self.share(s, e.dossier_id, e.at)
        if queued:
            self.wake()

    def share(self, s: Session, dossier_id: int, now: datetime) -> bool:
        d = s.get(Dossier, dossier_id)
        if d is None:
            return False
        case = s.scalar(select(HsCase).where(HsCase.dossier_id == d.id))
        if case is None:
            if not self.settings.default_recipient:
                return False  # a local dossier, and nobody to share it with
            case = HsCase(
                case_id=f"{self.settings.client_id}.{d.number}",
                dossier_id=d.id,
                owner=self.settings.client_id,
                peer=self.settings.default_recipient,
                creation=messages.iso(d.answered_at),
                messages_sent=0,
            )
            s.add(case)
            s.flush()
        task = s.scalar(select(OsnpTask).where(OsnpTask.dossier_id == d.id))
        body = mapping.case_health(
            d, task, case_id=case.case_id, owner=case.owner, creation=case.creation
        )
        first = case.messages_sent == 0 and case.owner == self.settings.client_id
        kind = "Report" if first else "Update"
        envelope = messages.build(
            self.settings.client_id, case.peer, kind, "createCaseHealth", body, now=now,
            status=self.settings.status,
        )  # fmt: skip
        s.execute(
            update(HsCase)
            .where(HsCase.case_id == case.case_id)
            .values(messages_sent=HsCase.messages_sent + 1)
        )
        return enqueue(s, envelope, now=now, case_id=case.case_id, dossier_id=d.id)


def pending(s: Session, limit: int = 200) -> list[tuple[int, str, str]]:
    """(outbox id, distribution id, body) still to publish, oldest first."""
    rows = s.execute(
        select(HsOutbox.id, HsOutbox.distribution_id, HsOutbox.body)
        .where(HsOutbox.sent_at.is_(None))
        .order_by(HsOutbox.id)
        .limit(limit)
    )
    return [(int(i), str(d), str(b)) for i, d, b in rows]


def mark_sent(s: Session, ids: list[int], distribution_ids: list[str], now: datetime) -> None:
    if not ids:
        return
    s.execute(update(HsOutbox).where(HsOutbox.id.in_(ids)).values(sent_at=now))
    s.execute(
        update(HsJournal)
        .where(HsJournal.direction == "out", HsJournal.distribution_id.in_(distribution_ids),
               HsJournal.status == "queued")
        .values(status="sent", sent_at=now)
    )  # fmt: skip
