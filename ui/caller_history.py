"""The caller's history on the desk ("antériorités") and the dossier search.

On ring, the call bar tells how many dossiers this number had in the period (30 days
by default) and what the last one was; a frequent caller is marked. Ctrl+H opens the
list, Ctrl+J attaches the dossier in hand to that patient (the last dossier, or the one
selected in the list), Ctrl+Shift+F searches dossiers. Everything is read through the
hub (history.caller, dossier.search, dossier.link), which checks the role and audits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QBoxLayout

from app.domain.permissions import Action
from app.history.protocol import (
    CallerReply,
    DossierLinkIntent,
    DossierSearch,
    DossierSummary,
    HistoryCaller,
    LinkReply,
    SearchReply,
)
from app.hub.payloads import as_reply
from telephony.line import LineEvent, LineEventKind
from ui.bridge import HubBridge, LineBridge
from ui.tasks import spawn
from ui.widgets.dossier_list import DossierListDialog, patient, when
from ui.widgets.elided_label import ElidedLabel

if TYPE_CHECKING:
    from ui.main_window import DeskWindow


class DossierInHand(Protocol):
    """What the history needs of the dossier controller (ui.controllers.dossier), which
    itself sits above this module: the dossier in hand, its caller, opening another."""

    current_id: int | None

    def caller_number(self) -> str: ...

    def open(self, dossier_id: int, *, fetch: bool = False) -> None: ...


def ring_text(reply: CallerReply) -> tuple[str, str]:
    """The call bar's line and its tooltip for a history.caller reply."""
    count, days = reply["count"], reply["days"]
    if count == 0:
        return f"Aucun dossier en {days} j", ""
    last = reply["dossiers"][0] if reply["dossiers"] else None
    plural = "s" if count > 1 else ""
    text = f"{count} dossier{plural} en {days} j"
    tip = ""
    if last is not None:
        decision = last["decision"] or "sans décision"
        day = when(last["answered_at"])[:10]
        text += f" — dernier {day} {last['priority'] or '—'} {decision}"
        tip = f"{last['number']} · {patient(last)} · {last['motif']}"
    if reply["frequent"]:
        text = "⚑ Appelant fréquent · " + text
    return text + " (Ctrl+H)", tip


