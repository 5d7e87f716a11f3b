"""Asking the user once about a hub certificate no authority vouches for."""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QMessageBox, QWidget


def fingerprint_box(address: str, fingerprint: str, parent: QWidget | None = None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName("fingerprintBox")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("sasdesk — certificat du hub")
    box.setText(
        f"Le certificat du hub {address} n'est signé par aucune autorité connue de ce poste."
    )
    box.setInformativeText(
        "Comparez son empreinte SHA-256 avec celle que donne l'administrateur du hub "
        "(elle figure dans le journal du hub au démarrage) :\n\n"
        f"{fingerprint}\n\n"
        "Si elle est identique, ce poste s'en souviendra et refusera tout autre "
        "certificat à cette adresse."
    )
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    box.button(QMessageBox.StandardButton.Yes).setText("Faire confiance à ce hub")
    box.button(QMessageBox.StandardButton.No).setText("Refuser")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box


async def confirm_fingerprint(address: str, fingerprint: str) -> bool:
    """The HubTrust.confirm of the desk: a non-blocking dialog on the qasync loop."""
    box = fingerprint_box(address, fingerprint)
    answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def settle(_code: int) -> None:
        if not answer.done():
            yes = box.clickedButton() is box.button(QMessageBox.StandardButton.Yes)
            answer.set_result(yes)

    box.finished.connect(settle)
    box.open()
    return await answer
