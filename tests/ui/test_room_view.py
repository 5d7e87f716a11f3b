"""The desk's view per user: maximised, text size and night theme saved and restored,
a dock floated to a second screen comes back floating; the priority colours stay apart
for deuteranopes and protanopes (simulated, Machado et al. 2009, full severity)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import QApplication, QDockWidget  # noqa: E402

from ui import palette  # noqa: E402
from ui.main_window import DeskWindow  # noqa: E402
from ui.room_view import RoomView, apply_last_theme  # noqa: E402

OSNP = {"id": 7, "username": "osnp", "name": "OSNP", "role": "OSNP"}
SUPERVISOR = {"id": 9, "username": "sup", "name": "Superviseur", "role": "SUPERVISEUR"}
MACHADO = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
}  # fmt: skip


def _lin(c: float) -> float:
    c /= 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _srgb(c: float) -> float:
    c = min(max(c, 0.0), 1.0)
    return 255 * (12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055)


def seen_by(hex_colour: str, kind: str) -> tuple[float, ...]:
    rgb = [_lin(int(hex_colour[i : i + 2], 16)) for i in (1, 3, 5)]
    return tuple(_srgb(sum(m * v for m, v in zip(row, rgb, strict=True))) for row in MACHADO[kind])


def test_priority_colours_stay_apart_for_colour_blind_users_day_and_night() -> None:
    for theme, kind in itertools.product((palette.DAY, palette.NIGHT), MACHADO):
        seen = {p: seen_by(bg, kind) for p, (bg, _fg) in theme.priority.items()}
        assert set(seen) == {"P0", "P1", "P2", "P3"}
        for a, b in itertools.combinations(seen, 2):
            distance = sum((x - y) ** 2 for x, y in zip(seen[a], seen[b], strict=True)) ** 0.5
            assert distance > 35, f"{theme.name} {kind}: {a} and {b} look alike ({distance:.0f})"


def test_text_size_night_theme_and_floating_dock_come_back_for_the_same_user(
    qapp: QApplication, tmp_path: Path
) -> None:
    font, style = qapp.font(), qapp.styleSheet()
    settings = QSettings(str(tmp_path / "view.ini"), QSettings.Format.IniFormat)
    try:
        w = DeskWindow(OSNP, training=False)
        view = RoomView(w, "osnp", settings)
        assert w.windowState() & Qt.WindowState.WindowMaximized
        before = view.points
        bigger = w.findChild(QAction, "action_text_bigger")
        assert bigger is not None
        bigger.trigger()
        bigger.trigger()
        assert view.points == before + 2
        view.night_action.trigger()
        assert palette.current is palette.NIGHT and "#20252b" in qapp.styleSheet()
        dock = w.findChild(QDockWidget, "searchDock")
        assert dock is not None
        assert dock.features() & QDockWidget.DockWidgetFeature.DockWidgetFloatable
        dock.setFloating(True)
        w.close()  # DeskWindow.closing → saved
        qapp.setFont(font)  # a desk started afresh: day, default size
        qapp.setStyleSheet(style)
        palette.current = palette.DAY

        again = DeskWindow(OSNP, training=False)
        view2 = RoomView(again, "osnp", settings)
        assert view2.points == before + 2 and view2.night_action.isChecked()
        assert palette.current is palette.NIGHT
        dock2 = again.findChild(QDockWidget, "searchDock")
        assert dock2 is not None and dock2.isFloating()
        third = DeskWindow(OSNP, training=False)
        other = RoomView(third, "mrl", settings)  # another user
        assert not other.night_action.isChecked()
        assert palette.current is palette.DAY  # the last user's night does not stay on
        assert not apply_last_theme(qapp, settings)  # what the login shows next: day
        assert palette.current is palette.DAY
        other.set_night(True)
        qapp.setStyleSheet(style)
        palette.current = palette.DAY
        assert apply_last_theme(qapp, settings)  # the next login: in the night left
        assert palette.current is palette.NIGHT and "#20252b" in qapp.styleSheet()
        again.close()
        third.close()
        for window in (w, again, third):
            window.deleteLater()
    finally:
        qapp.setFont(font)
        qapp.setStyleSheet(style)
        palette.current = palette.DAY


def test_supervision_timeline_and_search_float_to_a_second_screen_and_come_back(
    qapp: QApplication, tmp_path: Path
) -> None:
    """The supervisor detaches supervision, the timeline and the slot search (say onto a
    second screen); the next start puts each one back where it was, for that user only."""
    settings = QSettings(str(tmp_path / "view.ini"), QSettings.Format.IniFormat)
    names = ("supervisionDock", "timelineDock", "searchDock")
    windows: list[DeskWindow] = []
    try:
        w = DeskWindow(SUPERVISOR, training=False)
        windows.append(w)
        RoomView(w, "sup", settings)
        w.show()
        placed = {}
        for n, name in enumerate(names):
            dock = w.findChild(QDockWidget, name)
            assert dock is not None, name
            assert dock.features() & QDockWidget.DockWidgetFeature.DockWidgetFloatable
            dock.setFloating(True)
            least = dock.minimumSizeHint()  # each one somewhere else, within the test screen
            dock.setGeometry(10 + 40 * n, 30 + 60 * n, max(300, least.width()),
                             max(250, least.height()))  # fmt: skip
            placed[name] = dock.geometry()
        qapp.processEvents()
        w.close()  # saved

        again = DeskWindow(SUPERVISOR, training=False)
        windows.append(again)
        RoomView(again, "sup", settings)
        again.show()
        qapp.processEvents()
        for name in names:
            dock = again.findChild(QDockWidget, name)
            assert dock is not None and dock.isFloating(), name
            assert dock.isVisible(), name
            assert dock.geometry().size() == placed[name].size(), name
            assert dock.geometry().topLeft() == placed[name].topLeft(), name

        supervision = again.findChild(QDockWidget, "supervisionDock")
        show = again.findChild(QAction, "action_show_supervisionDock")
        assert supervision is not None and show is not None
        supervision.close()  # closed by its title bar's button: the menu brings it back
        assert not supervision.isVisible() and not show.isChecked()
        show.trigger()
        assert supervision.isVisible() and supervision.isFloating()
        again.close()

        fresh = DeskWindow(SUPERVISOR, training=False)  # another supervisor: docked
        windows.append(fresh)
        RoomView(fresh, "sup2", settings)
        for name in names:
            dock = fresh.findChild(QDockWidget, name)
            assert dock is not None and not dock.isFloating(), name
        fresh.close()
    finally:
        for window in windows:
            window.close()
            window.deleteLater()
        qapp.processEvents()
