"""The OSNP's call-back panel: the plan, the script to read, the call's outcome, and what
follows the appointment (patient text, billing hint, letter to the MT).

It holds no rule: every button becomes an intent (``intent_requested``) that the
controller sends to the hub; replies and hub events come back through ``apply_reply``
and ``on_event``. Dialling goes out through ``dial_requested`` (click-to-call).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QDateTimeEdit,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.callback import protocol as cb
from app.callback.vocab import AttemptResult, RefusalReason
from app.directory.vocab import PARIS
from app.domain.enums import ConsultationType
from app.hub.events import EventName
from app.hub.payloads import EventMessage, as_reply, event_data
from app.hub.protocol import IntentName
from ui.models.rows import Column, RowTableModel
from ui.naming import named
from ui.room_view import DownScroll
from ui.widgets.decision_form import enum_combo


def _local(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(PARIS).strftime("%d/%m %Hh%M")


def _detail(row: dict[str, Any]) -> str:
    if row.get("skip_reason"):
        return f"passé : {row['skip_reason']}"
    if row.get("retry_at") and row["status"] in ("RETRY", "CALL_BACK"):
        return f"rappeler à {_local(row['retry_at'])}"
    if row.get("slot_start"):
        return f"créneau {_local(row['slot_start'])}"
    return str(row.get("why", ""))


PLAN_COLUMNS = [
    Column("#", lambda r: r["position"]),
    Column("Qui", lambda r: r["kind_label"]),
    Column("Médecin", lambda r: r["name"], tooltip=lambda r: r.get("place", "")),
    Column("Téléphone", lambda r: r["phone_direct"] or r["phone_secretary"]),
    Column("Statut", lambda r: r["status_label"]),
    Column("Détail", _detail, tooltip=lambda r: r.get("conditions", "")),
]


class CallbackPanel(QWidget):
    intent_requested = Signal(str, dict)  # intent type, payload (without "type")
    dial_requested = Signal(int, str)  # target id, number

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.task_id: int | None = None
        self.appointment: cb.AppointmentView | None = None
        self.letter_pdf: bytes | None = None
        self.call_facts: dict[int, dict[str, Any]] = {}  # target id → the last call's facts
        self._build_plan()
        self._build_outcome_inputs()
        outcome = self._build_outcome()
        details = self._build_details()
        self._build_after()
        self._lay_out(outcome, details)
        self.wide: bool | None = None
        self._shape(wide=False)
        self._sync_buttons()

    def _build_plan(self) -> None:
        """The plan's table, the header and notes above it, the script to read."""
        self.model = RowTableModel(PLAN_COLUMNS, lambda r: True, lambda r: r["position"])
        self.table = named(QTableView(), "callbackPlan")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        self.header = named(QLabel("Aucune recherche de RDV ouverte"), "callbackHeader")
        self.header.setWordWrap(True)
        self.notes = named(QLabel(""), "callbackNotes")
        self.notes.setWordWrap(True)
        self.notes.setVisible(False)
        self.script = named(QTextBrowser(), "callbackScript")

    def _build_outcome_inputs(self) -> None:
        """The dial buttons, one button per call outcome and the details they carry."""
        self.call_direct = named(QPushButton("Appeler (&direct)"), "dialDirect")
        self.call_secretary = named(QPushButton("Appeler le &secrétariat"), "dialSecretary")
        self.call_direct.clicked.connect(lambda: self._dial("phone_direct"))
        self.call_secretary.clicked.connect(lambda: self._dial("phone_secretary"))

        self.result_buttons: dict[AttemptResult, QPushButton] = {}
        texts = {
            AttemptResult.ACCEPTED: "&Accepte",
            AttemptResult.REFUSED: "&Refuse",
            AttemptResult.NO_ANSWER: "Pas de ré&ponse",
            AttemptResult.BUSY: "&Occupé",
            AttemptResult.VOICEMAIL: "&Messagerie",
            AttemptResult.CALL_BACK: "Rappeler &à l'heure",
        }
        for result, text in texts.items():
            button = named(QPushButton(text), f"result_{result}")
            button.clicked.connect(lambda _=False, r=result: self.record(r))
            self.result_buttons[result] = button
        self.refusal = enum_combo(RefusalReason, "refusal_reason")
        self.when = named(QDateTimeEdit(), "callback_when")
        self.when.setCalendarPopup(True)
        self.when.setDisplayFormat("dd/MM/yyyy HH:mm")
        self._when_edited = False
        self.when.dateTimeChanged.connect(lambda _: setattr(self, "_when_edited", True))
        self.use_slot = named(QLabel(""), "callbackSlotHint")
        self.place = named(QLineEdit(), "callback_place")
        self.place.setPlaceholderText("lieu (par défaut : celui de l'annuaire)")
        self.ctype = enum_combo(ConsultationType, "callback_type", empty="(type demandé)")
        self.note = named(QLineEdit(), "callback_note")
        self.skip_reason = named(QLineEdit(), "skip_reason")
        self.skip_reason.setPlaceholderText("raison (obligatoire pour passer)")
        self.skip_button = named(QPushButton("&Passer ce correspondant"), "skipTarget")
        self.skip_button.clicked.connect(self.skip)

    def _build_outcome(self) -> QGroupBox:
        # The outcome's buttons stay in a fixed row under the part that scrolls (plan,
        # script, details): in view without scrolling even on a 768-pixel screen.
        outcome = named(QGroupBox("Issue de l'appel"), "callbackOutcome")
        self.outcome_grid = QGridLayout(outcome)
        return outcome

    def _build_details(self) -> QGroupBox:
        details = QGroupBox("Précisions (avant de cliquer l'issue)")
        form = QFormLayout(details)
        form.addRow("Raison du &refus", self.refusal)
        form.addRow("&Heure (RDV ou rappel)", self.when)
        form.addRow("", self.use_slot)
        form.addRow("&Lieu", self.place)
        form.addRow("&Type", self.ctype)
        form.addRow("&Note", self.note)
        skip_row = QHBoxLayout()
        skip_row.addWidget(self.skip_reason, 1)
        skip_row.addWidget(self.skip_button)
        form.addRow("Passer", skip_row)
        return details

    def _build_after(self) -> None:
        """What follows an accepted appointment: patient text, billing hint, letter."""
        self.after = QGroupBox("Rendez-vous obtenu")
        self.patient_text = named(QPlainTextEdit(), "patientText")
        self.patient_text.setMaximumHeight(90)
        self.patient_text.setReadOnly(True)
        self.billing = named(QLabel(""), "billingHint")
        self.billing.setWordWrap(True)
        self.letter_button = named(
            QPushButton("&Courrier au médecin traitant (PDF)"), "letterButton"
        )
        self.letter_button.clicked.connect(self.request_letter)
        self.letter_label = named(QLabel(""), "letterLabel")
        after = QVBoxLayout(self.after)
        after.addWidget(QLabel("Texte pour le patient (à lire ou envoyer) :"))
        after.addWidget(self.patient_text)
        after.addWidget(self.billing)
        row = QHBoxLayout()
        row.addWidget(self.letter_button)
        row.addWidget(self.letter_label, 1)
        after.addLayout(row)
        self.after.setVisible(False)

    def _lay_out(self, outcome: QGroupBox, details: QGroupBox) -> None:
        """The scrolled part (header, plan, script, details, after) above the fixed rows."""
        dial = QHBoxLayout()
        dial.addWidget(self.call_direct)
        dial.addWidget(self.call_secretary)
        upper = QWidget()
        scrolled = QVBoxLayout(upper)
        scrolled.setContentsMargins(0, 0, 0, 0)
        scrolled.addWidget(self.header)
        scrolled.addWidget(self.notes)
        # Stacked in a column (a side dock), side by side in a wide and short band (the
        # bottom of a 768-pixel screen): see _shape.
        self.body = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.body.addWidget(self.table, 2)
        self.body.addWidget(self.script, 2)
        self.body.addWidget(details, 1)
        scrolled.addLayout(self.body, 1)
        scrolled.addWidget(self.after)
        self.upper = named(DownScroll(upper), "callbackScroll")
        layout = QVBoxLayout(self)
        layout.addWidget(self.upper, 1)
        layout.addLayout(dial)
        layout.addWidget(outcome)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        size = event.size()
        self._shape(wide=size.width() >= 2 * size.height())

    def _shape(self, wide: bool) -> None:
        """Wide and short: plan, script and details side by side, the six outcomes in one
        row; otherwise stacked, the outcomes in two rows of three."""
        if wide == self.wide:
            return
        self.wide = wide
        self.body.setDirection(
            QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        )
        columns = 6 if wide else 3
        for n, button in enumerate(self.result_buttons.values()):
            self.outcome_grid.removeWidget(button)
            self.outcome_grid.addWidget(button, n // columns, n % columns)

    # -- state in -----------------------------------------------------------------------

    def open_task(self, task: Mapping[str, Any]) -> None:
        self.task_id = int(task["id"])
        self.header.setText(
            f"<b>{task.get('patient') or 'Patient'}</b>, "
            f"{task.get('patient_age') or '?'} ans — « {task.get('motif', '')} »"
            f" — échéance {_local(task.get('deadline_at'))}"
        )
        self.intent_requested.emit(IntentName.CALLBACK_PLAN, {"task_id": self.task_id})

    def show_plan(self, plan: cb.PlanView) -> None:
        self.task_id = plan["task_id"]
        selected = self.current_target()
        self.model.reset_rows(plan["targets"])
        self.notes.setText(" · ".join(plan["notes"]))
        self.notes.setVisible(bool(self.notes.text()))  # no empty line above the plan
        still = selected is not None and any(
            r["id"] == selected["id"] and r["status"] == "TO_CALL" for r in plan["targets"]
        )
        # stay on a target not yet called; after an outcome, go to the next one
        wanted = selected["id"] if still and selected else plan["next_target_id"]
        if wanted is not None:
            self.select_target(wanted)
        if plan["appointment"] is not None:
            self.appointment = plan["appointment"]
            self.after.setVisible(True)
        self._sync_buttons()

    def apply_reply(self, type_: str, reply: Mapping[str, Any]) -> None:
        """A call-back reply (app.callback.protocol.REPLIES): each part it carries shown."""
        if "plan" in reply:
            self.show_plan(as_reply(reply, cb.PlanReply)["plan"])
        if type_ == IntentName.CALLBACK_SCRIPT and "script" in reply:
            self.show_script(as_reply(reply, cb.ScriptReply)["script"])
        if "patient_text" in reply:
            text = as_reply(reply, cb.PatientTextReply)["patient_text"]
            self.patient_text.setPlainText(text["message"])
        if "billing" in reply:
            self.billing.setText(as_reply(reply, cb.BillingReply)["billing"]["text"])
        if reply.get("appointment"):
            self.appointment = as_reply(reply, cb.AppointmentReply)["appointment"]
            self.after.setVisible(True)
        if "letter" in reply:
            letter = as_reply(reply, cb.LetterReply)["letter"]
            self.letter_pdf = base64.b64decode(letter["pdf_base64"])
            self.letter_label.setText(f"{letter['filename']} prêt")

    def on_event(self, msg: EventMessage) -> None:
        """Hub events about this task (this desk's own, another's, a reminder) change the
        plan shown from what they carry: only a plan built again, which its event does
        not carry, is asked for."""
        task = msg.get("task")
        if self.task_id is None or task is None or task["id"] != self.task_id:
            return
        name = msg["event"]
        if name in (EventName.CALLBACK_TARGET_ADDED, EventName.CALLBACK_TARGET_SKIPPED):
            self._apply_target(event_data(msg, cb.TargetAddedData)["target"])
        elif name == EventName.CALLBACK_ATTEMPT:
            self._apply_target(event_data(msg, cb.AttemptData)["target"])
        elif name == EventName.CALLBACK_PLAN_REORDERED:
            self._reorder(event_data(msg, cb.PlanReorderedData)["order"])
        elif name == EventName.CALLBACK_APPOINTMENT:
            self.appointment = event_data(msg, cb.AppointmentMadeData)["appointment"]
            self.after.setVisible(True)
            self._sync_buttons()
        elif name == EventName.CALLBACK_APPOINTMENT_STATUS:
            change = event_data(msg, cb.AppointmentStatusData)
            if self.appointment and self.appointment["id"] == change["appointment_id"]:
                self.appointment = {**self.appointment, "status": change["status"]}
        elif name == EventName.CALLBACK_PLAN_BUILT:
            built = event_data(msg, cb.PlanBuiltData).get("target_ids")
            if built != [r["id"] for r in self.model.rows]:  # not the plan shown: asked
                self.intent_requested.emit(IntentName.CALLBACK_PLAN, {"task_id": self.task_id})
        # a letter made, a reminder, a deadline, the SAS closing: the plan is unchanged

    def _apply_target(self, target: cb.TargetView) -> None:
        selected = self.current_target()
        self.model.upsert(target)
        if selected is not None:
            self.select_target(selected["id"])
        self._sync_buttons()

    def _reorder(self, order: list[int]) -> None:
        """Each row moved to its new place (the selection follows its row)."""
        rank: dict[int, int] = dict(zip(order, range(1, len(order) + 1), strict=True))
        moved = [{**r, "position": rank.get(r["id"], r["position"])} for r in self.model.rows]
        for row in sorted(moved, key=lambda r: int(r["position"])):
            self.model.upsert(row)
        if [r["position"] for r in self.model.rows] != sorted(
            r["position"] for r in self.model.rows
        ):
            selected = self.current_target()  # moved one by one past stale places: redo
            self.model.reset_rows(list(self.model.rows))
            if selected is not None:
                self.select_target(selected["id"])
        self._sync_buttons()

    def show_script(self, script: cb.ScriptView) -> None:
        questions = "".join(
            f"<li>{q['text']}"
            + (f"<br/><i>{' / '.join(q['answers'])}</i>" if q["answers"] else "")
            + "</li>"
            for q in script["questions"]
        )
        text = script["text"].replace("\n", "<br/>")
        self.script.setHtml(
            f"<h3>{script['title']}</h3><p>{text}</p><ol>{questions}</ol>"
            f"<p><i>{script['conclusion']}</i></p>"
        )

    # -- selection ------------------------------------------------------------------------

    def current_target(self) -> dict[str, Any] | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def select_target(self, target_id: int) -> None:
        row = self.model.position(target_id)
        if row is not None:
            self.table.setCurrentIndex(self.model.index(row, 0))

    def _row_changed(self, *_: Any) -> None:
        target = self.current_target()
        self._sync_buttons()
        if target is None:
            return
        self.use_slot.setText(
            f"heure inchangée = créneau publié du {_local(target['slot_start'])}"
            if target.get("slot_start")
            else ""
        )
        default = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
        start = target.get("slot_start") or target.get("retry_at")
        shown = datetime.fromisoformat(start) if start else default
        local = shown.astimezone(PARIS)  # the room works in Paris time, whatever the PC says
        self.when.setDateTime(
            QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))
        )
        self._when_edited = False  # untouched: a published slot is taken as it is
        if target["kind"] not in ("TELECONSULTATION", "PDSA", "URGENCES"):
            self.intent_requested.emit(IntentName.CALLBACK_SCRIPT, {"target_id": target["id"]})

    def _sync_buttons(self) -> None:
        target = self.current_target()
        open_ = (
            target is not None
            and target["status"] in ("TO_CALL", "RETRY", "CALL_BACK")
            and self.appointment is None
        )
        for button in [*self.result_buttons.values(), self.skip_button]:
            button.setEnabled(open_)
        self.call_direct.setEnabled(bool(open_ and target and target["phone_direct"]))
        self.call_secretary.setEnabled(bool(open_ and target and target["phone_secretary"]))

    # -- intents out ----------------------------------------------------------------------

    def _dial(self, field: str) -> None:
        target = self.current_target()
        if target and target[field]:
            self.dial_requested.emit(target["id"], target[field])

    def _when(self) -> str:
        value = self.when.dateTime()
        d, t = value.date(), value.time()
        at = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), tzinfo=PARIS)
        return at.isoformat()

    def attach_call(self, target_id: int, facts: dict[str, Any]) -> None:
        """The line's facts of the call just made (``DialledCall.attempt_fields``): sent with
        the outcome the OSNP picks next for that target."""
        keep = ("number", "call_ref", "duration_seconds", "recording_path")
        self.call_facts[target_id] = {k: v for k, v in facts.items() if k in keep}

    def record(self, result: AttemptResult) -> None:
        """Send the outcome, with the last call's number, ref, duration and recording."""
        target = self.current_target()
        if target is None:
            return
        payload: dict[str, Any] = {
            "target_id": target["id"],
            "result": str(result),
            **self.call_facts.pop(target["id"], {}),
        }
        if self.note.text().strip():
            payload["note"] = self.note.text().strip()
        if result is AttemptResult.REFUSED:
            payload["refusal_reason"] = self.refusal.currentData()
        elif result is AttemptResult.CALL_BACK:
            payload["call_back_at"] = self._when()
        elif result is AttemptResult.ACCEPTED:
            appointment: dict[str, Any] = {}
            if not (target.get("slot_start") and not self._when_edited):
                appointment["at"] = self._when()
            if self.place.text().strip():
                appointment["place"] = self.place.text().strip()
            if self.ctype.currentData():
                appointment["consultation_type"] = self.ctype.currentData()
            if appointment:
                payload["appointment"] = appointment
        self.note.clear()
        self.intent_requested.emit(IntentName.CALLBACK_ATTEMPT, payload)

    def skip(self) -> None:
        target = self.current_target()
        reason = self.skip_reason.text().strip()
        if target is None or not reason:
            self.skip_reason.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.skip_reason.clear()
        self.intent_requested.emit(
            IntentName.CALLBACK_TARGET_SKIP, {"target_id": target["id"], "reason": reason}
        )

    def request_letter(self) -> None:
        if self.task_id is not None:
            self.intent_requested.emit(IntentName.CALLBACK_LETTER, {"task_id": self.task_id})
