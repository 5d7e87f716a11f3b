"""A dossier's recordings as the listener reads them (French): when, which line or
direction, who was on the other end, which desk account, how long."""

from __future__ import annotations

from typing import Any

from app.domain.enums import Line
from app.recordings.protocol import Kind
from ui.models.rows import Column, Row, RowTableModel, when

DIRECTION = {
    Kind.CALLBACK: "Sortant · rappel OSNP",
    Kind.PLACED: "Sortant · recherche de créneaux",
}


def line_text(item: Row) -> str:
    if item["kind"] == Kind.INCOMING:
        line = item.get("line") or ""
        return f"Entrant · {Line(line).label}" if line in set(Line) else "Entrant"
    return DIRECTION.get(item["kind"], "Sortant")


def party_text(item: Row) -> str:
    """The other end: the caller's number, or the doctor called and the number dialled."""
    if item["kind"] == Kind.INCOMING:
        return item.get("number") or "numéro masqué"
    return " · ".join(x for x in (item.get("callee"), item.get("number")) if x) or "—"


def duration_text(item: Row) -> str:
    seconds = item.get("seconds")
    if seconds is None:
        return "—"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def describe(item: Row) -> str:
    """One line for the desk's messages: « entrant · 15, 0546…, 24/11/2026 10:02 (3 s) »."""
    return (
        f"{line_text(item).lower()}, {party_text(item)}, {when(item.get('at'))} "
        f"({duration_text(item)})"
    )


COLUMNS = [
    Column("Quand", lambda r: when(r.get("at"))),
    Column("Ligne / sens", line_text),
    Column("Correspondant", party_text, tooltip=party_text),
    Column("Pris ou passé par", lambda r: r.get("by") or "—"),
    Column("Durée", duration_text),
]


def recordings_model(parent: Any = None) -> RowTableModel:
    """Oldest call first, as the hub lists them."""
    return RowTableModel(
        COLUMNS, lambda _r: True, lambda r: (r.get("at") or "", r["id"]), parent=parent
    )
