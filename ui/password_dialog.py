"""« Changer mon mot de passe » (menu Poste): the user types the current password and the
new one twice; the hub checks the old one and the policy (``password.change``) and its
French reason is shown as is. Nothing is journalled: passwords never touch the disk.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)
from qasync import asyncSlot

from app.client.hub_client import HubClient, HubError
from app.domain.passwords import MAX_LENGTH, MIN_LENGTH, PASSPHRASE_LENGTH
from app.hub import protocol as p
from ui.dialog_buttons import ok_cancel
from ui.naming import named

POLICY = (
    f"Au moins {MIN_LENGTH} caractères mêlant trois sortes (minuscules, majuscules, "
    f"chiffres, symboles), ou une phrase de passe d'au moins {PASSPHRASE_LENGTH} caractères ; "
    "jamais votre identifiant ni un mot courant. Vos autres sessions ouvertes seront fermées."
)


def _password_field(name: str) -> QLineEdit:
    field = named(QLineEdit(), name)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(MAX_LENGTH)
    return field


class PasswordDialog(QDialog):
    def __init__(self, client: HubClient, username: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.client = client
        self.setWindowTitle("sasdesk — changer mon mot de passe")
        self.setModal(True)
        self.setMinimumWidth(460)
        self.old = _password_field("oldPassword")
        self.new = _password_field("newPassword")
        self.again = _password_field("newPasswordAgain")
        self.message = named(QLabel(""), "passwordMessage")
        self.message.setWordWrap(True)
        policy = QLabel(POLICY)
        policy.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Identifiant", QLabel(username))
        form.addRow("Mot de passe &actuel", self.old)
        form.addRow("&Nouveau mot de passe", self.new)
        form.addRow("&Le même, encore", self.again)
        self.buttons = ok_cancel(self, "Changer", "Annuler", self.submit)
        layout = QVBoxLayout(self)
        layout.addWidget(policy)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.old.setFocus()

    def _refuse(self, text: str, field: QLineEdit) -> None:
        self.message.setText(text[:1].upper() + text[1:])  # the hub's reasons start lower-case
        field.setFocus()

    @asyncSlot()
    async def submit(self) -> None:
        if not self.old.text():
            return self._refuse("Saisissez votre mot de passe actuel.", self.old)
        if not self.new.text():
            return self._refuse("Saisissez le nouveau mot de passe.", self.new)
        if self.new.text() != self.again.text():
            self.again.clear()
            return self._refuse(
                "Les deux saisies du nouveau mot de passe diffèrent : rien n'a changé.",
                self.again,
            )
        self.message.setText("Vérification…")
        self.buttons.setEnabled(False)
        try:
            await self.client.call(
                p.PasswordChange, old_password=self.old.text(), new_password=self.new.text()
            )
        except HubError as exc:
            if exc.code == "bad_credentials":
                self.old.clear()
                return self._refuse(exc.message, self.old)
            if exc.code == "weak_password":
                self.new.clear()
                self.again.clear()
                return self._refuse(exc.message, self.new)
            return self._refuse(exc.message, self.old)  # throttled, locked, no connection
        finally:
            self.buttons.setEnabled(True)
        for field in (self.old, self.new, self.again):
            field.clear()
        self.accept()
