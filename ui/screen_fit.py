"""Does a desk fit its screen? What the screenshot tests assert at 1366×768 and
1920×1080: the window inside the screen, every visible button of the window (and of its
floating docks) inside it, no horizontal scroll bar on the main lists; and the buttons a
desk works with all day (``KEY_BUTTONS``) in view as the desk opens, without scrolling."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QDockWidget,
    QMainWindow,
    QScrollArea,
    QWidget,
)

#: Object names of the buttons that must be in view without scrolling when shown.
KEY_BUTTONS = frozenset({
    "answerButton", "hangupButton",  # call bar
    "sendButton", "closeButton",  # N1's priority
    "decideButton", "closeDossierButton", "moveTrackButton", "releaseButton",
    "forwardButton",  # decision
    "bookButton", "callDoctor",  # slot search
    "takeTask", "closeTask",  # OSNP's searches
    "result_ACCEPTED", "result_REFUSED", "result_NO_ANSWER", "result_BUSY",
    "result_VOICEMAIL", "result_CALL_BACK",  # OSNP's call-back outcome
    "home_open_import", "home_open_statistics",  # CPTS manager
})  # fmt: skip


def _global_rect(w: QWidget) -> QRect:
    return QRect(w.mapToGlobal(QPoint(0, 0)), w.size())


def _clipped(w: QWidget, top: QWidget) -> bool:
    """Is ``w`` cut by one of its scroll areas or splitters (visible only in part)?"""
    rect = _global_rect(w)
    parent = w.parentWidget()
    while parent is not None and parent is not top:
        if not _global_rect(parent).contains(rect):
            return True
        parent = parent.parentWidget()
    return False


def fit_report(window: QMainWindow) -> dict[str, Any]:
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()
    inside = _global_rect(window)
    problems: list[str] = []
    if not screen.contains(frame):
        problems.append(f"window {frame.getRect()} outside the screen {screen.getRect()}")
    hidden_docks = [d for d in window.findChildren(QDockWidget) if d.visibleRegion().isEmpty()]
    key_buttons: dict[str, list[int]] = {}
    for button in window.findChildren(QAbstractButton):  # before anything is scrolled
        name = button.objectName()
        if name not in KEY_BUTTONS or not button.isVisible():
            continue
        if any(d.isAncestorOf(button) for d in hidden_docks):
            continue
        top = button.window()
        box = _global_rect(top) if top is not window else inside
        rect = _global_rect(button)
        if box.contains(rect) and not _clipped(button, top):
            key_buttons[name] = [rect.x(), rect.y(), rect.width(), rect.height()]
        else:
            problems.append(f"button « {button.text()} » ({name}) {rect.getRect()} not in view "
                            f"without scrolling (window {box.getRect()})")  # fmt: skip
    areas = window.findChildren(QScrollArea)
    scrolled = [(a, a.horizontalScrollBar().value(), a.verticalScrollBar().value()) for a in areas]
    for button in window.findChildren(QAbstractButton):
        if not button.isVisibleTo(window) or not button.isVisible() or not button.text():
            continue
        if any(d.isAncestorOf(button) for d in hidden_docks):
            continue  # a dock behind another one's tab: checked when it is in front
        top = button.window()
        parent = button.parentWidget()
        while parent is not None and parent is not top:  # reachable by scrolling down?
            if isinstance(parent, QScrollArea):
                parent.ensureWidgetVisible(button, 0, 0)
                if parent.horizontalScrollBar().value() != 0:
                    problems.append(f"button « {button.text()} » needs sideways scrolling")
                    parent.horizontalScrollBar().setValue(0)
            parent = parent.parentWidget()
        box = _global_rect(top) if top is not window else inside
        rect = _global_rect(button)
        if not box.contains(rect) or _clipped(button, top):
            problems.append(f"button « {button.text()} » {rect.getRect()} cut "
                            f"(window {box.getRect()})")  # fmt: skip
    for area, x, y in scrolled:  # the desk as it was (a screenshot may follow)
        area.horizontalScrollBar().setValue(x)
        area.verticalScrollBar().setValue(y)
    for view in window.findChildren(QAbstractItemView):
        if view.isVisible() and view.horizontalScrollBar().isVisible():
            name = view.objectName() or type(view).__name__
            problems.append(f"list {name} scrolls sideways")

    def xywh(r: QRect) -> list[int]:
        return [r.x(), r.y(), r.width(), r.height()]

    return {"screen": xywh(screen), "window": xywh(frame), "problems": problems,
            "key_buttons": key_buttons}  # fmt: skip
