"""A panel controller's keyboard shortcuts: QActions it owns, made from ui.shortcuts."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from ui.shortcuts import SHORTCUTS

BY_NAME = {s.action: s for s in SHORTCUTS}


def shortcut_action(
    owner: QObject, window: QWidget, name: str, run: Callable[[], object]
) -> QAction:
    """The QAction of the shortcut ``name`` (keys and text from the F1 table), owned by
    ``owner`` and added to ``window`` so its key works wherever the focus is there."""
    shortcut = BY_NAME[name]  # a KeyError names a shortcut missing from the table
    action = QAction(shortcut.text, owner)
    action.setObjectName(name)
    action.setShortcut(QKeySequence(shortcut.keys))
    action.triggered.connect(lambda _checked=False: run())
    window.addAction(action)
    return action
