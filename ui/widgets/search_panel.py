"""The docked slot search: who can see this patient, where and when, within 72 h.

Results are grouped by doctor as on the national SAS platform (rank, participation,
distance, next slots per day, "0/5" ranges, agenda per place, conditions, phones); the
slots are the doctor's children. The CPTS whose ROR zone covers the patient's commune
comes first, with its SNP phone, its participating doctors as its children. Enter on a
slot books it; F7 calls the selected doctor (or the CPTS).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypedDict

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.directory.protocol import (
    CptsHit,
    DoctorHitView,
    SearchDay,
    SearchSlot,
    SearchView,
    SlotView,
)
from app.domain.enums import ConsultationType
from app.domain.professions import CHOICES, GENERAL
from ui.naming import named

BANDS = (
    ("", "Tous délais"),
    ("0-4", "Disponible sous 4 h"),
    ("4-8", "4 à 8 h"),
    ("8-12", "8 à 12 h"),
    ("12-24", "12 à 24 h"),
    ("24-48", "24 à 48 h"),
    ("48-72", "48 à 72 h"),
)
TYPE_SHORT = {"cabinet": "C", "teleconsultation": "T", "visite": "V"}
WEEKDAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
GENERAL_LABEL = next(label for label, w in CHOICES if w == GENERAL)
KIND = Qt.ItemDataRole.UserRole + 1  # "doctor", "slot", "beyond", "section", "cpts"
PAYLOAD = Qt.ItemDataRole.UserRole + 2


def day_title(day: date, today: date) -> str:
    delta = (day - today).days
    if delta == 0:
        return "Aujourd'hui"
    if delta == 1:
        return "Demain"
    return f"{WEEKDAYS[day.weekday()]} {day.day:02d}/{day.month:02d}"


def slot_text(slot: SearchSlot) -> str:
    start = datetime.fromisoformat(slot["start"]).astimezone()
    end = datetime.fromisoformat(slot["end"]).astimezone()
    text = f"{start:%H:%M}"
    if slot.get("is_range"):
        text = f"{start:%Hh%M}-{end:%Hh%M} {slot['places']}"
    return f"{text} {TYPE_SHORT.get(slot.get('type', ''), '')}".strip()


def agenda_text(doc: DoctorHitView) -> str:
    """The agenda connected to the SAS at each practice place (its editor)."""
    places = doc.get("practices") or []
    labels = [str(p.get("agenda_label") or "") for p in places]
    if len(set(labels)) <= 1:
        return labels[0] if labels else ""
    return " | ".join(
        f"{p.get('commune') or p.get('name')} : {x}" for p, x in zip(places, labels, strict=True)
    )


#: Which case applies, said before the OSNP clicks (the slot's tooltip, the button).
AT_EDITOR = "agenda interfacé : réservation sur la page de l'éditeur"
CALL_DOCTOR = "appeler le médecin pour confirmer"
DIRECT = "agenda interfacé de bout en bout : réservé ici, sans appel"
BOOK_TEXT = {
    "editor": "Réserver sur la page de l'éditeur (Entrée)",
    "call": "Réserver puis appeler le médecin (Entrée)",
    "direct": "Réserver le créneau (Entrée)",
}


def booking_case(slot: SearchSlot, doc: DoctorHitView) -> str:
    """editor (its booking page), call (phone to confirm) or direct (booked here)."""
    if slot.get("booking_page"):
        return "editor"
    return "direct" if doc.get("direct_booking") else "call"


CASE_TEXT = {"editor": AT_EDITOR, "call": CALL_DOCTOR, "direct": DIRECT}


def participation(doc: DoctorHitView, cap: int) -> str:
    parts = ["Participant SAS" if doc.get("sas_participant") else "Non participant"]
    if doc.get("mode"):
        parts.append(str(doc["mode"]))
    at_editor = any(
        slot.get("booking_page") for day in doc.get("days", []) for slot in day.get("slots", [])
    )
    if at_editor:
        parts.append(AT_EDITOR)
    elif doc.get("direct_booking"):
        parts.append("réservation directe")
    else:
        parts.append("appeler pour confirmer")
    if doc.get("weekly_snp") is not None:
        parts.append(f"SNP semaine {doc['weekly_snp']}/{cap}")
    return " · ".join(parts)


class SearchCriteria(TypedDict, total=False):
    """What the panel's controls add to ``directory.search`` (the dossier is the controller's)."""

    bands: list[str]
    types: list[str]
    radius_km: float
    profession: str
    specialty: str


class ResultTree(QTreeView):
    book_key = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.book_key.emit()
            return
        super().keyPressEvent(event)


class SearchPanel(QWidget):
    search_requested = Signal(dict)  # criteria beyond the dossier
    book_requested = Signal(int)  # slot id
    call_requested = Signal(str, str)  # number, who
    refresh_requested = Signal()  # pull the agenda editors' slots now (FHIR)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.band = named(QComboBox(), "searchBand")
        for value, text in BANDS:
            self.band.addItem(text, value)
        self.ctype = named(QComboBox(), "searchType")
        self.ctype.addItem("Tous types", "")
        for t in ConsultationType:
            self.ctype.addItem(t.label, str(t))
        # Whom to search: by default what the regulating doctor asked for (the task's).
        self.profession = named(QComboBox(), "searchProfession")
        self.profession.addItem("Selon la décision", "")
        self.profession.addItem("Toutes professions", "*")
        for label, wanted in CHOICES:
            self.profession.addItem(label, wanted.key)
        # Sized to a short label, not to the longest profession: the panel must still fit
        # a small screen when it floats (the list opens as wide as its items).
        self.profession.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.profession.setMinimumContentsLength(14)
        self.radius = named(QSpinBox(), "searchRadius")
        self.radius.setRange(0, 200)
        self.radius.setSpecialValueText("rayon auto")
        self.radius.setSuffix(" km")
        self.search_button = named(QPushButton("Rechercher (Ctrl+F)"), "searchButton")
        self.search_button.clicked.connect(self.request_search)
        self.summary = named(QLabel("Ouvrez un dossier puis lancez la recherche."), "searchSummary")
        self.summary.setWordWrap(True)
        self.model = QStandardItemModel(self)
        self.tree = named(ResultTree(), "searchResults")
        self.tree.setModel(self.model)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setUniformRowHeights(True)
        self.tree.setMinimumHeight(4 * self.tree.fontMetrics().height())  # a short screen
        self.tree.book_key.connect(self.book_selected)
        self.tree.selectionModel().currentChanged.connect(lambda *_: self._say_case())
        self.tree.doubleClicked.connect(lambda _i: self.book_selected())
        self.book_button = named(QPushButton("Réserver le créneau (Entrée)"), "bookButton")
        self.book_button.clicked.connect(self.book_selected)
        self.call_button = named(QPushButton("Appeler le médecin (F7)"), "callDoctor")
        self.call_button.clicked.connect(self.call_selected)
        self.refresh_button = named(QPushButton("Actualiser les agendas"), "refreshAgendas")
        self.refresh_button.setToolTip(
            "Relire maintenant les créneaux publiés par les éditeurs d'agenda (FHIR)"
        )
        self.refresh_button.clicked.connect(self.refresh_requested.emit)
        controls = QHBoxLayout()
        for w in (self.band, self.ctype, self.profession, self.radius, self.search_button):
            controls.addWidget(w)
        actions = QHBoxLayout()
        actions.addWidget(self.book_button)
        actions.addWidget(self.call_button)
        actions.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addLayout(actions)
        self.last: SearchView | None = None

    # -- criteria -----------------------------------------------------------------------

    def criteria(self) -> SearchCriteria:
        out: SearchCriteria = {}
        if self.band.currentData():
            out["bands"] = [self.band.currentData()]
        if self.ctype.currentData():
            out["types"] = [self.ctype.currentData()]
        if self.radius.value():
            out["radius_km"] = float(self.radius.value())
        wanted = str(self.profession.currentData() or "")
        if wanted:
            profession, _, specialty = wanted.partition("/")
            out["profession"] = profession
            if profession != "*":
                out["specialty"] = specialty
        return out

    def request_search(self) -> None:
        self.summary.setText("Recherche…")
        self.search_requested.emit(self.criteria())

    # -- results ------------------------------------------------------------------------

    def show_results(self, search: SearchView) -> None:
        self.last = search
        selected = self._selected_key()
        self.model.clear()
        doctors = search.get("doctors", [])
        beyond = search.get("beyond_slots", [])
        cap = int(search.get("weekly_cap", 20))
        today = datetime.now().astimezone().date()
        first = (doctors or beyond)[0] if (doctors or beyond) else None
        days = [date.fromisoformat(d["date"]) for d in first.get("days", [])] if first else []
        headers = [
            "Médecin",
            "Rang",
            "Distance",
            *[day_title(d, today) for d in days],
            "Participation",
            "Agenda",
            "Conditions",
            "Téléphone",
        ]
        self.model.setHorizontalHeaderLabels(headers)
        areas: list[CptsHit] = search.get("cpts") or []
        for area in areas:
            row = self._cpts_row(area, days, cap)
            self.model.appendRow(row)
            self.tree.expand(row[0].index())
        for doc in doctors:
            self.model.appendRow(self._doctor_row(doc, days, cap))
        if beyond:
            section = QStandardItem(f"Orientation hors disponibilité ({len(beyond)})")
            section.setData("section", KIND)
            for doc in beyond:
                section.appendRow(self._doctor_row(doc, days, cap, kind="beyond"))
            self.model.appendRow([section])
            self.tree.expand(section.index())
        radius = search.get("radius_km")
        query = search.get("query")
        profession = query.get("profession", "") if query else ""
        who = "médecin(s)" if profession in ("", "10") else "professionnel(s)"
        parts = [f"{len(doctors)} {who}", f"{search.get('with_slots', 0)} avec créneaux"]
        parts[:0] = [f"{a['name']} (tél. SNP {a.get('snp_phone') or 'inconnu'})" for a in areas]
        wanted = query.get("wanted_label") if query else None
        if wanted:
            parts.insert(0, f"Recherche : {wanted}")
        if radius:
            parts.append(f"rayon {radius:g} km")
        if beyond:
            parts.append(f"{len(beyond)} hors disponibilité")
        warnings = search.get("warnings") or []
        self.summary.setText(" · ".join(parts) + ("\n⚠ " + " ".join(warnings) if warnings else ""))
        for col in range(len(headers)):
            self.tree.resizeColumnToContents(col)
        self._span_slots(self.model.invisibleRootItem())
        self._restore(selected)

    def _span_slots(self, parent: QStandardItem) -> None:
        """A slot's row is one cell (« ↗ Demain 07:15 C — page de l'éditeur »): it spans
        the whole width, so the doctor's column fitted to the names does not cut it."""
        for r in range(parent.rowCount()):
            child = parent.child(r)
            if child is None:
                continue
            if child.data(KIND) == "slot":
                self.tree.setFirstColumnSpanned(r, parent.index(), True)
            elif child.hasChildren():
                self._span_slots(child)

    def apply_slot(
        self, slot: SlotView, weekly: tuple[int, int] | None = None, freed: bool = False
    ) -> bool:
        """A slot's new state, from a booking's reply or a ``slot.*`` event, applied to the
        results shown without searching again. False when only a new search can say what
        the list now holds: a place freed on a slot the list does not show, a full slot
        that was its doctor's first (the rank may change) or that leaves room for one the
        day's « +n » hid. ``weekly`` is (effecteur id, SNP patients this week)."""
        search = self.last
        if search is None:
            return True
        docs: list[DoctorHitView] = [*search.get("doctors", []), *search.get("beyond_slots", [])]
        for area in search.get("cpts") or []:
            docs.extend(area.get("participants") or [])
        found, exact = False, True
        for doc in docs:
            if weekly is not None and doc.get("effecteur_id") == weekly[0]:
                doc["weekly_snp"] = weekly[1]
            first = True
            for day in doc.get("days", []):
                for shown in list(day.get("slots", [])):
                    if shown.get("id") != slot["id"]:
                        first = False
                        continue
                    found = True
                    if int(slot["booked"]) < int(slot["capacity"]):
                        places = slot.get("places", shown.get("places", ""))
                        shown["booked"], shown["capacity"] = slot["booked"], slot["capacity"]
                        shown["places"] = places
                    else:
                        day["slots"].remove(shown)
                        exact = exact and not first and not day.get("more")
                    first = False
        if found or weekly is not None:
            self.show_results(search)
        return exact and (found or not freed)

    def _cpts_row(self, area: CptsHit, days: list[date], cap: int) -> list[QStandardItem]:
        """The CPTS first, calling it is F7; its participating doctors below it."""
        phone = str(area.get("snp_phone") or "")
        head = QStandardItem(str(area.get("name", "")))
        # The desk's column fitter may cut the name: the whole of it, with the phone.
        head.setToolTip(f"{area.get('name', '')} — téléphone SNP {phone or 'inconnu'}")
        head.setData("cpts", KIND)
        head.setData({**area, "phone_direct": phone, "name": area.get("name", "")}, PAYLOAD)
        font = head.font()
        font.setBold(True)
        head.setFont(font)
        participants = area.get("participants") or []
        rank = QStandardItem("CPTS de la commune du patient")
        info = QStandardItem(f"{len(participants)} participant(s) via la CPTS")
        for doc in participants:
            head.appendRow(self._doctor_row(doc, days, cap))
        blank = [QStandardItem("") for _ in range(1 + len(days))]  # distance, the days
        return [
            head, rank, *blank, info, QStandardItem(""), QStandardItem(""),
            QStandardItem(phone or "téléphone SNP inconnu"),
        ]  # fmt: skip

    def _doctor_row(
        self, doc: DoctorHitView, days: list[date], cap: int, kind: str = "doctor"
    ) -> list[QStandardItem]:
        name = QStandardItem(doc.get("name", ""))
        name.setData(kind, KIND)
        name.setData(doc, PAYLOAD)
        if doc.get("tier") == 0:
            name.setText(f"★ {name.text()}")
        label = doc.get("profession_label") or ""
        if label and label != GENERAL_LABEL:
            name.setText(f"{name.text()} — {label}")
        by_day = {d["date"]: d for d in doc.get("days", [])}
        cells = []
        for day in days:
            none: SearchDay = {"date": day.isoformat(), "slots": [], "more": 0}
            entry = by_day.get(day.isoformat(), none)
            text = " · ".join(slot_text(s) for s in entry["slots"]) or "—"
            if entry.get("more"):
                text += f" (+{entry['more']})"
            cells.append(QStandardItem(text))
            for slot in entry["slots"]:
                child = [
                    QStandardItem(
                        f"{day_title(day, datetime.now().astimezone().date())} {slot_text(slot)}"
                    )
                ]
                case = booking_case(slot, doc)
                if case == "editor":
                    # First in the text: the column may be cut, the case must show.
                    child[0].setText(f"↗ {child[0].text()} — page de l'éditeur")
                child[0].setToolTip(CASE_TEXT[case].capitalize())
                child[0].setData("slot", KIND)
                child[0].setData({**slot, "doctor": doc.get("name", ""), "case": case}, PAYLOAD)
                name.appendRow(child)
        distance = doc.get("distance_km")
        phone = doc.get("phone_direct") or doc.get("phone_secretary") or ""
        part = QStandardItem(participation(doc, cap))
        if (doc.get("weekly_snp") or 0) >= cap:
            part.setForeground(QBrush(QColor("#b71c1c")))
        row = [
            name,
            QStandardItem(doc.get("tier_label", "")),
            QStandardItem(f"{distance:.1f} km" if distance is not None else ""),
            *cells,
            part,
            QStandardItem(agenda_text(doc)),
            QStandardItem(doc.get("conditions") or ""),
            QStandardItem(phone),
        ]
        return row

    def _selected_key(self) -> tuple[str, int | None] | None:
        index = self.tree.currentIndex()
        if not index.isValid():
            return None
        item = self.model.itemFromIndex(index.siblingAtColumn(0))
        payload = item.data(PAYLOAD) or {}
        return (item.data(KIND), payload.get("id") or payload.get("effecteur_id"))

    def _restore(self, key: tuple[str, int | None] | None) -> None:
        """Keep the desk's place in the list when another desk's booking refreshes it."""
        if key is None:
            return
        stack = [self.model.item(r) for r in range(self.model.rowCount())]
        while stack:
            item = stack.pop()
            payload = item.data(PAYLOAD) or {}
            if (item.data(KIND), payload.get("id") or payload.get("effecteur_id")) == key:
                self.tree.setCurrentIndex(item.index())
                return
            stack.extend(item.child(r) for r in range(item.rowCount()))

    # -- actions ------------------------------------------------------------------------

    def selected(self) -> tuple[str | None, dict[str, Any]]:
        index = self.tree.currentIndex()
        if not index.isValid():
            return None, {}
        item = self.model.itemFromIndex(index.siblingAtColumn(0))
        return item.data(KIND), item.data(PAYLOAD) or {}

    def _say_case(self) -> None:
        """The button says how the selected slot is booked, before the OSNP presses it."""
        kind, payload = self.selected()
        case = payload.get("case", "direct") if kind == "slot" else "direct"
        self.book_button.setText(BOOK_TEXT[case])
        self.book_button.setToolTip(CASE_TEXT[case].capitalize() if kind == "slot" else "")

    def book_selected(self) -> None:
        kind, payload = self.selected()
        if kind == "slot":
            self.book_requested.emit(int(payload["id"]))
        elif kind in ("doctor", "beyond"):
            self.tree.setExpanded(self.tree.currentIndex().siblingAtColumn(0), True)

    def call_selected(self) -> None:
        kind, payload = self.selected()
        if kind == "slot":
            index = self.tree.currentIndex().parent()
            payload = self.model.itemFromIndex(index).data(PAYLOAD) or {} if index.isValid() else {}
        number = payload.get("phone_direct") or payload.get("phone_secretary")
        if number:
            self.call_requested.emit(number, payload.get("name", ""))
