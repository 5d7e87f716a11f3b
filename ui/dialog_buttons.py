"""The buttons of the desk's dialogs: OK/Cancel of the small ones (login, session ended,
password change), and the « Fermer » of the lists (caller history, recordings)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPushButton


def ok_cancel(
    dialog: QDialog, ok: str, cancel: str, submit: Callable[[], object]
) -> QDialogButtonBox:
    """OK and Cancel named in French for what they do: OK (Enter) runs ``submit``, which
    accepts the dialog once it succeeded; Cancel (Esc) rejects it."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(cancel)
    buttons.accepted.connect(submit)
    buttons.rejected.connect(dialog.reject)
    return buttons


def close_button(buttons: QDialogButtonBox, dialog: QDialog) -> QPushButton:
    """« Fermer » (Esc) that rejects ``dialog``, added to ``buttons``."""
    close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
    close.setText("Fermer")  # the standard button speaks English without Qt's catalogues
    close.setIcon(QIcon())  # its style icon is near-black: unseen in the night theme
    close.clicked.connect(dialog.reject)
    return close
