"""The supervisor's desk on the current X display, driven by tests/ui/test_two_screens.py
in a subprocess (QT_QPA_PLATFORM=xcb):

    python tests/ui/two_screens_desk.py place|open --user sup --settings view.ini \
        --shots artifacts/two-screens-1 --report report.json

``place``: the desk opens on the first screen, supervision, the timeline and the slot
search are detached onto the second screen, then the desk is closed (saved).
``open``: the desk opens again for ``--user`` with what was saved, and says where each
panel is. Each screen is grabbed from the X root window: <shots>-<screen name>.png.
The report (JSON) gives the screens Qt sees, the window and every panel's place."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PySide6.QtCore import QRect, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget, QWidget

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ui.launch import make_app  # noqa: E402
from ui.main_window import DeskWindow  # noqa: E402
from ui.room_view import RoomView  # noqa: E402

SUPERVISOR = {"id": 9, "username": "sup", "name": "Superviseur", "role": "SUPERVISEUR"}
DOCKS = ("supervisionDock", "timelineDock", "searchDock")


def box(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def where(widget: QWidget) -> dict[str, object]:
    screen = widget.screen()
    return {"geometry": box(widget.geometry()), "screen": screen.name() if screen else None}


def on_second_screen(window: DeskWindow) -> None:
    """Supervision on the left half of the second screen, the timeline above the slot
    search on the right half, each one's own size."""
    area = QGuiApplication.screens()[1].availableGeometry()
    half, x, y = area.width() // 2, area.x(), area.y()
    places = {
        "supervisionDock": QRect(x + 20, y + 20, half - 40, area.height() - 40),
        "timelineDock": QRect(x + half + 20, y + 20, half - 40, area.height() // 2 - 40),
        "searchDock": QRect(x + half + 20, y + area.height() // 2 + 20, half - 40,
                            area.height() // 2 - 40),
    }  # fmt: skip
    for name, place in places.items():
        dock = window.findChild(QDockWidget, name)
        assert dock is not None, name
        dock.setFloating(True)
        dock.setGeometry(place)
        dock.show()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("phase", choices=("place", "open"))
    parser.add_argument("--user", default="sup")
    parser.add_argument("--settings", type=Path, required=True)
    parser.add_argument("--shots", type=Path, required=True)
    parser.add_argument("--report", type=Path, required=True)
    args = parser.parse_args()
    app = make_app()
    settings = QSettings(str(args.settings), QSettings.Format.IniFormat)
    window = DeskWindow({**SUPERVISOR, "username": args.user}, training=False)
    RoomView(window, args.user, settings)  # as ui.desk.Desk.build does
    window.show()
    QTest.qWait(800)
    if args.phase == "place":
        on_second_screen(window)
        QTest.qWait(800)
    report: dict[str, object] = {
        "screens": [
            {
                "name": s.name(),
                "geometry": box(s.geometry()),
                "available": box(s.availableGeometry()),
            }
            for s in QGuiApplication.screens()
        ],
        "primary": QGuiApplication.primaryScreen().name(),
        "window": {**where(window), "maximised": window.isMaximized()},
        "docks": {},
    }
    docks: dict[str, object] = {}
    for name in DOCKS:
        dock = window.findChild(QDockWidget, name)
        assert dock is not None, name
        docks[name] = {
            **where(dock),
            "floating": dock.isFloating(),
            "visible": dock.isVisible(),
            "area": window.dockWidgetArea(dock).name,  # floating: the area it left
            "in_front": not dock.visibleRegion().isEmpty(),
        }
    report["docks"] = docks
    args.shots.parent.mkdir(parents=True, exist_ok=True)
    for screen in QGuiApplication.screens():
        shot = args.shots.with_name(f"{args.shots.name}-{screen.name()}.png")
        screen.grabWindow(0).save(str(shot))
    window.close()  # DeskWindow.closing: RoomView saves the arrangement
    settings.sync()
    QTest.qWait(100)
    args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
