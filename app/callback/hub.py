"""Call-back intents on the hub: the plan, attempts, scripts, the appointment after.

Installed by ``app.hub.extensions``. Every change is an event in the same
transaction (``callback.*``), so the month's counts are derived (app.callback.stats).
An accepted call books the directory (``slot.booked``) and closes the task through
the core flow (``task.closed`` with RDV_MT / RDV_CONFRERE / RDV_CRENEAU /
RDV_HORS_DISPO), all in one unit of work.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from app.callback import protocol as callback_protocol
from app.callback import reminders
from app.callback.billing import billing_hint
from app.callback.facts import appointment_facts, dossier_facts
from app.callback.fate import record_status
from app.callback.models import Appointment, CallbackAttempt, CallbackTarget
from app.callback.outcomes import AttemptInput, record_attempt
from app.callback.plan import (
    add_target,
    build_plan,
    has_no_treating_doctor,
    next_target,
    plan_of,
    reorder,
)
from app.callback.protocol import (
    AcceptedAppointment,
    AppointmentReply,
    AppointmentStatusIntent,
    AppointmentView,
    AttemptReply,
    Billing,
    BillingReply,
    CallbackAttemptIntent,
    CallbackBilling,
    CallbackLetter,
    CallbackPatientText,
    CallbackPlan,
    CallbackPlanReorder,
    CallbackScript,
    CallbackStats,
    CallbackTargetAdd,
    CallbackTargetSkip,
    LetterReply,
    PatientText,
    PatientTextReply,
    PlanReply,
    PlanView,
    ScriptReply,
    StatsReply,
    TargetReply,
)
from app.callback.scripts import ScriptBook, load_scripts
from app.callback.settings import Settings, load_settings
from app.callback.stats import osnp_table
from app.callback.views import appointment_view, attempt_view, target_view
from app.callback.vocab import (
    AttemptResult,
    TargetKind,
    TargetStatus,
)
from app.db.models import OsnpTask, User
from app.directory.booking import weekly_snp_count
from app.directory.engine import DirectoryIndex
from app.directory.hub import (
    DirectoryHandlers,
    booking_view,
    directory_audience,
    emit_agenda_booking,
    slot_view,
)
from app.directory.protocol import BookingView
from app.directory.vocab import PARIS
from app.domain.enums import Role, TaskOutcome, TaskStatus
from app.domain.permissions import Action, refusal, require, roles_for
from app.domain.rules import FlowError, forbid
from app.flow.handlers import FlowHandlers
from app.flow.protocol import TaskClose
from app.hub import protocol as p
from app.hub.context import HubContext
from app.hub.events import EventName
from app.hub.extensions import Extension, Handler, install_one
from app.hub.protocol import Intent, IntentName
from app.hub.read_audit import record_read, refused_read
from app.hub.service import HubService, Unit
from app.hub.views import iso
from app.hub.visibility import Audience

WRITERS = roles_for(Action.CALL_BACK)
FOLLOWERS = roles_for(Action.FOLLOW_UP)


class CallbackHandlers:
    def __init__(
        self,
        service: HubService,
        settings: Settings,
        scripts: ScriptBook,
        index: DirectoryIndex | None = None,
        *,
        flow: FlowHandlers,
        directory: DirectoryHandlers | None = None,
    ):
        self.service = service
        #: The flow's handlers, to close the OSNP task in the call-back's own unit.
        self.flow = flow
        #: The directory's handlers: a booking made at an editor arms their pending watch.
        self.directory = directory
        self.settings = settings
        self.scripts = scripts
        self.index = index or DirectoryIndex()
        #: Called with each new reminder's due time (the scheduler arms a job).
        self.on_reminder: Callable[[datetime], None] | None = None
        #: Called in the unit of work with each new call-back appointment: the appointments
        #: extension confirms one the doctor's agenda already holds (app.appointments).
        self.on_appointment: list[Callable[[Unit, Appointment], object]] = []

    # -- access ------------------------------------------------------------------------

    @staticmethod
    def _role(u: Unit) -> Role:
        assert u.actor is not None
        return u.actor.role

    def _task(self, u: Unit, task_id: int, reading: str = "") -> OsnpTask:
        """The task, if this role sees tasks; ``reading`` names an audited read of its
        dossier's content (granted or refused)."""
        task = u.s.get(OsnpTask, task_id)
        denied = refusal(self._role(u), Action.SEE_TASKS)  # the role's refusal names nothing
        if denied is not None:
            if task is not None and reading:
                raise refused_read(denied, task.dossier_id, reading)
            raise denied
        if task is None:
            raise FlowError("not_found", f"tâche {task_id} introuvable ou non accessible")
        if reading:
            assert u.actor is not None
            record_read(u.s, u.actor, u.actor.desk, task.dossier_id, reading, at=u.now)
        return task

    def _owned(self, u: Unit, task: OsnpTask, what: str) -> None:
        assert u.actor is not None
        require(self._role(u), Action.CALL_BACK)
        if task.status == TaskStatus.DONE:
            raise FlowError("invalid_state", "cette recherche de RDV est terminée")
        if self._role(u) is not Role.SUPERVISEUR and task.owner_id != u.actor.user_id:
            raise forbid(f"prenez la recherche de RDV avant de {what}")

    def _target(
        self, u: Unit, target_id: int, reading: str = ""
    ) -> tuple[CallbackTarget, OsnpTask]:
        target = u.s.get(CallbackTarget, target_id)
        if target is None:
            require(self._role(u), Action.SEE_TASKS)  # the role's refusal first
            raise FlowError("not_found", f"cible {target_id} introuvable")
        return target, self._task(u, target.task_id, reading)

    @staticmethod
    def _audience(task: OsnpTask) -> Audience:
        return Audience().add_dossier(task.dossier, task)

    def _plan_reply(self, u: Unit, task: OsnpTask, notes: list[str] | None = None) -> PlanView:
        targets = plan_of(u.s, task.id)
        attempts = u.s.scalars(
            select(CallbackAttempt)
            .where(CallbackAttempt.task_id == task.id)
            .order_by(CallbackAttempt.at, CallbackAttempt.id)
        ).all()
        appt = self._appointment_of(u, task.id)
        nxt = next_target(targets, u.now) if task.status != TaskStatus.DONE else None
        return {
            "task_id": task.id,
            "targets": [target_view(t) for t in targets],
            "next_target_id": nxt.id if nxt else None,
            "attempts": [attempt_view(a) for a in attempts],
            "appointment": appointment_view(appt) if appt else None,
            "deadline_at": iso(task.deadline_at),
            "notes": notes or [],
        }

    @staticmethod
    def _appointment_of(u: Unit, task_id: int) -> Appointment | None:
        return u.s.scalar(select(Appointment).where(Appointment.task_id == task_id))

    # -- the plan ----------------------------------------------------------------------

    def plan(self, u: Unit, i: CallbackPlan) -> PlanReply:
        task = self._task(u, i.task_id)
        existing = plan_of(u.s, task.id)
        if existing and not i.rebuild:
            return {"plan": self._plan_reply(u, task)}
        self._owned(u, task, "préparer le plan d'appels")
        if existing:
            called = {
                a.target_id
                for a in u.s.scalars(
                    select(CallbackAttempt).where(CallbackAttempt.task_id == task.id)
                )
            }
            for t in existing:  # keep what was called; drop the untouched suggestions
                if t.id not in called and t.added_by_id is None:
                    u.s.delete(t)
            u.s.flush()
        targets, notes = build_plan(u.s, task, self.index, u.now)
        kept = plan_of(u.s, task.id)
        kept_effecteurs = {(t.kind, t.effecteur_id, t.name) for t in kept}
        fresh = [t for t in targets if (t.kind, t.effecteur_id, t.name) not in kept_effecteurs]
        for n, t in enumerate(kept + fresh, start=1):
            t.position = n
        u.s.add_all(fresh)
        u.s.flush()
        reply = self._plan_reply(u, task, notes)
        u.emit(
            EventName.CALLBACK_PLAN_BUILT,
            self._audience(task),
            task=task,
            dossier=task.dossier,
            targets=len(reply["targets"]),
            rebuild=bool(existing),
            kinds=[t["kind"] for t in reply["targets"]],
            notes=notes,
            # The plan's targets, in order: a desk already showing these does not ask.
            target_ids=[t["id"] for t in reply["targets"]],
        )
        return {"plan": reply}

    def target_add(self, u: Unit, i: CallbackTargetAdd) -> TargetReply:
        require(self._role(u), Action.CALL_BACK)
        task = self._task(u, i.task_id)
        self._owned(u, task, "ajouter un correspondant")
        assert u.actor is not None
        t = add_target(
            u.s,
            task,
            i.kind,
            u.now,
            user_id=u.actor.user_id,
            effecteur_id=i.effecteur_id,
            name=i.name,
            phone_direct=i.phone_direct,
            phone_secretary=i.phone_secretary,
            place=i.place,
            position=i.position,
            why=i.reason,
        )
        u.emit(
            EventName.CALLBACK_TARGET_ADDED,
            self._audience(task),
            task=task,
            dossier=task.dossier,
            target=target_view(t),
        )
        return {"target": target_view(t), "plan": self._plan_reply(u, task)}

    def target_skip(self, u: Unit, i: CallbackTargetSkip) -> TargetReply:
        require(self._role(u), Action.CALL_BACK)
        target, task = self._target(u, i.target_id)
        self._owned(u, task, "passer un correspondant")
        if not TargetStatus(target.status).is_open:
            raise FlowError(
                "invalid_state", f"{target.name} : déjà « {TargetStatus(target.status).label} »"
            )
        target.status = str(TargetStatus.SKIPPED)
        target.skip_reason = i.reason
        target.retry_at = None
        for r in u.s.scalars(
            select(reminders.Reminder).where(
                reminders.Reminder.target_id == target.id,
                reminders.Reminder.fired_at.is_(None),
                reminders.Reminder.cancelled_at.is_(None),
            )
        ):
            r.cancelled_at = u.now
        u.emit(
            EventName.CALLBACK_TARGET_SKIPPED,
            self._audience(task),
            task=task,
            dossier=task.dossier,
            target_id=target.id,
            target_kind=target.kind,
            target_name=target.name,
            reason=i.reason,
            target=target_view(target),  # as it now stands: the panels apply it
        )
        return {"target": target_view(target), "plan": self._plan_reply(u, task)}

    def plan_reorder(self, u: Unit, i: CallbackPlanReorder) -> PlanReply:
        require(self._role(u), Action.CALL_BACK)
        task = self._task(u, i.task_id)
        self._owned(u, task, "réordonner le plan")
        targets = reorder(u.s, task.id, list(i.order))
        u.emit(
            EventName.CALLBACK_PLAN_REORDERED,
            self._audience(task),
            task=task,
            dossier=task.dossier,
            order=[t.id for t in targets],
        )
        return {"plan": self._plan_reply(u, task)}

    # -- attempts ----------------------------------------------------------------------

    def attempt(self, u: Unit, i: CallbackAttemptIntent) -> AttemptReply:
        require(self._role(u), Action.CALL_BACK)
        target, task = self._target(u, i.target_id)
        self._owned(u, task, "noter un appel")
        assert u.actor is not None
        appt = i.appointment or AcceptedAppointment()
        if i.result is not AttemptResult.ACCEPTED and i.appointment is not None:
            raise FlowError("invalid_message", "un rendez-vous ne se note qu'avec « accepte »")
        x = AttemptInput(
            result=i.result,
            number=i.number,
            call_ref=i.call_ref,
            duration_seconds=i.duration_seconds,
            refusal_reason=i.refusal_reason,
            call_back_at=i.call_back_at,
            retry_at=i.retry_at,
            note=i.note,
            at=appt.at,
            place=appt.place,
            consultation_type=appt.consultation_type,
            regulator_decision=i.regulator_decision,
        )
        regulated_at = task.dossier.decided_at or task.created_at
        out = record_attempt(
            u.s, task, target, x, u.now, u.actor.user_id, self.settings, regulated_at
        )
        a = out.attempt
        audience = self._audience(task)
        u.emit(
            EventName.CALLBACK_ATTEMPT,
            audience,
            task=task,
            dossier=task.dossier,
            attempt_id=a.id,
            target_id=target.id,
            target_kind=target.kind,
            target_name=target.name,
            effecteur_id=target.effecteur_id,
            call_ref=a.call_ref or None,  # the desk uploads this call's recording now
            result=a.result,
            refusal_reason=a.refusal_reason or None,
            call_back_at=iso(a.call_back_at),
            retry_at=iso(target.retry_at),
            number=a.number,
            duration_seconds=a.duration_seconds,
            recording_path=a.recording_path or None,
            target=target_view(target),  # as it now stands: the panels apply it
        )
        attempt, target_now = attempt_view(a), target_view(target)
        booked: BookingView | None = None
        made: tuple[AppointmentView, PatientText, Billing] | None = None
        if out.reminder is not None and self.on_reminder is not None:
            self.on_reminder(out.reminder.due_at)
        if out.booking is not None and out.booking.booking.agenda_status:
            # An editor's slot: pending (or confirmed) at the editor, no place of ours.
            if out.booking_at_editor:  # made now: the desk opens the editor's page
                emit_agenda_booking(u, out.booking)
                directory = self.directory
                if directory is not None and directory.on_pending is not None:
                    directory.on_pending(out.booking.booking.created_at)
                booked = booking_view(out.booking)
        elif out.booking is not None:
            b = out.booking
            u.emit(
                EventName.SLOT_BOOKED,
                directory_audience(),
                booking={
                    "id": b.booking.id,
                    "slot_id": b.booking.slot_id,
                    "effecteur_id": b.booking.effecteur_id,
                    "effecteur": b.effecteur.display_name,
                    "appointment_at": iso(b.booking.appointment_at),
                    "type": b.booking.consultation_type,
                    "dossier_id": b.booking.dossier_id,
                    "requires_call": b.booking.requires_call,
                    "released_at": None,
                },
                slot=slot_view(b.slot) if b.slot else None,
                weekly_snp=b.weekly_snp,
                weekly_cap=self.settings.weekly_cap,
            )
        if out.appointment is not None or out.no_solution is not None:
            reminders.cancel_for_task(u.s, task.id, u.now)
        if out.appointment is not None:
            ap = out.appointment
            u.s.flush()
            text, billing = self._patient_text(u, task, ap), self._billing(u, ap)
            u.emit(
                EventName.CALLBACK_APPOINTMENT,
                audience,
                task=task,
                dossier=task.dossier,
                appointment=appointment_view(ap),
                outcome=ap.outcome,
                billing=billing,
            )
            for hook in self.on_appointment:
                hook(u, ap)
            self._close(u, task, TaskOutcome(ap.outcome), ap, i.note)
            made = (appointment_view(ap), text, billing)
        elif out.no_solution is not None:
            self._close(
                u,
                task,
                TaskOutcome.SANS_SOLUTION,
                None,
                i.note or (f"Décision : {i.regulator_decision}" if i.regulator_decision else ""),
                out.no_solution,
            )
        reply: AttemptReply = {
            "attempt": attempt,
            "target": target_now,
            "warnings": out.warnings,
            "plan": self._plan_reply(u, task),
        }
        if booked is not None:
            reply["booking"] = booked
        if made is not None:
            reply["appointment"], reply["patient_text"], reply["billing"] = made
        return reply

    def _close(
        self,
        u: Unit,
        task: OsnpTask,
        outcome: TaskOutcome,
        ap: Appointment | None,
        comment: str,
        reason: Any = None,
    ) -> None:
        payload: dict[str, Any] = {
            "type": IntentName.TASK_CLOSE,
            "task_id": task.id,
            "outcome": str(outcome),
            "comment": comment,
        }
        if ap is not None:
            payload["appointment"] = {
                "with": ap.doctor_name,
                "at": ap.at,
                "place": ap.place,
                "consultation_type": ap.consultation_type,
            }
        if reason is not None:
            payload["no_solution_reason"] = str(reason)
        # The core's own close: same rules, same events (task.closed, dossier.closed).
        self.flow.close_task(u, TaskClose.model_validate(payload))

    def _billing(self, u: Unit, ap: Appointment) -> Billing:
        weekly = weekly_snp_count(u.s, ap.effecteur_id, ap.at) if ap.effecteur_id else 0
        if ap.booking_id is None and not ap.is_treating_doctor:
            weekly += 1  # not in the directory: this patient still counts for the doctor
        return billing_hint(ap, weekly, self.settings.weekly_cap)

    def _osnp_name(self, u: Unit) -> str:
        assert u.actor is not None
        return u.actor.name

    def _patient_text(self, u: Unit, task: OsnpTask, ap: Appointment) -> PatientText:
        script = self.scripts["PATIENT"]
        facts = dossier_facts(task, self.settings, self._osnp_name(u), None, u.now)
        facts.update(appointment_facts(ap, task.dossier.patient_age))
        rendered = script.render(facts)
        return {
            "message": rendered["message"],
            "script": rendered,
            "send_to": task.dossier.callback_number,
        }

    # -- scripts -----------------------------------------------------------------------

    def script(self, u: Unit, i: CallbackScript) -> ScriptReply:
        if i.target_id is not None:
            target, task = self._target(u, i.target_id, p.IntentName.CALLBACK_SCRIPT)
            found = self.scripts.for_kind(TargetKind(target.kind))
            if found is None:
                raise FlowError(
                    "not_found", f"pas de script pour « {TargetKind(target.kind).label} »"
                )
            facts = dossier_facts(task, self.settings, self._osnp_name(u), target, u.now)
            return {"script": found.render(facts), "target": target_view(target)}
        if i.task_id is None:
            raise FlowError("invalid_message", "indiquez target_id ou task_id")
        task = self._task(u, i.task_id, p.IntentName.CALLBACK_SCRIPT)
        ap = self._appointment_of(u, task.id)
        if ap is None:
            raise FlowError("invalid_state", "pas encore de rendez-vous pour cette tâche")
        return {"script": self._patient_text(u, task, ap)["script"]}

    # -- after the appointment ---------------------------------------------------------

    def _task_appointment(
        self, u: Unit, task_id: int, reading: str = ""
    ) -> tuple[OsnpTask, Appointment]:
        task = self._task(u, task_id, reading)
        ap = self._appointment_of(u, task.id)
        if ap is None:
            raise FlowError("invalid_state", "pas de rendez-vous pour cette tâche")
        return task, ap

    def appointment_status(self, u: Unit, i: AppointmentStatusIntent) -> AppointmentReply:
        require(self._role(u), Action.CALL_BACK)
        ap = u.s.get(Appointment, i.appointment_id)
        if ap is None:
            raise FlowError("not_found", f"rendez-vous {i.appointment_id} introuvable")
        task = self._task(u, ap.task_id)
        record_status(u, ap, task, i.status, note=i.note, weekly_cap=self.settings.weekly_cap)
        return {"appointment": appointment_view(ap)}

    def patient_text(self, u: Unit, i: CallbackPatientText) -> PatientTextReply:
        task, ap = self._task_appointment(u, i.task_id, p.IntentName.CALLBACK_PATIENT_TEXT)
        return {"patient_text": self._patient_text(u, task, ap)}

    def billing(self, u: Unit, i: CallbackBilling) -> BillingReply:
        _, ap = self._task_appointment(u, i.task_id)
        return {"billing": self._billing(u, ap)}

    def letter(self, u: Unit, i: CallbackLetter) -> LetterReply:
        denied = refusal(self._role(u), Action.FOLLOW_UP)
        if denied is not None:
            asked = u.s.get(OsnpTask, i.task_id)
            if asked is not None:
                raise refused_read(denied, asked.dossier_id, p.IntentName.CALLBACK_LETTER)
            raise denied
        task, ap = self._task_appointment(u, i.task_id, p.IntentName.CALLBACK_LETTER)
        d = task.dossier
        mt = next((t for t in plan_of(u.s, task.id) if t.kind == TargetKind.MT), None)
        why = "Aucune disponibilité n'a pu être trouvée à votre cabinet dans ce délai."
        if mt is not None:
            last = u.s.scalar(
                select(CallbackAttempt)
                .where(CallbackAttempt.target_id == mt.id)
                .order_by(CallbackAttempt.at.desc(), CallbackAttempt.id.desc())
                .limit(1)
            )
            if mt.status == TargetStatus.SKIPPED:
                why = f"Votre cabinet n'a pas pu être sollicité ({mt.skip_reason.rstrip('.')})."
            elif last is not None and last.result == AttemptResult.REFUSED:
                why = "Vous n'étiez pas en mesure de recevoir votre patient dans ce délai."
            elif last is not None and AttemptResult(last.result).plans_retry:
                why = "Nous n'avons pas pu vous joindre dans ce délai."
        mt_name = (
            ""
            if has_no_treating_doctor(d.treating_doctor)
            else (mt.name if mt is not None else d.treating_doctor)
        )
        regulator = u.s.get(User, d.decided_by_id) if d.decided_by_id else None
        # reportlab is imported with the first letter, not with every hub's start.
        from app.callback.letter import LetterFacts, letter_pdf

        facts = LetterFacts(
            treating_doctor=mt_name,
            treating_doctor_place=mt.place if mt is not None else "",
            regulator=regulator.display_name if regulator else "régulateur",
            osnp=self._osnp_name(u),
            why_not_mt=why,
        )
        pdf = letter_pdf(task, ap, facts, self.settings, u.now)
        filename = f"courrier-MT-{d.number}.pdf"
        u.emit(
            EventName.CALLBACK_LETTER_MADE,
            self._audience(task),
            task=task,
            dossier=d,
            appointment_id=ap.id,
            treating_doctor=mt_name,
            bytes=len(pdf),
            filename=filename,
        )
        return {
            "letter": {
                "filename": filename,
                "media_type": "application/pdf",
                "pdf_base64": base64.b64encode(pdf).decode("ascii"),
            }
        }

    def stats(self, u: Unit, i: CallbackStats) -> StatsReply:
        require(self._role(u), Action.FOLLOW_UP)
        if i.end < i.start:
            raise FlowError("invalid_message", "la fin de la période précède son début")
        start = datetime.combine(i.start, time(0), tzinfo=PARIS)
        end = datetime.combine(i.end + timedelta(days=1), time(0), tzinfo=PARIS)
        return {"stats": osnp_table(u.s, start, end)}


