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
    #: Drawn by hand (the statistics bars): surface, axis, day labels, legend text.
    chart: tuple[str, str, str, str] = ("#ffffff", "#9aa5b1", "#52606d", "#000000")
    #: Up to six bar series, told apart by hue and lightness.
    series: tuple[str, ...] = ("#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#c62828", "#00838f")
    #: Test results in the set-up wizard: failed, passed (text on the window's background).
    bad: str = "#b71c1c"
    good: str = "#1b5e20"


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
}, chart=("#161b20", "#5c6773", "#aab4be", "#c9d1d9"),
   series=("#56B4E9", "#009E73", "#E69F00", "#CC79A7", "#F0E442", "#D55E00"),
   bad="#ff8a65", good="#7fc98f")  # fmt: skip

current: Theme = DAY


def priority_colours(priority: str | None) -> tuple[str, str] | None:
    return current.priority.get(priority or "")
