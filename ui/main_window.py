"""The desk's window: layout per role and keyboard shortcuts. Logic is in the controller."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDockWidget,
    QHeaderView,
    QLabel,
    QMainWindow,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
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
from ui.widgets.audit_view import AuditView
from ui.widgets.call_bar import CallBar
from ui.widgets.callback_panel import CallbackPanel
from ui.widgets.decision_form import DecisionForm
from ui.widgets.dossier_form import DossierForm
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

    def __init__(self, user: dict[str, object], *, training: bool, granted: Granted | None = None):
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
            self.supervision = SupervisionView()
            self.tabs.insertTab(0, self.supervision, "Supervision")
            self.tabs.setCurrentWidget(self.supervision)
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

        middle = QWidget()
        middle_layout = QVBoxLayout(middle)
        middle_layout.addWidget(self.dossier_form)
        middle_layout.addWidget(self.decision_form)
        middle_layout.addStretch(1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        self.training_panel = TrainingPanel()
        right_layout.addWidget(self.training_panel, 1)
        right_layout.addWidget(QLabel("Chronologie du dossier"))
        right_layout.addWidget(self.timeline, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.tabs)
        splitter.addWidget(middle)
        if self.role is Role.OSNP:
            # The OSNP works from the task list and the call-back panel (docked): the
            # timeline becomes a tab so the panel has room.
            self.tabs.addTab(right, "Chronologie")
            splitter.setSizes([560, 520])
        else:
            splitter.addWidget(right)
            splitter.setSizes([460, 600, 380])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.call_bar)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

        self.callback_panel: CallbackPanel | None = None
        if can(Action.TAKE_TASKS):  # who takes a search calls the doctors back
            self.callback_panel = CallbackPanel()
            rappel = QDockWidget("Rappels : médecin traitant d'abord", self)
            rappel.setObjectName("callbackDock")
            rappel.setWidget(self.callback_panel)
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, rappel)
        self.search_panel: SearchPanel | None = None
        if can(Action.SEARCH_SLOTS):
            self.search_panel = SearchPanel()
            dock = QDockWidget("Recherche de créneaux (72 h)", self)
            dock.setObjectName("searchDock")
            dock.setWidget(self.search_panel)
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)

        self.link_label = named(QLabel("Hub : …"), "linkState")
        self.message_label = named(QLabel(""), "deskMessage")
        self.statusBar().addWidget(self.message_label, 1)
        self.statusBar().addPermanentWidget(self.link_label)
        self.resize(1440, 900)
        #: One QAction per shortcut of ui.shortcuts (the F1 help lists them); what each
        #: runs is a method of the window or a callable the controllers bind by name.
        self._bound: dict[str, Callable[[], object]] = {}
        self.shortcut_actions: dict[str, QAction] = {}
        for shortcut in SHORTCUTS:
            action = QAction(shortcut.text, self)
            action.setObjectName(shortcut.action)
            action.setShortcut(QKeySequence(shortcut.keys))
            action.triggered.connect(self._runner(shortcut.action))
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

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt API)
        self.closing.emit()
        super().closeEvent(event)

    def bind(self, name: str, run: Callable[[], object]) -> None:
        """What the shortcut (and menu entry) ``name`` runs, given by a controller."""
        if name not in self.shortcut_actions:
            raise KeyError(f"no shortcut named {name!r} in ui.shortcuts")
        self._bound[name] = run

    def trigger(self, name: str) -> None:
        """Run an action as its shortcut would (tests, menus)."""
        self.shortcut_actions[name].trigger()

    def _runner(self, name: str) -> Callable[[], None]:
        def run() -> None:
            bound = self._bound.get(name)
            if bound is not None:
                bound()
            elif hasattr(self, name):
                getattr(self, name)()  # the window's own (focus, priorities, windows)

        return run

    def priority_p0(self) -> None:
        self.dossier_form.choose_priority("P0")

    def priority_p1(self) -> None:
        self.dossier_form.choose_priority("P1")

    def priority_p2(self) -> None:
        self.dossier_form.choose_priority("P2")

    def priority_p3(self) -> None:
        self.dossier_form.choose_priority("P3")

    def refresh_agendas(self) -> None:
        if self.search_panel is not None:
            self.search_panel.refresh_requested.emit()

    def open_agendas(self) -> None:
        if self.agenda_editor is not None:
            self.agenda_editor.show()
            self.agenda_editor.raise_()
            if self.agenda_editor.people.count() == 0:
                self.agenda_editor.search()

    def open_import(self) -> None:
        if self.import_dialog is not None:
            self.import_dialog.show()
            self.import_dialog.raise_()

    def open_statistics(self) -> None:
        if self.statistics is not None:
            self.statistics.show()
            self.statistics.raise_()
            if not self.statistics.tables:
                self.statistics.request()

    def search_slots(self) -> None:
        if self.search_panel is not None:
            self.search_panel.tree.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.search_panel.request_search()

    def call_doctor(self) -> None:
        if self.search_panel is not None:
            self.search_panel.call_selected()

    def next_turn(self) -> None:
        self.training_panel.next_turn()

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
