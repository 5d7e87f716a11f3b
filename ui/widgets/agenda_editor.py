"""The CPTS structure manager's agenda: slots and ranges, weekly recurrence, absences.

Times are typed in Paris time; every change is an intent to the hub, and the agenda
shown is re-read from the hub after each one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt, QTime, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.directory.protocol import (
    AgendaReply,
    AgendaSlot,
    AgendaView,
    EffecteurRow,
    SlotView,
    UnavailabilityView,
)
from app.domain.enums import ConsultationType
from app.hub.protocol import IntentName
from ui.naming import named

PARIS = ZoneInfo("Europe/Paris")
VISIBILITIES = (
    ("SNP", "Réservé SAS (SNP)"),
    ("PUBLIC", "Public"),
    ("PRO", "Professionnels"),
    ("CPTS", "CPTS"),
)
ID_ROLE = 256
#: The days ahead an agenda shows (``agenda.view``'s default): a change beyond is not shown.
AGENDA_DAYS = int(AgendaView.model_fields["days"].default)


def paris(day: QDate, at: QTime) -> datetime:
    return datetime.combine(day.toPython(), time(at.hour(), at.minute()), PARIS)  # type: ignore[arg-type]


def buddy(text: str, widget: QWidget) -> QLabel:
    """A form label whose Alt+letter goes to ``widget`` (else "&" shows as a character)."""
    label = QLabel(text)
    label.setBuddy(widget)
    return label


class AgendaEditor(QWidget):
    intent_requested = Signal(str, dict)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("sasdesk — agendas des effecteurs")
        self.effecteur_id: int | None = None
        #: The agenda on screen, as ``agenda.view`` answered it and the changes since.
        self.agenda: AgendaReply | None = None
        self.filter = named(QLineEdit(), "agendaFilter")
        self.filter.setPlaceholderText("Nom ou RPPS")
        self.filter.returnPressed.connect(self.search)
        self.people = named(QListWidget(), "agendaEffecteurs")
        self.people.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.people.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.people.currentItemChanged.connect(self._chosen)
        self.title = named(QLabel("Choisissez un effecteur"), "agendaTitle")
        self.title.setWordWrap(True)
        self.model = QStandardItemModel(self)
        self.model.setHorizontalHeaderLabels(
            ["Date", "Début", "Fin", "Type", "Places", "Visibilité", "État", "Source"]
        )
        self.table = named(QTableView(), "agendaSlots")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

        new = self._new_slot_form()

        self.new_capacity = named(QSpinBox(), "slotNewCapacity")
        self.new_capacity.setRange(1, 50)
        change = named(QPushButton("Changer la capacité"), "slotUpdate")
        change.clicked.connect(self.update_capacity)
        cancel = named(QPushButton("Supprimer le créneau"), "slotCancel")
        cancel.clicked.connect(self.cancel_slot)
        selected = QHBoxLayout()
        selected.addWidget(QLabel("Créneau sélectionné :"))
        selected.addWidget(self.new_capacity)
        selected.addWidget(change)
        selected.addWidget(cancel)

        absence = self._absence_form()

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(self.filter)
        ll.addWidget(self.people, 1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.title)
        rl.addWidget(self.table, 1)
        rl.addLayout(selected)
        forms = QHBoxLayout()
        forms.addWidget(new)
        forms.addWidget(absence)
        rl.addLayout(forms)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([260, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self.resize(1250, 760)

    def _new_slot_form(self) -> QGroupBox:
        """A slot or a range to create: day, hours, type, capacity, visibility, weeks."""
        self.day = named(QDateEdit(QDate.currentDate()), "slotDay")
        self.day.setCalendarPopup(True)
        self.start = named(QTimeEdit(QTime(14, 0)), "slotStart")
        self.end = named(QTimeEdit(QTime(14, 15)), "slotEnd")
        self.ctype = named(QComboBox(), "slotType")
        for t in ConsultationType:
            self.ctype.addItem(t.label, str(t))
        self.capacity = named(QSpinBox(), "slotCapacity")
        self.capacity.setRange(1, 50)
        self.capacity.setSuffix(" patient(s)")
        self.visibility = named(QComboBox(), "slotVisibility")
        for value, text in VISIBILITIES:
            self.visibility.addItem(text, value)
        self.weeks = named(QSpinBox(), "slotWeeks")
        self.weeks.setRange(1, 26)
        self.weeks.setSuffix(" semaine(s)")
        create = named(QPushButton("Créer le créneau ou la plage"), "slotCreate")
        create.clicked.connect(self.create_slot)
        new = QGroupBox("Nouveau créneau (1 patient) ou plage (N patients, « 0/5 »)")
        form = QFormLayout(new)
        form.addRow("&Jour", self.day)
        hours = QHBoxLayout()
        hours.addWidget(self.start)
        hours.addWidget(QLabel("à"))
        hours.addWidget(self.end)
        form.addRow(buddy("&Horaire", self.start), hours)  # a row of two: its label needs a buddy
        form.addRow("&Type", self.ctype)
        form.addRow("&Capacité", self.capacity)
        form.addRow("&Visibilité", self.visibility)
        form.addRow("&Répéter", self.weeks)
        form.addRow(create)
        return new

    def _absence_form(self) -> QGroupBox:
        """The effecteur's absences: one to add (from, to, reason), the list, removal."""
        self.absence_from = named(QDateEdit(QDate.currentDate()), "absenceFrom")
        self.absence_to = named(QDateEdit(QDate.currentDate().addDays(7)), "absenceTo")
        self.absence_reason = named(QLineEdit(), "absenceReason")
        self.absence_reason.setPlaceholderText("congés, formation…")
        add_absence = named(QPushButton("Ajouter l'absence"), "absenceAdd")
        add_absence.clicked.connect(self.add_absence)
        self.absences = named(QListWidget(), "absences")
        remove_absence = named(QPushButton("Retirer l'absence"), "absenceRemove")
        remove_absence.clicked.connect(self.remove_absence)
        absence = QGroupBox("Indisponibilités")
        a = QFormLayout(absence)
        span = QHBoxLayout()
        span.addWidget(self.absence_from)
        span.addWidget(QLabel("au"))
        span.addWidget(self.absence_to)
        a.addRow(buddy("&Du", self.absence_from), span)
        a.addRow("&Motif", self.absence_reason)
        a.addRow(add_absence)
        a.addRow(self.absences)
        a.addRow(remove_absence)
        return absence

    # -- hub → screen -------------------------------------------------------------------

    def search(self) -> None:
        self.intent_requested.emit(IntentName.AGENDA_EFFECTEURS, {"text": self.filter.text()})

    def show_effecteurs(self, rows: list[EffecteurRow]) -> None:
        self.people.clear()
        for row in rows:
            item = QListWidgetItem(f"{row['name']} — {row['structure'] or row['mode']}")
            item.setData(ID_ROLE, row["id"])
            item.setToolTip(item.text())  # the list is narrow: long names are cut
            self.people.addItem(item)

    def _chosen(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.effecteur_id = int(item.data(ID_ROLE))
            self.reload()

    def reload(self) -> None:
        if self.effecteur_id is not None:
            self.intent_requested.emit(IntentName.AGENDA_VIEW, {"effecteur_id": self.effecteur_id})

    def show_agenda(self, agenda: AgendaReply) -> None:
        self.agenda = {
            "effecteur": agenda["effecteur"],
            "slots": list(agenda["slots"]),
            "unavailabilities": list(agenda["unavailabilities"]),
        }
        self._render(self.agenda)

    def shows(self, effecteur_id: int | None) -> bool:
        """Whether the agenda on screen is this effecteur's."""
        return self.agenda is not None and self.agenda["effecteur"]["id"] == effecteur_id

    def apply_slots(self, slots: Iterable[SlotView]) -> None:
        """Slots created, changed, booked or cancelled, as the hub's reply or event gives
        them: those of the agenda on screen replace their row, or join it within its days."""
        agenda = self.agenda
        if agenda is None:
            return
        now = datetime.now(UTC)
        until = now + timedelta(days=AGENDA_DAYS)
        rows = {s["id"]: s for s in agenda["slots"]}
        for s in slots:
            if s["effecteur_id"] != agenda["effecteur"]["id"]:
                continue
            start, end = datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])
            if s["id"] in rows or (end >= now and start < until):
                rows[s["id"]] = agenda_slot(s)
        agenda["slots"] = sorted(
            rows.values(), key=lambda s: (datetime.fromisoformat(s["start"]), s["id"])
        )
        self._render(agenda)

    def apply_unavailability(
        self, added: UnavailabilityView | None = None, removed: int | None = None
    ) -> None:
        agenda = self.agenda
        if agenda is None:
            return
        kept = [x for x in agenda["unavailabilities"] if x["id"] not in (removed, None)]
        if added is not None:
            kept = [x for x in kept if x["id"] != added["id"]] + [added]
        agenda["unavailabilities"] = sorted(kept, key=lambda x: (x["start"], x["id"]))
        self._render(agenda)

    def _render(self, agenda: AgendaReply) -> None:
        e = agenda["effecteur"]
        weekly = " ; ".join(e.get("weekly_availability") or []) or "—"
        self.title.setText(
            f"<b>{e['name']}</b> (RPPS {e['rpps']}) — disponibilités déclarées : {weekly}"
        )
        self.model.removeRows(0, self.model.rowCount())
        for s in agenda["slots"]:
            start = datetime.fromisoformat(s["start"]).astimezone(PARIS)
            end = datetime.fromisoformat(s["end"]).astimezone(PARIS)
            places = (
                f"{s['booked']}/{s['capacity']}"
                if s["is_range"]
                else ("réservé" if s["booked"] else "libre")
            )
            row = [
                QStandardItem(x)
                for x in (
                    start.strftime("%a %d/%m"),
                    start.strftime("%H:%M"),
                    end.strftime("%H:%M"),
                    ConsultationType(s["type"]).label,
                    places,
                    s["visibility"],
                    s["status"],
                    s["source"],
                )
            ]
            row[0].setData(s["id"], ID_ROLE)
            row[0].setData(s["capacity"], ID_ROLE + 1)
            self.model.appendRow(row)
        self.table.resizeColumnsToContents()
        self.absences.clear()
        for x in agenda["unavailabilities"]:
            start = datetime.fromisoformat(x["start"]).astimezone(PARIS)
            end = datetime.fromisoformat(x["end"]).astimezone(PARIS)
            item = QListWidgetItem(f"{start:%d/%m/%Y} → {end:%d/%m/%Y} {x['reason']}")
            item.setData(ID_ROLE, x["id"])
            self.absences.addItem(item)

    # -- screen → hub -------------------------------------------------------------------

    def _selected_slot(self) -> int | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return int(self.model.item(index.row(), 0).data(ID_ROLE))

    def create_slot(self) -> None:
        if self.effecteur_id is None:
            return
        start, end = (
            paris(self.day.date(), self.start.time()),
            paris(self.day.date(), self.end.time()),
        )
        self.intent_requested.emit(
            IntentName.AGENDA_SLOT_CREATE,
            {
                "effecteur_id": self.effecteur_id,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "consultation_type": self.ctype.currentData(),
                "capacity": self.capacity.value(),
                "visibility": self.visibility.currentData(),
                "weeks": self.weeks.value(),
            },
        )

    def update_capacity(self) -> None:
        slot = self._selected_slot()
        if slot is not None:
            self.intent_requested.emit(
                IntentName.AGENDA_SLOT_UPDATE,
                {"slot_id": slot, "capacity": self.new_capacity.value()},
            )

    def cancel_slot(self) -> None:
        slot = self._selected_slot()
        if slot is not None:
            self.intent_requested.emit(IntentName.AGENDA_SLOT_CANCEL, {"slot_id": slot})

    def add_absence(self) -> None:
        if self.effecteur_id is None:
            return
        start = paris(self.absence_from.date(), QTime(0, 0))
        end = paris(self.absence_to.date(), QTime(23, 59))
        self.intent_requested.emit(
            IntentName.AGENDA_UNAVAILABILITY_ADD,
            {
                "effecteur_id": self.effecteur_id,
                "start": start.isoformat(),
                "end": end.isoformat(),
                "reason": self.absence_reason.text().strip(),
            },
        )

    def remove_absence(self) -> None:
        item = self.absences.currentItem()
        if item is not None:
            self.intent_requested.emit(
                IntentName.AGENDA_UNAVAILABILITY_REMOVE,
                {"unavailability_id": int(item.data(ID_ROLE))},
            )


def agenda_slot(s: SlotView) -> AgendaSlot:
    """A slot as the agenda editor lists it."""
    return {
        "id": s["id"],
        "start": s["start"],
        "end": s["end"],
        "type": s["type"],
        "capacity": s["capacity"],
        "booked": s["booked"],
        "is_range": s["is_range"],
        "visibility": s["visibility"],
        "status": s["status"],
        "source": s["source"],
    }
