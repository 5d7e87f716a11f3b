"""Inbound: a message from the Hub Santé, applied in one transaction on the writer.

Each message is journalled by its distribution id before anything else: one seen
already (a redelivery after a broker or hub restart) is not applied again. A
``createCaseHealth`` opens the dossier of its case in the right queue (an SNP case in
the MRL's queue) or updates it — the case id finds it, never a second dossier — and an
RC-REF acknowledgement goes back to the sender through the outbox. An ``appointment``
(RS-SAS-RDV) from the national platform is applied by app.interop.hubsante.platform_rdv the
same way. A message past its ``dateTimeExpires`` is not applied. A message that
fails the official schemas, or cannot be applied, changes nothing: it is journalled
``refused`` with its body (the supervisor sees it) and an RS-ERROR goes back.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.appointments.fhir import Issue
from app.config.settings import HubSanteSettings
from app.db.models import Dossier
from app.domain.enums import DossierStatus, Priority, Track
from app.domain.rules import TRACK_OF_QUEUE
from app.hub.events import EventName
from app.hub.service import HubService, Outgoing, Unit
from app.hub.visibility import Audience
from app.interop.hubsante import mapping, messages
from app.interop.hubsante import platform_rdv as platform
from app.interop.hubsante.messages import (
    DEAD_LETTER_QUEUED,
    INTERNAL_CLIENT_ERROR,
    UNKNOWN_SENDER,
    InvalidMessage,
    Parsed,
)
from app.interop.hubsante.models import HsCase, HsJournal
from app.interop.hubsante.outbox import enqueue, system_user
from app.interop.protocol import JournalRow

log = logging.getLogger(__name__)


def supervisors() -> Audience:
    from app.domain.enums import Role

    return Audience(roles={Role.SUPERVISEUR})


class Inbox:
    def __init__(self, service: HubService, settings: HubSanteSettings):
        self.service = service
        self.settings = settings

    def receive(self, raw: bytes) -> tuple[str, list[Outgoing]]:
        """Apply one delivery; returns what happened (for the log) and the events."""
        return self.receive_many([raw])[0]

    def receive_many(self, raws: list[bytes]) -> list[tuple[str, list[Outgoing]]]:
        """Apply deliveries in one transaction, each in its own savepoint (one that
        fails is refused alone); committed together before any is acknowledged."""
        now = self.service.clock()
        with self.service.sessions.begin() as s:
            return [self._receive_in(s, raw, now) for raw in raws]

    def _receive_in(self, s: Session, raw: bytes, now: datetime) -> tuple[str, list[Outgoing]]:
        try:
            parsed = messages.parse(raw)
        except InvalidMessage as refused:
            return "refused", self._refuse_in(s, raw, refused, now)
        seen = s.scalar(
            select(HsJournal.id).where(
                HsJournal.direction == "in", HsJournal.distribution_id == parsed.distribution_id
            )
        )
        if seen is not None:
            return "duplicate", []
        if parsed.key == "reference":
            return "acknowledged", self._acknowledged(s, parsed, raw, now)
        if parsed.key == "error":
            return "error", self._error_received(s, parsed, raw, now)
        if messages.expired(parsed.envelope, now):
            late = InvalidMessage(
                f"message {parsed.distribution_id} expiré le "
                f"{parsed.envelope['dateTimeExpires']} : ses données ne sont plus délivrées",
                parsed.envelope, DEAD_LETTER_QUEUED,
            )  # fmt: skip
            return "refused", self._refuse_in(s, raw, late, now)
        if parsed.key == platform.CONTENT:
            return self._appointment(s, parsed, raw, now)
        try:
            with s.begin_nested():
                unit = Unit(s, None, now, self.service.user)
                dossier_id = self._case(s, unit, parsed, now)
                events = self.service.finish(unit)
        except Exception as exc:  # nothing of it is kept; the sender is told
            log.exception("Hub Santé: message %s not applied", parsed.distribution_id)
            failed = InvalidMessage(
                f"message valide mais non intégré : {exc}", parsed.envelope,
                INTERNAL_CLIENT_ERROR,
            )  # fmt: skip
            return "refused", self._refuse_in(s, raw, failed, now)
        self._journal(s, parsed, raw, "applied", now, dossier_id=dossier_id)
        enqueue(s, messages.reference(self.settings.client_id, parsed, now), now=now,
                case_id=str(parsed.body.get("caseId", "")), dossier_id=dossier_id)  # fmt: skip
        return "applied", events

    # -- appointment (RS-SAS-RDV) ----------------------------------------------------

    def _appointment(
        self, s: Session, parsed: Parsed, raw: bytes, now: datetime
    ) -> tuple[str, list[Outgoing]]:
        """The national platform's appointment: applied in its savepoint with its journal
        line and event, then acknowledged; refused with the code the SAS guide gives."""
        if parsed.sender_id != self.settings.platform_id:
            stranger = InvalidMessage(
                f"rendez-vous RS-SAS-RDV accepté de {self.settings.platform_id} seulement, "
                f"pas de {parsed.sender_id}", parsed.envelope, UNKNOWN_SENDER,
            )  # fmt: skip
            return "refused", self._refuse_in(s, raw, stranger, now)
        try:
            with s.begin_nested():
                unit = Unit(s, None, now, self.service.user)
                platform.apply(
                    unit, parsed.body, parsed.sender_id, parsed.distribution_id,
                    weekly_cap=self.service.settings.targets.weekly_snp_cap,
                )  # fmt: skip
                events = self.service.finish(unit)
        except platform.Rejected as rejected:
            no = InvalidMessage(rejected.cause, parsed.envelope, rejected.code)
            return "refused", self._refuse_in(s, raw, no, now, [rejected.issue])
        except Exception as exc:  # nothing of it is kept; the sender is told
            log.exception("Hub Santé: appointment %s not applied", parsed.distribution_id)
            failed = InvalidMessage(
                f"message valide mais non intégré : {exc}", parsed.envelope,
                INTERNAL_CLIENT_ERROR,
            )  # fmt: skip
            return "refused", self._refuse_in(s, raw, failed, now)
        self._journal(s, parsed, raw, "applied", now)
        enqueue(s, messages.reference(self.settings.client_id, parsed, now), now=now)
        return "applied", events

    # -- createCaseHealth ------------------------------------------------------------

    def _case(self, s: Session, u: Unit, parsed: Parsed, now: datetime) -> int:
        case = parsed.body
        link = s.get(HsCase, case["caseId"])
        fields = mapping.dossier_fields(case)
        actor_id = system_user(s)
        if link is not None:
            d = s.get(Dossier, link.dossier_id, with_for_update=True)
            assert d is not None
            changed = {}
            for name, value in fields.items():
                if name == "priority" or getattr(d, name) == value:
                    continue
                setattr(d, name, value)
                changed[name] = value.isoformat() if hasattr(value, "isoformat") else value
            if changed:
                d.version += 1
                d.updated_at = now
                self._emit(u, EventName.DOSSIER_UPDATED, d, actor_id, fields=changed,
                           source="hubsante", case_id=link.case_id)  # fmt: skip
            return d.id
        queue = mapping.queue_of(case)
        track = TRACK_OF_QUEUE[queue]
        priority = fields.pop("priority", None) or (
            str(Priority.P2) if track == Track.SNP else str(Priority.P1)
        )
        received = mapping.reception(case) or now
        d = Dossier(
            number=f"tmp-hs-{parsed.distribution_id[-12:]}",
            line="15",
            status=str(DossierStatus.QUEUED),
            priority=priority,
            track=str(track),
            queue=str(queue),
            opened_by_id=actor_id,
            ringing_at=received,
            answered_at=received,
            qualified_at=now,
            queued_at=now,
            updated_at=now,
            **fields,
        )
        s.add(d)
        s.flush()
        d.number = f"{now:%Y%m%d}-{d.id:06d}"
        s.add(HsCase(case_id=case["caseId"], dossier_id=d.id, owner=case["owner"],
                     peer=parsed.sender_id, creation=case["creation"],
                     messages_sent=0))  # fmt: skip
        self._emit(u, EventName.DOSSIER_OPENED, d, actor_id, line=d.line, caller=d.caller_number,
                   call_id=None, source="hubsante", case_id=case["caseId"])  # fmt: skip
        self._emit(u, EventName.DOSSIER_QUALIFIED, d, actor_id, priority=d.priority, queue=d.queue,
                   track=d.track, reflex=False, source="hubsante")  # fmt: skip
        return d.id

    @staticmethod
    def _emit(u: Unit, type_: EventName, d: Dossier, actor_id: int, **data: Any) -> None:
        u.emit(type_, Audience().add_dossier(d), dossier=d, **data)
        u.events[-1][0].actor_id = actor_id  # the connector's account, never a desk's

    # -- acknowledgements and errors -----------------------------------------------------

    def _acknowledged(
        self, s: Session, parsed: Parsed, raw: bytes, now: datetime
    ) -> list[Outgoing]:
        ref = str(parsed.body.get("distributionID", ""))
        s.execute(
            update(HsJournal)
            .where(HsJournal.direction == "out", HsJournal.distribution_id == ref)
            .values(status="acked", acked_at=now)
        )
        self._journal(s, parsed, raw, "acknowledged", now)
        return []

    def _error_received(
        self, s: Session, parsed: Parsed, raw: bytes, now: datetime
    ) -> list[Outgoing]:
        ref = str(parsed.body.get("referencedDistributionID", ""))
        cause = f"{parsed.body['errorCode'].get('statusString')} : {parsed.body.get('errorCause')}"
        s.execute(
            update(HsJournal)
            .where(HsJournal.direction == "out", HsJournal.distribution_id == ref)
            .values(status="error", error=cause)
        )
        self._journal(s, parsed, raw, "error", now, error=cause)
        u = Unit(s, None, now, self.service.user)
        u.emit(EventName.HUBSANTE_ERROR, supervisors(), distribution_id=ref, cause=cause,
               sender=parsed.sender_id)  # fmt: skip
        return self.service.finish(u)

    # -- refusals ----------------------------------------------------------------------

    def _refuse_in(
        self, s: Session, raw: bytes, refused: InvalidMessage, now: datetime,
        issues: list[Issue] | None = None,
    ) -> list[Outgoing]:  # fmt: skip
        distribution_id = (
            refused.distribution_id or f"illisible-{hashlib.sha256(raw).hexdigest()[:16]}"
        )
        if s.scalar(
            select(HsJournal.id).where(
                HsJournal.direction == "in", HsJournal.distribution_id == distribution_id
            )
        ):
            return []  # refused already (a redelivery): said once  # fmt: skip
        env = refused.envelope if isinstance(refused.envelope, dict) else {}
        s.add(HsJournal(
            direction="in", distribution_id=distribution_id,
            kind=str(env.get("distributionKind", "")), sender=refused.sender_id,
            status="refused", error=refused.cause[:4000],
            body=raw.decode("utf-8", errors="replace"), at=now,
        ))  # fmt: skip
        if refused.sender_id:
            enqueue(s, messages.error(self.settings.client_id, refused.sender_id, refused, now),
                    now=now)  # fmt: skip
        u = Unit(s, None, now, self.service.user)
        u.emit(EventName.HUBSANTE_REFUSED, supervisors(), distribution_id=distribution_id,
               sender=refused.sender_id, cause=refused.cause[:500])  # fmt: skip
        if platform.is_appointment(refused.envelope):  # the appointments' journal too
            platform.refused(
                u, refused.sender_id, refused.envelope, refused.code,
                issues or platform.issues_of(refused.cause, refused.code), distribution_id,
            )  # fmt: skip
        return self.service.finish(u)

    @staticmethod
    def _journal(
        s: Session, parsed: Parsed, raw: bytes, status: str, now: datetime,
        dossier_id: int | None = None, error: str = "",
    ) -> None:  # fmt: skip
        s.add(HsJournal(
            direction="in", distribution_id=parsed.distribution_id, kind=parsed.kind,
            content=parsed.key, sender=parsed.sender_id, recipient=parsed.recipient_id,
            case_id=str(parsed.body.get("caseId", "")), dossier_id=dossier_id, status=status,
            error=error, body=raw.decode("utf-8"), at=now,
        ))  # fmt: skip


def journal_view(j: HsJournal) -> JournalRow:
    return {
        "id": j.id,
        "direction": j.direction,
        "distribution_id": j.distribution_id,
        "kind": j.kind,
        "content": j.content,
        "sender": j.sender,
        "recipient": j.recipient,
        "case_id": j.case_id,
        "dossier_id": j.dossier_id,
        "status": j.status,
        "error": j.error,
        "at": j.at.isoformat(),
        "body": json.loads(j.body) if j.body.startswith("{") else j.body,
    }
