"""The two buttons of the desk's small dialogs (login, session ended, password change)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox


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
