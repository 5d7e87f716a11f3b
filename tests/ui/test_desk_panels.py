"""The desk's panels come from the permission table the hub sends at login: the CPTS
manager (no dossier, no call) gets the agendas, imports and statistics, not the dossier
form, the timeline or the call bar; the same role given dossier rights by a table gets
them. Cut text says what it cuts (tooltips)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QStandardItem, QStandardItemModel  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QDockWidget,
    QPushButton,
    QTableView,
    QWidget,
)

from app.domain.enums import Role  # noqa: E402
from app.domain.permissions import Action, Granted, permissions_of  # noqa: E402
from ui.column_fit import ColumnFitter  # noqa: E402
from ui.main_window import DeskWindow  # noqa: E402
from ui.widgets.elided_label import ElidedLabel  # noqa: E402

CPTS = {"id": 5, "username": "cpts", "name": "Gestionnaire", "role": "GESTIONNAIRE_CPTS"}


def shown(w: DeskWindow, widget: QWidget) -> bool:
    return bool(widget.isVisibleTo(w))


def test_the_cpts_manager_desk_shows_only_what_the_table_allows(qapp: QApplication) -> None:
    w = DeskWindow(CPTS, training=False, granted=Granted.of(Role.GESTIONNAIRE_CPTS))
    try:
        w.show()
        assert not w.granted.can(Action.READ_DOSSIERS)
        for widget in (w.dossier_form, w.decision_form, w.timeline, w.tabs, w.call_bar):
            assert not shown(w, widget), type(widget).__name__
        names = {d.objectName() for d in w.findChildren(QDockWidget)}
        assert not names & {"timelineDock", "searchDock", "supervisionDock", "callbackDock"}
        assert w.agenda_editor is not None and shown(w, w.agenda_editor)
        buttons = {b.objectName() for b in w.findChildren(QPushButton) if shown(w, b)}
        assert {"home_open_import", "home_open_statistics"} <= buttons
    finally:
        w.close()
        w.deleteLater()


def test_the_same_role_with_dossier_rights_in_its_table_gets_the_dossier(
    qapp: QApplication,
) -> None:
    """Built from the table, not from the role's name: a table granting reading and
    editing dossiers to the CPTS role (say a newer hub) brings the dossier and timeline."""
    wire = permissions_of(Role.GESTIONNAIRE_CPTS)
    wire["actions"] = [*wire["actions"], str(Action.READ_DOSSIERS), str(Action.EDIT_DOSSIERS)]
    w = DeskWindow(CPTS, training=False, granted=Granted.from_wire(wire))
    try:
        w.show()
        assert shown(w, w.dossier_form) and shown(w, w.timeline)
        assert w.findChild(QDockWidget, "timelineDock") is not None
        assert shown(w, w.call_bar)  # who reads dossiers may be rung about one
    finally:
        w.close()
        w.deleteLater()


def test_cut_text_shows_whole_in_its_tooltip(qapp: QApplication) -> None:
    label = ElidedLabel("Ligne SIP : enregistrée auprès de sip.samu17.example (UDP)")
    label.resize(80, 20)
    assert label.is_elided() and label.minimumSizeHint().width() <= 80
    label.resize(2000, 20)
    assert not label.is_elided()

    model = QStandardItemModel(1, 2)
    model.setItem(0, 0, QStandardItem("Entorse de cheville droite en jouant au football"))
    model.setItem(0, 1, QStandardItem("P2"))
    view = QTableView()
    view.setModel(model)
    fitter = ColumnFitter(view)
    try:
        view.resize(160, 120)
        view.show()
        fitter.fit()
        qapp.processEvents()
        cell = view.visualRect(model.index(0, 0)).center()
        assert fitter.cut_text_at(cell) == model.item(0, 0).text()
        short = view.visualRect(model.index(0, 1)).center()
        assert fitter.cut_text_at(short) == ""  # "P2" is shown whole: no tooltip
        assert not view.horizontalScrollBar().isVisible()
        assert fitter.cut_text_at(QPoint(5, 110)) == ""  # no cell there
        assert view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    finally:
        view.close()
        view.deleteLater()
        label.deleteLater()
