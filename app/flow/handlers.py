"""The regulation flow: calls, dossiers, queues and OSNP tasks, one handler per intent.

Every handler checks the role, applies a rule from ``app.domain.rules``, updates the
state tables and appends events in the unit of work the kernel gives it
(app.hub.service); the transaction commits both or neither. They run on the hub's
single writer thread, so two intents never interleave, and they only write rows: the
kernel may apply several of them in one commit (app.hub.group_commit).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import bindparam, case, exists, insert, select

from app.db.fast import Fast
from app.db.models import Call, CallRing, Commune, Dossier, Event, OsnpTask, User
from app.domain import rules
from app.domain.enums import (
    DossierStatus,
    Priority,
    Queue,
    Role,
    TaskOutcome,
    TaskStatus,
    Track,
)
from app.domain.permissions import Action, require
from app.domain.rules import FlowError, forbid
from app.flow import protocol as p
from app.flow.protocol import (
    CallReply,
    DecideReply,
    DossierGetReply,
    DossierReply,
    QueueListReply,
    TaskDossierReply,
    TaskReply,
)
from app.hub.dossiers import (
    dossier_event,
    locked_dossier_row,
    read_dossier,
    task_of,
    task_row_of,
    visible_dossier_row,
)
from app.hub.events import EventName
from app.hub.extensions import Handler
from app.hub.flush import flush_changes, new_row, row_class
from app.hub.protocol import IntentName
from app.hub.read_audit import refused_read
from app.hub.service import HubService, Unit
from app.hub.views import (
    UserLookup,
    call_view,
    decided_by_view,
    dossier_view,
    iso,
    task_view,
    timeline_entry,
)
from app.hub.visibility import Audience, calls_audience, can_see_dossier

#: No line rings longer than this before the desk reports it: an older ``ringing_at``
#: comes from a wrong desk clock, and is clamped (as is one in the hub's future).
MAX_RINGING = timedelta(minutes=10)

#: Built once, bound per intent (as app.hub.dossiers.LOCKED_DOSSIER). Read with Core into
#: rows (app.hub.flush.Row): the ORM's query, identity map and instance state cost the
#: single writer more than the round trip itself.
_CALLS: Any = Call.__table__
_TASKS: Any = OsnpTask.__table__
_DOSSIERS: Any = Dossier.__table__
_RINGS: Any = CallRing.__table__
_INSERT_RING = Fast(insert(_RINGS), keys=("call_id", "user_id", "rung_at"))
#: The call, locked, and whether it rang this desk's account: one round trip for both.
_LOCKED_CALL = Fast(
    select(
        *_CALLS.c,
        exists()
        .where(_RINGS.c.call_id == _CALLS.c.id, _RINGS.c.user_id == bindparam("user_id"))
        .label("rung_here"),
    )
    .where(_CALLS.c.call_ref == bindparam("call_ref"))
    .with_for_update(of=_CALLS)
)
_CALL_KEYS = tuple(_CALLS.c.keys())
#: The task and its dossier, both locked (as the ORM's joined load locked them).
_LOCKED_TASK = Fast(
    select(*_TASKS.c, *_DOSSIERS.c)
    .join_from(_TASKS, _DOSSIERS, _DOSSIERS.c.id == _TASKS.c.dossier_id)
    .where(_TASKS.c.id == bindparam("id"))
    .with_for_update()
)
_ANSWERED_DOSSIER = select(*_DOSSIERS.c).where(_DOSSIERS.c.call_id == bindparam("call_id"))
#: A dossier's commune named on the driver's cursor (app.db.fast): one per dossier opened.
_COMMUNE_NAME = Fast(select(Commune.name).where(Commune.insee == bindparam("insee")))


class FlowHandlers:
    """The flow's handlers, bound to the kernel service whose units they run in."""

    def __init__(self, service: HubService):
        self.service = service
        #: The wire view of a user, cached by the kernel.
        self.user: UserLookup = service.user
        #: Commune names by INSEE code, for the hub's life: a dossier's commune is set on
        #: most dossiers, and the territory's names do not change under a running room
        #: (only names found are kept: a commune imported later is still found).
        self._communes: dict[str, str] = {}

    def handlers(self) -> dict[type[p.Intent], Handler]:
        """Each flow intent and its handler: they only write rows (batchable)."""
        return {
            p.CallOffered: self._call_offered,
            p.CallAnswered: self._call_answered,
            p.CallEnded: self._call_ended,
            p.DossierUpdate: self._dossier_update,
            p.DossierQualify: self._dossier_qualify,
            p.DossierClose: self._dossier_close,
            p.DossierTake: self._dossier_take,
            p.QueueNext: self._queue_next,
            p.QueueList: self._queue_list,
            p.DossierRelease: self._dossier_release,
            p.DossierForward: self._dossier_forward,
            p.DossierMoveTrack: self._dossier_move_track,
            p.DossierDecide: self._dossier_decide,
            p.DossierGet: self._dossier_get,
            p.DossierNote: self._dossier_note,
            p.TaskTake: self._task_take,
            p.TaskClose: self._task_close,
            p.TaskReopen: self._task_reopen,
        }

    # -- helpers ------------------------------------------------------------------

    def _holder(self, owner_id: int | None, nobody: str) -> str:
        """Who holds a dossier or a task, as a refusal names them."""
        owner = self.user(owner_id)
        return str(owner["name"]) if owner else nobody

    def _require_owner(self, u: Unit, d: Dossier, what: str) -> None:
        assert u.actor is not None
        if u.actor.role is Role.SUPERVISEUR or d.owner_id == u.actor.user_id:
            return
        holder = self._holder(d.owner_id, "personne (en file)")
        raise forbid(f"{what} : le dossier {d.number} est détenu par {holder}")

    @staticmethod
    def _role(u: Unit) -> Role:
        assert u.actor is not None
        return u.actor.role

    # -- calls --------------------------------------------------------------------

    def _check_answering(self, u: Unit) -> None:
        require(self._role(u), Action.ANSWER_CALLS)

    def _get_call(self, u: Unit, call_ref: str) -> Call | None:
        """The call, locked, as a Core row; ``rung_here``: it rang this desk's account."""
        assert u.actor is not None
        params = {"call_ref": call_ref, "user_id": u.actor.user_id}
        found = _LOCKED_CALL.first(u.conn, params)
        if found is None:
            return None
        call = u.track(row_class(Call)(dict(zip(_CALL_KEYS, found[:-1], strict=True))))
        rung = bool(found[-1])
        call.__dict__["rung_here"] = rung  # not a column: never written
        return cast(Call, call)

    @staticmethod
    def _ringing_at(u: Unit, sent: datetime | None) -> datetime:
        """The desk's clock may be wrong: its ringing time is kept within the hub's bounds."""
        if sent is None:
            return u.now
        return min(max(sent, u.now - MAX_RINGING), u.now)

    def _call_offered(self, u: Unit, i: p.CallOffered) -> CallReply:
        self._check_answering(u)
        assert u.actor is not None
        call = self._get_call(u, i.call_ref)
        rung = False  # a call created now has rung no desk yet
        if call is None:
            call = new_row(
                u.s,
                Call,
                call_ref=i.call_ref,
                line=str(i.line),
                caller=i.caller,
                offered_at=self._ringing_at(u, i.ringing_at),
                desks_rung=1,
            )
            u.emit(
                EventName.CALL_OFFERED,
                calls_audience(),
                call=call,
                line=str(i.line),
                caller=i.caller,
                offered_at=iso(call.offered_at),
            )
        else:
            # Another desk of the same fork (the call counts once), or this desk telling
            # it again (a reply lost with the link): that desk counts once too.
            rung = self._has_rung(u, call)
            if not rung:
                call.desks_rung += 1
        if not rung:
            # Written at once (Core): nothing reads it back as an object in this unit.
            _INSERT_RING.many(
                u.s, [{"call_id": call.id, "user_id": u.actor.user_id, "rung_at": u.now}]
            )
        return {"call": call_view(call)}

    def _call_answered(self, u: Unit, i: p.CallAnswered) -> DossierReply:
        self._check_answering(u)
        assert u.actor is not None
        call = self._get_call(u, i.call_ref)
        if call is None or not self._rang_or_holds(u, call):
            # Only a desk the call rang answers it; any other is told what an unknown
            # call would tell it (not whether the call exists, nor who holds it).
            raise FlowError("not_found", f"appel {i.call_ref} inconnu : signalez-le d'abord")
        if call.answered_by_id is not None:
            existing = u.s.connection().execute(_ANSWERED_DOSSIER, {"call_id": call.id}).first()
            if call.answered_by_id == u.actor.user_id and existing is not None:
                # A replay after reconnect.
                return {"dossier": dossier_view(cast(Dossier, existing), self.user)}
            raise FlowError("conflict", "cet appel a déjà été décroché par un autre poste")
        if call.ended_at is not None:
            raise FlowError("invalid_state", "l'appelant a raccroché avant le décroché")
        call.answered_at = u.now
        call.answered_by_id = u.actor.user_id
        d = new_row(
            u.s,
            Dossier,
            number=f"tmp-{call.id}",
            call_id=call.id,
            line=call.line,
            caller_number=call.caller,
            callback_number=call.caller,
            status=DossierStatus.OPEN,
            owner_id=u.actor.user_id,
            opened_by_id=u.actor.user_id,
            ringing_at=call.offered_at,
            answered_at=u.now,
            updated_at=u.now,
        )
        u.track(d)
        d.number = f"{u.now:%Y%m%d}-{d.id:06d}"
        wait = (u.now - call.offered_at).total_seconds()
        u.emit(EventName.CALL_ANSWERED, calls_audience(), call=call, wait_seconds=round(wait, 3))
        dossier_event(
            u, EventName.DOSSIER_OPENED, d, line=d.line, caller=d.caller_number, call_id=call.id
        )
        return {"dossier": dossier_view(d, self.user)}

    @staticmethod
    def _rang_or_holds(u: Unit, call: Call) -> bool:
        assert u.actor is not None
        if call.answered_by_id == u.actor.user_id:
            return True
        return FlowHandlers._has_rung(u, call)

    @staticmethod
    def _has_rung(u: Unit, call: Call) -> bool:
        """The call rang this desk's account (read with the call: :meth:`_get_call`)."""
        return bool(call.__dict__["rung_here"])

    _ABANDON_REASONS = frozenset({"caller_gave_up", "remote_hangup", "", "failed", "no_answer"})

    def _call_ended(self, u: Unit, i: p.CallEnded) -> CallReply:
        self._check_answering(u)
        assert u.actor is not None
        call = self._get_call(u, i.call_ref)
        if call is None or not self._rang_or_holds(u, call):
            # A desk the call never rang learns nothing of it, not even that it exists.
            raise FlowError("not_found", f"appel {i.call_ref} inconnu")
        if call.ended_at is not None:
            return {"call": call_view(call)}
        if call.answered_at is None and i.reason not in self._ABANDON_REASONS:
            return {"call": call_view(call)}  # this desk stopped ringing; the call goes on
        if call.answered_at is not None and call.answered_by_id != u.actor.user_id:
            return {"call": call_view(call)}  # only the desk holding the call ends it
        # The desk's time (after a crash: when its recording stopped), within the call.
        start = call.answered_at or call.offered_at
        ended = u.now if i.ended_at is None else min(max(i.ended_at, start), u.now)
        call.ended_at = ended
        call.end_reason = i.reason
        call.abandoned = call.answered_at is None
        talk = (ended - call.answered_at).total_seconds() if call.answered_at else 0.0
        u.emit(
            EventName.CALL_ENDED,
            calls_audience(),
            call=call,
            reason=i.reason,
            abandoned=call.abandoned,
            talk_seconds=round(talk, 3),
            ended_at=iso(ended),
        )
        return {"call": call_view(call)}

    # -- dossier ------------------------------------------------------------------

    def _dossier_update(self, u: Unit, i: p.DossierUpdate) -> DossierReply:
        require(self._role(u), Action.EDIT_DOSSIERS)
        d = visible_dossier_row(u, i.dossier_id)
        if d.status == DossierStatus.CLOSED:
            raise FlowError("invalid_state", f"le dossier {d.number} est clôturé")
        task = task_row_of(u, d)
        assert u.actor is not None
        if not (task is not None and task.owner_id == u.actor.user_id):
            self._require_owner(u, d, "modification refusée")
        changes = i.fields.model_dump(exclude_none=True)
        if "commune_insee" in changes and "commune_name" not in changes:
            insee = changes["commune_insee"]
            name = self._commune_name(u, insee) if insee else None
            changes["commune_name"] = name if name is not None else ""
        changed: dict[str, Any] = {}
        for name, value in changes.items():
            if getattr(d, name) != value:
                setattr(d, name, value)
                changed[name] = value.isoformat() if hasattr(value, "isoformat") else value
        if changed:
            dossier_event(u, EventName.DOSSIER_UPDATED, d, task=task, fields=changed)
        return {"dossier": dossier_view(d, self.user)}

    def _commune_name(self, u: Unit, insee: str) -> str | None:
        name = self._communes.get(insee)
        if name is None:
            found = _COMMUNE_NAME.first(u.conn, {"insee": insee})
            name = found[0] if found is not None else None
            if name is not None:
                self._communes[insee] = name
        return name

    def _dossier_qualify(self, u: Unit, i: p.DossierQualify) -> DossierReply:
        require(self._role(u), Action.QUALIFY)
        d = visible_dossier_row(u, i.dossier_id)
        self._require_owner(u, d, "qualification refusée")
        if d.status != DossierStatus.OPEN:
            raise FlowError("invalid_state", f"le dossier {d.number} est déjà qualifié et transmis")
        before = Audience().add_dossier(d)
        routing = rules.route_priority(i.priority)
        d.priority = str(i.priority)
        d.qualified_at = u.now
        d.status = str(routing.status)
        d.reflex = routing.reflex
        d.track = str(routing.track) if routing.track else None
        if routing.queue is not None:
            d.queue = str(routing.queue)
            d.queued_at = u.now
            d.owner_id = None
        dossier_event(
            u,
            EventName.DOSSIER_QUALIFIED,
            d,
            before,
            priority=str(i.priority),
            queue=d.queue,
            track=d.track,
            reflex=d.reflex,
        )
        return {"dossier": dossier_view(d, self.user)}

    def _dossier_close(self, u: Unit, i: p.DossierClose) -> DossierReply:
        require(self._role(u), Action.CLOSE_DOSSIERS)
        d = visible_dossier_row(u, i.dossier_id)
        rules.check_can_close(
            self._role(u),
            DossierStatus(d.status),
            Priority(d.priority) if d.priority else None,
            d.decision is not None,
        )
        self._require_owner(u, d, "clôture refusée")
        if self._role(u) in (Role.ARM_N1, Role.ARM_N2) and d.status != DossierStatus.OPEN:
            raise FlowError("invalid_state", "ce dossier a déjà été transmis en régulation")
        self._close(u, d, i.reason)
        return {"dossier": dossier_view(d, self.user)}

    def _close(self, u: Unit, d: Dossier, reason: str, task: OsnpTask | None = None) -> None:
        before = Audience().add_dossier(d, task)
        d.status = DossierStatus.CLOSED
        d.closed_at = u.now
        d.close_reason = reason
        d.queue = None
        total = (u.now - (d.ringing_at or d.answered_at)).total_seconds()
        dossier_event(
            u,
            EventName.DOSSIER_CLOSED,
            d,
            before,
            task=task,
            reason=reason,
            track=d.track,
            priority=d.priority,
            decision=d.decision,
            total_seconds=round(total, 3),
        )

    def _take(self, u: Unit, d: Dossier) -> DossierReply:
        assert u.actor is not None
        if d.status != DossierStatus.QUEUED or not d.queue:
            holder = self._holder(d.owner_id, "un autre poste")
            raise FlowError(
                "conflict", f"le dossier {d.number} n'est plus en file (pris par {holder})"
            )
        queue = Queue(d.queue)
        rules.check_can_take(self._role(u), queue)
        before = Audience().add_dossier(d)
        waited = (u.now - d.queued_at).total_seconds() if d.queued_at else 0.0
        d.owner_id = u.actor.user_id
        d.status = DossierStatus.IN_PROGRESS
        d.taken_at = u.now
        d.queue = None
        dossier_event(
            u, EventName.DOSSIER_TAKEN, d, before, queue=str(queue), waited_seconds=round(waited, 3)
        )
        return {"dossier": dossier_view(d, self.user)}

    def _dossier_take(self, u: Unit, i: p.DossierTake) -> DossierReply:
        assert u.actor is not None
        d = locked_dossier_row(u, i.dossier_id)
        if d is not None and not can_see_dossier(u.actor, d, task_row_of(u, d)):
            if self._just_taken_from_my_queue(u, d):
                # Someone (maybe on another desk or hub) took it a moment ago.
                raise FlowError("conflict", f"le dossier {d.number} vient d'être pris")
            d = None  # a refusal says nothing of a dossier this desk may not see
        if d is None:
            # Audited as a refused read: a desk probing numbers leaves a trace.
            missing = FlowError(
                "not_found", f"dossier {i.dossier_id} introuvable ou non accessible"
            )
            raise refused_read(missing, i.dossier_id, IntentName.DOSSIER_TAKE)
        if d.queue:
            rules.check_can_take(self._role(u), Queue(d.queue))
        return self._take(u, d)

    def _just_taken_from_my_queue(self, u: Unit, d: Dossier) -> bool:
        """True if the dossier's last change took it out of a queue this role reads."""
        u.write_events()  # the batch's events before this one are in the log
        last = u.s.scalars(
            select(Event).where(Event.dossier_id == d.id).order_by(Event.seq.desc()).limit(1)
        ).first()
        if last is None or last.type != EventName.DOSSIER_TAKEN:
            return False
        queue = (last.data or {}).get("queue")
        return (
            queue in {str(q) for q in Queue} and self._role(u) in rules.QUEUE_READERS[Queue(queue)]
        )

    _PRIORITY_ORDER = case({"P0": 0, "P1": 1, "P2": 2, "P3": 3}, value=Dossier.priority, else_=9)

    def _queue_next(self, u: Unit, i: p.QueueNext) -> DossierReply:
        rules.check_can_take(self._role(u), i.queue)
        d = u.s.scalars(
            select(Dossier)
            .where(Dossier.status == DossierStatus.QUEUED, Dossier.queue == str(i.queue))
            .order_by(self._PRIORITY_ORDER, Dossier.queued_at, Dossier.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if d is None:
            raise FlowError("not_found", f"aucun dossier en attente dans « {i.queue.label} »")
        return self._take(u, d)

    def _queue_list(self, u: Unit, i: p.QueueList) -> QueueListReply:
        rules.check_can_read_queue(self._role(u), i.queue)
        rows = (
            u.s.scalars(
                select(Dossier)
                .where(Dossier.status == DossierStatus.QUEUED, Dossier.queue == str(i.queue))
                .order_by(self._PRIORITY_ORDER, Dossier.queued_at)
            )
            .unique()
            .all()
        )
        return {"queue": str(i.queue), "dossiers": [dossier_view(d, self.user) for d in rows]}

    def _requeue(self, u: Unit, d: Dossier, queue: Queue, type_: EventName, **data: Any) -> None:
        before = Audience().add_dossier(d)
        d.queue = str(queue)
        d.track = str(rules.TRACK_OF_QUEUE[queue])
        d.status = DossierStatus.QUEUED
        d.queued_at = u.now
        d.owner_id = None
        dossier_event(u, type_, d, before, queue=str(queue), **data)

    def _dossier_release(self, u: Unit, i: p.DossierRelease) -> DossierReply:
        d = visible_dossier_row(u, i.dossier_id)
        self._require_owner(u, d, "remise en file refusée")
        if d.status != DossierStatus.IN_PROGRESS or d.track is None:
            raise FlowError(
                "invalid_state", "seul un dossier en régulation peut être remis en file"
            )
        if self._role(u) is Role.ARM_N2:
            queue = Queue.AMU_N2
        else:
            queue = rules.DOCTOR_QUEUE_OF_TRACK[Track(d.track)]
        self._requeue(u, d, queue, EventName.DOSSIER_RELEASED, reason=i.reason)
        return {"dossier": dossier_view(d, self.user)}

    def _dossier_forward(self, u: Unit, i: p.DossierForward) -> DossierReply:
        require(self._role(u), Action.FORWARD)
        d = visible_dossier_row(u, i.dossier_id)
        self._require_owner(u, d, "transmission refusée")
        if d.status != DossierStatus.IN_PROGRESS:
            raise FlowError("invalid_state", "prenez le dossier avant de le transmettre")
        if i.queue is not Queue.AMU_MEDECIN:
            raise FlowError("invalid_message", "l'ARM N2 transmet au médecin AMU")
        self._requeue(u, d, i.queue, EventName.DOSSIER_FORWARDED)
        return {"dossier": dossier_view(d, self.user)}

    def _dossier_move_track(self, u: Unit, i: p.DossierMoveTrack) -> DossierReply:
        role = self._role(u)
        require(role, Action.MOVE_TRACK)
        d = visible_dossier_row(u, i.dossier_id)
        task = task_row_of(u, d)
        if d.status == DossierStatus.AWAITING_OSNP and task is not None:
            require(role, Action.RESUME_SEARCH)
            before = Audience().add_dossier(d, task)
            task.status = TaskStatus.DONE
            task.closed_at = u.now
            task.comment = f"Annulée : dossier basculé en {i.track.label}. {i.reason}".strip()
            u.emit(EventName.TASK_CANCELLED, before, task=task, dossier=d, reason=i.reason)
        elif d.status == DossierStatus.IN_PROGRESS:
            self._require_owner(u, d, "changement de filière refusé")
        else:
            raise FlowError(
                "invalid_state", "le dossier doit être en régulation pour changer de filière"
            )
        if d.track == str(i.track):
            raise FlowError("invalid_state", f"le dossier est déjà en filière {i.track.label}")
        previous = d.track
        for name in (
            "decision",
            "care_level",
            "filiere",
            "orientation",
            "consultation_type",
            "means",
            "decided_at",
            "decided_by_id",
            "decided_national_id",
            "decided_auth",
        ):
            setattr(d, name, None)
        self._requeue(
            u,
            d,
            rules.DOCTOR_QUEUE_OF_TRACK[i.track],
            EventName.DOSSIER_TRACK_MOVED,
            from_track=previous,
            to_track=str(i.track),
            reason=i.reason,
        )
        return {"dossier": dossier_view(d, self.user)}

    def _dossier_decide(self, u: Unit, i: p.DossierDecide) -> DecideReply:
        rules.check_can_decide(self._role(u), None)
        d = visible_dossier_row(u, i.dossier_id)
        self._require_owner(u, d, "décision refusée")
        if d.status != DossierStatus.IN_PROGRESS:
            raise FlowError("invalid_state", "prenez le dossier en régulation avant de décider")
        rules.check_decision_fields(i.decision, i.orientation, i.consultation_type, i.means)
        wanted = rules.check_wanted(i.decision, i.orientation, i.profession, i.specialty)
        assert u.actor is not None
        d.decision = str(i.decision)
        d.care_level = str(i.care_level)
        d.filiere = str(i.filiere)
        d.orientation = str(i.orientation) if i.orientation else None
        d.consultation_type = str(i.consultation_type) if i.consultation_type else None
        d.means = str(i.means) if i.means else None
        d.decision_comment = i.comment
        d.decided_at = u.now
        d.decided_by_id = u.actor.user_id
        # A medical act says who took it: the identifier proven at login, and how.
        d.decided_national_id = u.actor.national_id or None
        d.decided_auth = u.actor.auth
        decided_by = decided_by_view(d)
        task = None
        if wanted is not None:
            assert i.consultation_type is not None
            before = Audience().add_dossier(d)
            task = new_row(
                u.s,
                OsnpTask,
                dossier_id=d.id,
                dossier=d,  # set here: no reload of the task after its INSERT
                status=TaskStatus.OPEN,
                consultation_type=str(i.consultation_type),
                profession=wanted.profession,
                specialty=wanted.specialty,
                created_at=u.now,
                deadline_at=u.now + rules.CONSULTATION_DEADLINE,
            )
            d.status = DossierStatus.AWAITING_OSNP
            d.owner_id = None
            dossier_event(
                u,
                EventName.DOSSIER_DECIDED,
                d,
                before,
                task=task,
                decision=d.decision,
                care_level=d.care_level,
                filiere=d.filiere,
                orientation=d.orientation,
                consultation_type=d.consultation_type,
                profession=wanted.profession,
                specialty=wanted.specialty,
                track=d.track,
                decided_by=decided_by,
            )
            u.emit(
                EventName.TASK_CREATED,
                Audience().add_dossier(d, task),
                task=task,
                dossier=d,
                deadline_at=iso(task.deadline_at),
            )
        else:
            dossier_event(
                u,
                EventName.DOSSIER_DECIDED,
                d,
                decision=d.decision,
                care_level=d.care_level,
                filiere=d.filiere,
                orientation=d.orientation,
                means=d.means,
                track=d.track,
                decided_by=decided_by,
            )
        return {
            "dossier": dossier_view(d, self.user),
            "task": task_view(task, self.user) if task else None,
        }

    def _dossier_get(self, u: Unit, i: p.DossierGet) -> DossierGetReply:
        d = read_dossier(u, i.dossier_id, IntentName.DOSSIER_GET)
        task = task_of(u, d)
        names = {uid: name for uid, name in u.s.execute(select(User.id, User.display_name))}
        u.write_events()  # the batch's events before this one are in the log
        events = u.s.scalars(
            select(Event).where(Event.dossier_id == d.id).order_by(Event.seq)
        ).all()
        return {
            "dossier": dossier_view(d, self.user),
            "task": task_view(task, self.user) if task else None,
            "timeline": [timeline_entry(e, names.get(e.actor_id or 0)) for e in events],
        }

    def _dossier_note(self, u: Unit, i: p.DossierNote) -> DossierReply:
        require(self._role(u), Action.READ_DOSSIERS)
        d = visible_dossier_row(u, i.dossier_id)
        dossier_event(u, EventName.DOSSIER_NOTE, d, task=task_row_of(u, d), text=i.text)
        return {"dossier": dossier_view(d, self.user)}

    # -- OSNP tasks ----------------------------------------------------------------

    def close_task(self, u: Unit, i: p.TaskClose) -> TaskDossierReply:
        """Close a task inside another intent's unit of work (the call-back workflow).

        The task and its dossier are read and written as Core rows: what that unit changed
        is written first, and the rows at once after, so that its ORM objects (expired)
        read them as closed."""
        flush_changes(u.s)
        reply = self._task_close(u, i)
        u.flush()
        return reply

    def _task_reopen(self, u: Unit, i: p.TaskReopen) -> TaskDossierReply:
        """A cancelled appointment or a no-show before the deadline: search again."""
        require(self._role(u), Action.REOPEN_TASKS)
        task = self._task(u, i.task_id)
        assert u.actor is not None
        if task.status != TaskStatus.DONE:
            raise FlowError("invalid_state", "cette recherche de RDV est encore ouverte")
        if u.now >= task.deadline_at:
            raise FlowError(
                "invalid_state", "le délai de 48 h est dépassé : voyez avec le médecin régulateur"
            )
        d = task.dossier
        before = Audience().add_dossier(d, task)
        previous = task.outcome
        task.status = TaskStatus.IN_PROGRESS
        task.owner_id = u.actor.user_id
        task.taken_at = u.now
        task.closed_at = None
        task.outcome = None
        task.no_solution_reason = None
        task.comment = i.reason
        d.status = DossierStatus.AWAITING_OSNP
        d.closed_at = None
        d.close_reason = ""
        dossier_event(
            u,
            EventName.TASK_REOPENED,
            d,
            before,
            task=task,
            reason=i.reason,
            previous_outcome=previous,
        )
        return {"task": task_view(task, self.user), "dossier": dossier_view(d, self.user)}

    def _task(self, u: Unit, task_id: int) -> OsnpTask:
        require(self._role(u), Action.SEE_TASKS)
        found = _LOCKED_TASK.first(u.conn, {"id": task_id})
        if found is None:
            raise FlowError("not_found", f"tâche {task_id} introuvable ou non accessible")
        n = len(_TASKS.c)
        task = u.track(row_class(OsnpTask)(dict(zip(_TASKS.c.keys(), found[:n], strict=True))))
        d = u.track(row_class(Dossier)(dict(zip(_DOSSIERS.c.keys(), found[n:], strict=True))))
        task.__dict__["dossier"] = d  # not a column: never written
        return cast(OsnpTask, task)

    def _task_take(self, u: Unit, i: p.TaskTake) -> TaskReply:
        require(self._role(u), Action.TAKE_TASKS)
        task = self._task(u, i.task_id)
        assert u.actor is not None
        if task.status != TaskStatus.OPEN:
            holder = self._holder(task.owner_id, "un autre poste")
            raise FlowError("conflict", f"cette recherche est déjà prise par {holder}")
        task.status = TaskStatus.IN_PROGRESS
        task.owner_id = u.actor.user_id
        task.taken_at = u.now
        waited = (u.now - task.created_at).total_seconds()
        u.emit(
            EventName.TASK_TAKEN,
            Audience().add_dossier(task.dossier, task),
            task=task,
            dossier=task.dossier,
            waited_seconds=round(waited, 3),
        )
        return {"task": task_view(task, self.user)}

    def _task_close(self, u: Unit, i: p.TaskClose) -> TaskDossierReply:
        require(self._role(u), Action.CLOSE_TASKS)
        task = self._task(u, i.task_id)
        assert u.actor is not None
        if task.status == TaskStatus.DONE:
            raise FlowError("invalid_state", "cette recherche de RDV est déjà terminée")
        if u.actor.role is not Role.SUPERVISEUR and task.owner_id != u.actor.user_id:
            raise forbid("prenez la recherche de RDV avant de la clôturer")
        if i.outcome.is_appointment:
            if i.appointment is None:
                raise FlowError("invalid_message", "un RDV obtenu doit préciser avec qui et quand")
            task.appointment_with = i.appointment.with_
            task.appointment_at = i.appointment.at
            task.appointment_place = i.appointment.place
        elif i.no_solution_reason is None:
            raise FlowError("invalid_message", "sans solution : précisez pourquoi")
        task.outcome = str(i.outcome)
        task.no_solution_reason = str(i.no_solution_reason) if i.no_solution_reason else None
        task.comment = i.comment
        task.status = TaskStatus.DONE
        task.closed_at = u.now
        d = task.dossier
        delay = (u.now - task.created_at).total_seconds()
        u.emit(
            EventName.TASK_CLOSED,
            Audience().add_dossier(d, task),
            task=task,
            dossier=d,
            outcome=task.outcome,
            no_solution_reason=task.no_solution_reason,
            appointment_at=iso(task.appointment_at),
            seconds_to_outcome=round(delay, 3),
        )
        self._close(u, d, TaskOutcome(task.outcome).label, task)
        return {"task": task_view(task, self.user), "dossier": dossier_view(d, self.user)}
