"""The « Pro Santé Connect » way in, shared by the login dialog and the re-proof after a
session ended: the national identifier, the two-digit code PSC also shows on the
professional's phone or card reader, the time left (Esc cancels), then the login.

The hub runs PSC's flows (docs/protocol.md): CIBA with ``login.psc.start``/``wait``, or,
where the room's PSC client allows it, the browser with PKCE (``login.psc.authorize``,
the redirect received on 127.0.0.1 by app.client.loopback, then ``login.psc.code``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.client.hub_client import HubClient, HubError
from app.client.loopback import RedirectListener, RedirectRefused
from ui import psc_text
from ui.naming import named
from ui.tasks import spawn

log = logging.getLogger(__name__)

#: How long the browser flow waits for PSC's redirect (the hub keeps its state 10 min).
BROWSER_SECONDS = 600.0


def open_in_browser(url: str) -> bool:
    return QDesktopServices.openUrl(QUrl(url))


class PscDialog(QDialog):
    """A dialog that may hold a PscPanel (``psc``): Esc while PSC waits stops the wait and
    keeps the dialog; closing the dialog (its « Quitter » button) stops it too."""

    psc: PscPanel | None = None

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt API)
        if event.key() == Qt.Key.Key_Escape and self.psc is not None and self.psc.busy:
            self.psc.cancel()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        if self.psc is not None:
            self.psc.cancel()
        super().reject()


class PscPanel(QWidget):
    """``logged_in``: the client adopted the login reply. ``fallback_offered``: PSC is
    unreachable and the room lets this person in with a password and a reason."""

    logged_in = Signal(dict)
    fallback_offered = Signal()
    busy_changed = Signal(bool)

    def __init__(
        self,
        client: HubClient,
        *,
        national_id: str = "",
        username: str = "",
        remember: Callable[[str], None] | None = None,
        open_url: Callable[[str], bool] = open_in_browser,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.client = client
        #: The account being re-proved (its identifier is fixed), else "".
        self.username = username
        self.remember = remember
        self.open_url = open_url
        self._task: asyncio.Task[Any] | None = None
        self._deadline = 0.0
        psc = client.welcome.get("psc") or {}
        intro = QLabel(
            "Avec votre carte CPS (lecteur de carte) ou l'application e-CPS de votre téléphone."
        )
        intro.setWordWrap(True)
        self.national_id = named(QLineEdit(national_id), "nationalId")
        self.national_id.setPlaceholderText("8 suivi des 11 chiffres du RPPS")
        self.national_id.setMaxLength(32)
        self.national_id.setReadOnly(bool(username and national_id))
        form = QFormLayout()
        form.addRow("Identifiant &national (RPPS)", self.national_id)
        #: The sentence with the code (what a screen reader says), and the two digits
        #: large enough to compare with the phone's screen at a glance.
        self.code = named(QLabel(""), "pscCode")
        self.code.setWordWrap(True)
        self.code.setStyleSheet("font-weight: bold")
        self.digits = named(QLabel(""), "pscDigits")
        self.digits.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.digits.setStyleSheet("font-size: 36pt; font-weight: bold; letter-spacing: 8px")
        self.left = named(QLabel(""), "pscTimeLeft")
        self.progress = named(QProgressBar(), "pscProgress")
        self.progress.setTextVisible(False)
        self.cancel_button = named(QPushButton("Annuler l'attente"), "pscCancel")
        self.cancel_button.clicked.connect(self.cancel)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        self.browser = named(QPushButton("Se connecter dans le na&vigateur…"), "pscBrowser")
        # Not for a re-proof: the browser's login names no account, the hub could not
        # check that the same person takes the desk back (CIBA carries ``username``).
        self.browser.setVisible(bool(psc.get("pkce")) and not username)
        self.browser.clicked.connect(self.start_browser)
        self.message = named(QLabel(""), "pscMessage")
        self.message.setWordWrap(True)
        self.policy = named(QLabel(psc_text.policy_summary(psc)), "pscPolicy")
        self.policy.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.code)
        layout.addWidget(self.digits)
        layout.addWidget(self.left)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.browser)
        layout.addStretch(1)
        layout.addWidget(self.policy)
        self.ticker = QTimer(self)
        self.ticker.setInterval(1000)
        self.ticker.timeout.connect(self._tick)
        self._show_waiting(False)

    # -- what the dialogs call --------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Enter on the PSC tab: send the identifier, show the code, wait."""
        if self.busy:
            return
        national_id = self.national_id.text().strip()
        if not national_id:
            self.message.setText("Saisissez votre identifiant national (RPPS).")
            self.national_id.setFocus()
            return
        self._run(self._ciba(national_id), "psc-ciba")

    def start_browser(self) -> None:
        if not self.busy:
            self._run(self._browser(), "psc-browser")

    def cancel(self) -> None:
        """Esc or « Annuler l'attente »: stop waiting; the identifier stays typed."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def focus(self) -> None:
        field = self.national_id
        (self.cancel_button if self.busy else field).setFocus()
        if not self.busy and not field.isReadOnly():
            field.selectAll()

    # -- the flows ------------------------------------------------------------------

    def _run(self, flow: Coroutine[Any, Any, None], name: str) -> None:
        self.message.setText("Demande envoyée à Pro Santé Connect…")
        self._task = spawn(self._guarded(flow), name)
        self.busy_changed.emit(True)

    async def _guarded(self, flow: Coroutine[Any, Any, None]) -> None:
        fallback = False
        try:
            await flow
        except asyncio.CancelledError:
            self.message.setText("Attente annulée : vous pouvez recommencer.")
            # An answer PSC still gives to this attempt must not log the desk in later.
            spawn(self.client.abandon_psc(), "psc-abandon")
        except HubError as exc:
            self.message.setText(psc_text.refusal(exc))
            fallback = psc_text.fallback_allowed(exc)
        finally:
            self._show_waiting(False)
            self._task = None
            self.busy_changed.emit(False)
            self.focus()
        if fallback:  # last: the dialog moves the focus to the password's side
            self.fallback_offered.emit()

    async def _ciba(self, national_id: str) -> None:
        started = await self.client.psc_start(national_id, self.username)
        expires_in = float(started.get("expires_in") or 120)
        self.code.setText(psc_text.code_text(str(started["binding_message"])))
        self.digits.setText(str(started["binding_message"]))
        self.message.setText("Validez ce code sur votre téléphone ou votre lecteur CPS.")
        self._show_waiting(True, expires_in)
        reply = await self.client.psc_wait(str(started["request"]), expires_in)
        self._logged_in(reply, national_id)

    async def _browser(self) -> None:
        async with RedirectListener() as listener:
            asked = await self.client.psc_authorize(listener.redirect_uri)
            listener.expect(str(asked["state"]))
            if not self.open_url(str(asked["url"])):
                self.message.setText(
                    "Le navigateur n'a pas pu être ouvert : utilisez l'identifiant national."
                )
                return
            self.code.setText("Terminez la connexion dans le navigateur qui vient de s'ouvrir.")
            self.message.setText("")
            self._show_waiting(True, BROWSER_SECONDS)
            try:
                redirect = await listener.wait(BROWSER_SECONDS)
            except RedirectRefused as exc:
                why = exc.description or exc.error
                self.message.setText(f"Pro Santé Connect n'a pas accordé la connexion ({why}).")
                return
            except TimeoutError:
                self.message.setText("Délai dépassé dans le navigateur : recommencez.")
                return
            self.left.setText("Réponse reçue, vérification par le hub…")
            reply = await self.client.psc_code(redirect.state, redirect.code)
        self._logged_in(reply, "")

    def _logged_in(self, reply: dict[str, Any], typed: str) -> None:
        self.client.adopt(reply)
        national_id = str(reply.get("user", {}).get("national_id") or typed)
        if self.remember is not None and national_id:
            try:
                self.remember(national_id)
            except Exception:  # the login stands even if the settings file cannot be written
                log.exception("national identifier not remembered")
        self.message.setText("Connecté.")
        self.logged_in.emit(reply)

    # -- display --------------------------------------------------------------------

    def _show_waiting(self, waiting: bool, seconds: float = 0.0) -> None:
        for widget in (self.left, self.progress, self.cancel_button):
            widget.setVisible(waiting)
        self.code.setVisible(waiting)
        self.digits.setVisible(waiting and bool(self.digits.text()))
        self.national_id.setEnabled(not waiting)
        self.browser.setEnabled(not waiting)
        if waiting:
            loop = asyncio.get_event_loop()
            self._deadline = loop.time() + seconds
            self.progress.setRange(0, max(1, int(seconds)))
            self._tick()
            self.ticker.start()
            self.cancel_button.setFocus()
        else:
            self.ticker.stop()
            self.code.setText("")
            self.digits.setText("")

    def _tick(self) -> None:
        with contextlib.suppress(RuntimeError):  # no loop: the dialog is going away
            left = self._deadline - asyncio.get_event_loop().time()
            self.left.setText(psc_text.time_left(left))
            self.progress.setValue(max(0, int(left)))
