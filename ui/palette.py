"""The desk's colours, day and night. Priorities use the Okabe-Ito palette (Okabe & Ito,
"Color Universal Design", 2008), chosen because its colours stay apart for
deuteranopes and protanopes; the priority is always written too (P0…P3), so the colour
is never the only cue."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    name: str
    #: Background of the priority cell, and the text drawn on it.
    priority: dict[str, tuple[str, str]]


DAY = Theme("jour", {
    "P0": ("#D55E00", "#000000"),  # vermillion
    "P1": ("#E69F00", "#000000"),  # orange
    "P2": ("#56B4E9", "#000000"),  # sky blue
    "P3": ("#009E73", "#000000"),  # bluish green
})  # fmt: skip
#: The same hues, slightly dimmed for a dark room: still the Okabe-Ito order and contrast.
NIGHT = Theme("nuit", {
    "P0": ("#B34F00", "#F2F2F2"),
    "P1": ("#B88000", "#101010"),
    "P2": ("#3F8FBF", "#101010"),
    "P3": ("#007F5C", "#F2F2F2"),
})  # fmt: skip

current: Theme = DAY


def priority_colours(priority: str | None) -> tuple[str, str] | None:
    return current.priority.get(priority or "")