class CallerHistory(QObject):
    def __init__(
        self,
        window: DeskWindow,
        hub: HubBridge,
        line: LineBridge | None,
        dossier: DossierInHand,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.w = w = window
        self.hub = hub
        self.dossier = dossier  # the dossier in hand: its caller, the one to attach
        self.number = ""  # the last ringing caller's number
        self.last: DossierSummary | None = None  # its newest earlier dossier
        self.reply: CallerReply | None = None
        self.dialog: DossierListDialog | None = None
        self.search_dialog: DossierListDialog | None = None
        self.label = ElidedLabel("")  # "…" on a narrow screen, all of it in the tooltip
        self.label.setObjectName("callerHistory")
        self.label.setVisible(False)
        bar_layout = w.call_bar.layout()
        assert isinstance(bar_layout, QBoxLayout)
        bar_layout.insertWidget(3, self.label)
        self.actions: dict[str, QAction] = {}
        if not window.granted.can(Action.READ_DOSSIERS):
            return  # the hub would refuse: no menu (the row sent by the hub at login)
        menu = w.menuBar().addMenu("&Dossiers")
        for name, keys, text, slot in (
            ("history", "Ctrl+H", "Antériorités de l'appelant…", self.open_list),
            ("link", "Ctrl+J", "Rattacher au même patient", self.link_last),
            ("search", "Ctrl+Shift+F", "Rechercher un dossier…", self.open_search),
        ):
            action = QAction(text, self)  # owned here, its key on the whole window
            action.setObjectName(f"action_{name}")
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            w.addAction(action)
            menu.addAction(action)
            self.actions[name] = action
        if line is not None:
            line.line_event.connect(self.on_line_event)

    # -- on ring --------------------------------------------------------------------

    def on_line_event(self, ev: LineEvent) -> None:
        if ev.kind is LineEventKind.RINGING and ev.caller:
            self.number, self.last, self.reply = ev.caller, None, None
            self.label.setText("Antériorités…")
            self.label.setVisible(True)
            spawn(self._lookup(ev.caller), "caller-history")

    async def _lookup(self, number: str) -> None:
        answer = await self.hub.send(HistoryCaller, number=number, limit=1)
        if answer is None or number != self.number:
            return
        self.reply = reply = as_reply(answer, CallerReply)
        self.last = reply["dossiers"][0] if reply["dossiers"] else None
        text, tip = ring_text(reply)
        self.label.setText(text)
        self.label.setToolTip(tip)
        self.label.setProperty("frequent", bool(reply["frequent"]))
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)

    # -- the list (Ctrl+H) and the link (Ctrl+J) ------------------------------------------

    def _number(self) -> str:
        return self.dossier.caller_number() or self.number

    def open_list(self) -> None:
        number = self._number()
        if not number:
            self.w.show_message("Pas de numéro d'appelant pour chercher ses antériorités",
                                  error=True)  # fmt: skip
            return
        if self.dialog is None:
            self.dialog = self._dialog("Antériorités de l'appelant", search=False)
        spawn(self._list(number), "caller-history-list")

    async def _list(self, number: str) -> None:
        answer = await self.hub.send(HistoryCaller, number=number, limit=50)
        if answer is None or self.dialog is None:
            return
        reply = as_reply(answer, CallerReply)
        text, _tip = ring_text(reply)
        self.dialog.show_rows(f"{number} : {text.removesuffix(' (Ctrl+H)')}",
                              reply["dossiers"])  # fmt: skip
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def link_last(self) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            row = self.dialog.table.selected()
            if row is not None:
                self.link_to(row["id"])
                return
        if self.last is None:
            self.w.show_message("Aucune antériorité à laquelle rattacher ce dossier",
                                  error=True)  # fmt: skip
            return
        self.link_to(self.last["id"])

    def link_to(self, earlier_id: int) -> None:
        if self.dossier.current_id is None:
            self.w.show_message("Ouvrez d'abord le dossier à rattacher", error=True)
            return
        spawn(self._link(self.dossier.current_id, earlier_id), "dossier-link")

    async def _link(self, dossier_id: int, earlier_id: int) -> None:
        await self.hub.client.flush()  # the fields typed so far reach the hub first
        answer = await self.hub.send(DossierLinkIntent, dossier_id=dossier_id,
                                       same_patient_as=earlier_id)  # fmt: skip
        if answer is not None:
            self.linked = reply = as_reply(answer, LinkReply)
            filled = ", ".join(reply["fields"]) or "aucun champ vide"
            self.w.show_message(f"Dossier rattaché au même patient ({filled} repris)")

    # -- search (Ctrl+Shift+F) ---------------------------------------------------------

    def open_search(self) -> None:
        if self.search_dialog is None:
            self.search_dialog = self._dialog("Rechercher un dossier", search=True)
            self.search_dialog.search_requested.connect(
                lambda criteria: spawn(self._search(criteria), "dossier-search")
            )
        self.search_dialog.show()
        self.search_dialog.raise_()
        self.search_dialog.name.setFocus()

    async def _search(self, criteria: dict[str, Any]) -> None:
        answer = await self.hub.send(DossierSearch, **criteria)
        if answer is None or self.search_dialog is None:
            return
        reply = as_reply(answer, SearchReply)
        rows = reply["dossiers"]
        more = " (les 50 plus récents : précisez)" if reply["more"] else ""
        self.search_dialog.show_rows(f"{len(rows)} dossier(s){more}", rows)

    def _dialog(self, title: str, *, search: bool) -> DossierListDialog:
        dialog = DossierListDialog(title, self.w, search=search)
        dialog.open_requested.connect(lambda did: self.dossier.open(did, fetch=True))
        dialog.link_requested.connect(self.link_to)
        return dialog