class CallbackExtension(Extension):
    """The call-back workflow and its reminders' scheduler."""

    name = "app.callback"
    protocol: tuple[type[Intent], ...] = callback_protocol.INTENTS

    def __init__(
        self,
        service: HubService,
        flow: FlowHandlers | None = None,
        settings: Settings | None = None,
        scripts: ScriptBook | None = None,
        directory: DirectoryHandlers | None = None,
    ):
        """Settings and scripts are checked here: a broken room file stops the hub with
        the file, line and reason."""
        self.service = service
        room = settings or service.settings.section(Settings) or load_settings()
        room = replace(room, weekly_cap=service.settings.targets.weekly_snp_cap)
        self.callbacks = CallbackHandlers(
            service,
            room,
            scripts or load_scripts(),
            flow=flow or FlowHandlers(service),
            directory=directory,
        )
        #: The reminders' scheduler while the hub runs (the appointments ride it too).
        self.scheduler: reminders.ReminderScheduler | None = None

    def handlers(self) -> Mapping[type[Intent], Handler]:
        h = self.callbacks
        return {
            CallbackPlan: h.plan,
            CallbackTargetAdd: h.target_add,
            CallbackTargetSkip: h.target_skip,
            CallbackPlanReorder: h.plan_reorder,
            CallbackAttemptIntent: h.attempt,
            CallbackScript: h.script,
            AppointmentStatusIntent: h.appointment_status,
            CallbackPatientText: h.patient_text,
            CallbackLetter: h.letter,
            CallbackBilling: h.billing,
            CallbackStats: h.stats,
        }

    async def start(self, ctx: HubContext) -> None:
        """Start the reminders' scheduler in the hub's loop."""
        if self.scheduler is not None:  # already started
            return
        scheduler = reminders.ReminderScheduler(
            ctx.service, self.callbacks.settings, ctx.run_in_writer, ctx.broadcast
        )
        self.callbacks.on_reminder = scheduler.arm
        self.scheduler = scheduler
        await scheduler.start()

    async def stop(self, ctx: HubContext) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
            self.scheduler = None


def install(
    service: HubService, settings: Settings | None = None, scripts: ScriptBook | None = None
) -> CallbackExtension:
    """The call-back workflow on a bare service (tools and tests)."""
    return install_one(service, CallbackExtension(service, None, settings, scripts))
