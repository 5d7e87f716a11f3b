"""The desk's window: layout per role and keyboard shortcuts. Logic is in the controller."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.domain.enums import Role
from app.domain.permissions import Action, Granted
from ui.models.dossiers import my_dossiers_model, queue_model, task_model
from ui.models.rows import RowTableModel
from ui.naming import named
from ui.shortcuts import EXTRA_HELP, SHORTCUTS
from ui.widgets.agenda_editor import AgendaEditor
from ui.widgets.appointment_board import AppointmentBoard
from ui.widgets.audit_view import AuditView
from ui.widgets.call_bar import CallBar
from ui.widgets.callback_panel import CallbackPanel
from ui.widgets.decision_form import DecisionForm
from ui.widgets.dossier_form import DossierForm
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.import_dialog import ImportDialog
from ui.widgets.search_panel import SearchPanel
from ui.widgets.statistics import StatisticsView
from ui.widgets.supervision import SupervisionView
from ui.widgets.task_panel import TaskPanel
from ui.widgets.timeline import Timeline
from ui.widgets.training_panel import TrainingPanel


def table_for(model: RowTableModel, name: str) -> QTableView:
    table = named(QTableView(), name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setMaximumSectionSize(280)  # a long motif must not widen the desk
    table.verticalHeader().setVisible(False)
    return table


class DeskWindow(QMainWindow):
    closing = Signal()  # the user closed the desk: the session ends
    wizard_requested = Signal()  # Ctrl+Shift+A, menu "Poste": the set-up wizard again

    def __init__(
        self, user: Mapping[str, object], *, training: bool, granted: Granted | None = None
    ):
        super().__init__()
        self.role = Role(str(user["role"]))
        #: What the hub lets this desk do (sent at login): panels and actions follow it.
        self.granted = granted or Granted.of(self.role)
        can = self.granted.can
        self.user_id = int(str(user["id"]))
        self.setWindowTitle(f"sasdesk — {user['name']} — {self.role.label}")
        self.call_bar = CallBar(training=training and can(Action.ANSWER_CALLS))
        self.queues = set(self.granted.read_queues)
        self.queue_model = queue_model(self.queues, self) if self.queues else None
        self.mine_model = my_dossiers_model(self.user_id, self)
        self.tasks_model = task_model(self) if can(Action.SEE_TASKS) else None
        self.tabs = named(QTabWidget(), "lists")
        self.queue_table = None
        if self.queue_model is not None:
            self.queue_table = table_for(self.queue_model, "queueTable")
            title = " / ".join(q.label for q in sorted(self.queues))
            self.tabs.addTab(self.queue_table, "Files" if len(self.queues) > 2 else "File")
            self.tabs.setTabToolTip(self.tabs.indexOf(self.queue_table), title)
        self.mine_table = table_for(self.mine_model, "mineTable")
        self.task_panel = None
        if self.tasks_model is not None:
            self.task_panel = TaskPanel(self.tasks_model, self.user_id)
            self.tabs.addTab(self.task_panel, "Recherches de RDV")
        self.tabs.addTab(self.mine_table, "Mes dossiers")
        self.supervision: SupervisionView | None = None
        if can(Action.SUPERVISE):
            self.supervision = SupervisionView()  # a dock, below
        self.audit: AuditView | None = None
        if can(Action.READ_AUDIT):
            self.audit = AuditView()
            self.tabs.addTab(self.audit, "Accès aux dossiers")
        self.statistics: StatisticsView | None = None
        if can(Action.READ_STATISTICS):
            # Its own window: the month's tables need the whole screen, the room view stays.
            self.statistics = StatisticsView(date.today())
            self.statistics.setWindowTitle("sasdesk — statistiques du mois")
            self.statistics.resize(1300, 820)
        self.import_dialog: ImportDialog | None = None
        self.agenda_editor: AgendaEditor | None = None
        if can(Action.IMPORT_DIRECTORY):
            self.import_dialog = ImportDialog(self)
        if can(Action.KEEP_AGENDAS):
            self.agenda_editor = AgendaEditor()
        if self.role is Role.OSNP and self.task_panel is not None:
            self.tabs.setCurrentWidget(self.task_panel)

        self.dossier_form = DossierForm(can_qualify=can(Action.QUALIFY))
        self.decision_form = DecisionForm(
            doctor=can(Action.DECIDE), can_forward=can(Action.FORWARD)
        )
        self.decision_form.setVisible(
            can(Action.DECIDE) or can(Action.FORWARD) or can(Action.MOVE_TRACK)
        )
        self.timeline = Timeline()
        self.training_panel = TrainingPanel()
        self._lay_out(can)

        self._add_docks(can)
        self._add_status_bar_and_menu()

    def _add_docks(self, can: Callable[[Action], bool]) -> None:
        """The panels the role uses beside the dossier, as docks: call-backs, the slot
        search, the dossier's timeline, appointments received, supervision."""
        self.callback_panel: CallbackPanel | None = None
        if can(Action.TAKE_TASKS):  # who takes a search calls the doctors back
            self.callback_panel = CallbackPanel()
            self.dock("callbackDock", "Rappels : médecin traitant d'abord", self.callback_panel)
        self.search_panel: SearchPanel | None = None
        if can(Action.SEARCH_SLOTS):
            self.search_panel = SearchPanel()
            self.dock("searchDock", "Recherche de créneaux (72 h)", self.search_panel,
                      Qt.DockWidgetArea.BottomDockWidgetArea)  # fmt: skip
        self.appointment_board: AppointmentBoard | None = None
        if can(Action.APPOINTMENT_BOARD):
            self.appointment_board = AppointmentBoard(refusals=can(Action.SUPERVISE))
        # Supervision and the dossier's timeline are docks too: either may float onto a
        # second screen (ui.room_view saves where each one is, per user).
        if can(Action.READ_DOSSIERS):
            right = QWidget()
            right_layout = QVBoxLayout(right)
            right_layout.setContentsMargins(0, 0, 0, 0)
            right_layout.addWidget(self.training_panel, 1)
            right_layout.addWidget(self.timeline, 1)
            timeline = self.dock("timelineDock", "Chronologie du dossier", right)
            callback = self.findChild(QDockWidget, "callbackDock")
            if callback is not None:  # the OSNP: the call-back plan in front, its width kept
                self.tabifyDockWidget(callback, timeline)
                callback.raise_()
        if self.appointment_board is not None:
            board = self.dock("appointmentDock", "Rendez-vous reçus", self.appointment_board)
            timeline_dock = self.findChild(QDockWidget, "timelineDock")
            if timeline_dock is not None:  # behind what the desk works with first
                self.tabifyDockWidget(timeline_dock, board)
                front = self.findChild(QDockWidget, "callbackDock") or timeline_dock
                front.raise_()
        if self.supervision is not None:
            supervision = self.dock("supervisionDock", "Supervision de la salle", self.supervision)
            timeline_dock = self.findChild(QDockWidget, "timelineDock")
            if timeline_dock is not None:
                self.tabifyDockWidget(timeline_dock, supervision)
            supervision.raise_()

    def _add_status_bar_and_menu(self) -> None:
        """The status bar (message, account, link), the window's shortcuts, the menu."""
        self.link_label = named(QLabel("Hub : …"), "linkState")
        self.message_label = named(QLabel(""), "deskMessage")
        #: Who is at this desk: name, national identifier, how the session was proven
        #: (ui.desk fills it after each login).
        self.account_label = named(ElidedLabel(shortest=120), "accountLabel")
        self.statusBar().addWidget(self.message_label, 1)
        self.statusBar().addPermanentWidget(self.account_label)
        self.statusBar().addPermanentWidget(self.link_label)
        self.resize(1440, 900)
        #: The shortcuts of ui.shortcuts (the F1 help lists them) that are the window's own
        #: (focus, windows, help); the panels' controllers own the others' QActions.
        self.shortcut_actions: dict[str, QAction] = {}
        for shortcut in SHORTCUTS:
            run = getattr(self, shortcut.action, None)
            if not callable(run):
                continue
            action = QAction(shortcut.text, self)
            action.setObjectName(shortcut.action)
            action.setShortcut(QKeySequence(shortcut.keys))
            action.triggered.connect(lambda _checked=False, run=run: run())
            self.addAction(action)
            self.shortcut_actions[shortcut.action] = action
        station = self.menuBar().addMenu("Poste")
        wizard = self.shortcut_actions["open_wizard"]
        wizard.setText("Assistant de configuration…")
        station.addAction(wizard)
        #: Opens ui.password_dialog (bound by ui.desk, which holds the hub client).
        self.change_password_action = QAction("Changer mon mot de passe…", self)
        self.change_password_action.setObjectName("change_password")
        station.addAction(self.change_password_action)

    def _lay_out(self, can: Callable[[Action], bool]) -> None:
        """The central area from what the role may do: the lists and the dossier for the
        roles that read dossiers, the agendas for the CPTS manager (no dossier, no call)."""
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 0)
        # Who reads dossiers may be rung about one (a call transferred to level 2), who
        # searches slots or calls back dials out: only the CPTS manager has no call.
        phone = any(can(a) for a in (Action.READ_DOSSIERS, Action.ANSWER_CALLS,
                                     Action.CALL_BACK, Action.SEARCH_SLOTS))  # fmt: skip
        if phone:
            # Above the docks, the whole width of the window: on a 1366-pixel screen the
            # call bar does not share its width with the timeline or supervision.
            bar = QToolBar("Appel en cours", self)
            bar.setObjectName("callToolBar")
            bar.setMovable(False)
            bar.setFloatable(False)
            bar.toggleViewAction().setEnabled(False)
            self.call_bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            bar.addWidget(self.call_bar)
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        else:  # kept for the controller, never shown: this role makes and takes no call
            self.call_bar.setParent(self)
            self.call_bar.hide()
        if can(Action.READ_DOSSIERS):
            middle = QWidget()
            middle_layout = QVBoxLayout(middle)
            middle_layout.setContentsMargins(0, 0, 0, 0)
            middle_layout.addWidget(self.dossier_form)
            middle_layout.addWidget(self.decision_form)
            middle_layout.addStretch(1)
            splitter = QSplitter(Qt.Orientation.Horizontal)
            splitter.setChildrenCollapsible(False)
            splitter.addWidget(self.tabs)
            splitter.addWidget(middle)
            splitter.setStretchFactor(0, 2)
            splitter.setStretchFactor(1, 3)
            # The dossier gets the larger share, except on the OSNP's desk: its work is the
            # list of searches and their result form.
            splitter.setSizes([640, 560] if can(Action.TAKE_TASKS) else [420, 640])
            layout.addWidget(splitter, 1)
        else:
            # The CPTS manager reads no dossier: no dossier form, no timeline, no list of
            # dossiers. Built all the same for the controller's sake, hidden.
            for widget in (self.dossier_form, self.decision_form, self.timeline,
                           self.training_panel, self.tabs):  # fmt: skip
                widget.setParent(self)
                widget.hide()
            layout.addWidget(self._manager_home(can), 1)
        self.setCentralWidget(central)

    def _manager_home(self, can: Callable[[Action], bool]) -> QWidget:
        """What a role without dossiers works on: the agendas, imports and statistics."""
        home = named(QWidget(), "managerHome")
        layout = QVBoxLayout(home)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        for action, name, text in (
            (Action.IMPORT_DIRECTORY, "open_import", "Importer annuaire ou créneaux (Ctrl+I)…"),
            (Action.READ_STATISTICS, "open_statistics", "Statistiques du mois (F10)…"),
        ):
            if can(action):
                button = named(QPushButton(text), f"home_{name}")
                button.clicked.connect(lambda _=False, n=name: self.trigger(n))
                row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        if self.agenda_editor is not None:
            layout.addWidget(self.agenda_editor, 1)
        else:
            layout.addStretch(1)
        return home

    def dock(
        self,
        name: str,
        title: str,
        widget: QWidget,
        area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt API)
        """The CPTS manager's agendas are the desk itself: listed as soon as it shows."""
        super().showEvent(event)
        home = self.findChild(QWidget, "managerHome")
        editor = self.agenda_editor
        if home is not None and editor is not None and editor.people.count() == 0:
            editor.search()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.closing.emit()
        super().closeEvent(event)

    def trigger(self, name: str) -> None:
        """Run a shortcut's action as its key would (tests, menus), whoever owns it."""
        action = next((a for a in self.actions() if a.objectName() == name), None)
        if action is None:
            raise KeyError(f"no action {name!r} on this desk")
        action.trigger()

    def open_wizard(self) -> None:
        self.wizard_requested.emit()

    def focus_list(self) -> None:
        widget = self.tabs.currentWidget()
        table = widget.table if isinstance(widget, TaskPanel) else widget
        if isinstance(table, QTableView):
            if table.model().rowCount() and not table.currentIndex().isValid():
                table.setCurrentIndex(table.model().index(0, 0))
            table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_dossier(self) -> None:
        self.dossier_form.edits["patient_last_name"].setFocus(Qt.FocusReason.ShortcutFocusReason)

    def focus_decision(self) -> None:
        self.decision_form.decision.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_message(self, text: str, *, error: bool = False) -> None:
        self.message_label.setProperty("error", error)
        self.message_label.style().unpolish(self.message_label)
        self.message_label.style().polish(self.message_label)
        self.message_label.setText(text)

    def show_help(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("Raccourcis clavier")
        rows = [(s.keys.replace("Return", "Entrée"), s.text) for s in SHORTCUTS] + list(EXTRA_HELP)
        table = QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels(["Touches", "Action"])
        for i, (keys, text) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(keys))
            table.setItem(i, 1, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        dialog.resize(620, 480)
        dialog.show()
        self._help = dialog
