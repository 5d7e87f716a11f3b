"""The recordings list's French wording, read from the model without any view."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from ui.models.recordings import recordings_model
from ui.widgets.dossier_list import when
from ui.widgets.timeline import describe


def item(id_: int, kind: str, at: str, **fields: Any) -> dict[str, Any]:
    base = {"id": id_, "kind": kind, "at": at, "line": "", "number": "", "callee": "",
            "by": "", "seconds": None}  # fmt: skip
    return {**base, **fields}


def test_each_kind_of_recording_reads_in_french_oldest_call_first() -> None:
    rows = [
        item(9, "placed", "2026-11-24T10:05:00+00:00", number="0546123456",
             callee="Dr Claire Vasseur", by="Dr Paul Lemarié", seconds=62.4),
        item(3, "incoming", "2026-11-24T09:58:00+00:00", line="116117", number="0639980177",
             by="Léa Marchand", seconds=184.0),
        item(5, "callback", "2026-11-24T10:01:00+00:00", number="0546000001",
             callee="Dr Aubert", by="Julie Renaudin", seconds=7.0),
        item(6, "incoming", "2026-11-24T10:03:00+00:00", line="15"),
    ]  # fmt: skip
    model = recordings_model()
    model.reset_rows(rows)
    cells = [[model.index(r, c).data() for c in range(5)] for r in range(model.rowCount())]
    at = sorted(when(r["at"]) for r in rows)
    assert cells == [
        [at[0], "Entrant · 116-117", "0639980177", "Léa Marchand", "3 min 04 s"],
        [at[1], "Sortant · rappel OSNP", "Dr Aubert · 0546000001", "Julie Renaudin", "7 s"],
        [at[2], "Entrant · 15", "numéro masqué", "—", "—"],  # no number, length unknown
        [at[3], "Sortant · recherche de créneaux", "Dr Claire Vasseur · 0546123456",
         "Dr Paul Lemarié", "1 min 02 s"],
    ]  # fmt: skip
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)]
    assert titles == ["Quand", "Ligne / sens", "Correspondant", "Pris ou passé par", "Durée"]


def test_the_timeline_says_which_call_was_recorded_and_which_was_heard() -> None:
    at = "2026-11-24T10:05:00+00:00"
    entries = [
        ("call.recorded", {"sha256": "0" * 64, "size": 9}),
        ("call.recorded", {"attempt_id": 4, "call_ref": "x", "sha256": "0" * 64, "size": 9}),
        ("call.recorded", {"call_ref": "y", "number": "0546", "callee": "Dr Roux",
                           "sha256": "0" * 64, "size": 9}),
        ("recording.opened", {"recording_id": 7, "kind": "placed", "callee": "Dr Roux"}),
        ("recording.opened", {"recording_id": 6, "kind": "incoming", "callee": ""}),
        ("recording.opened", {"recording_id": 5}),  # logged before the kind was kept
    ]  # fmt: skip
    texts = [describe({"type": t, "at": at, "data": d})[10:] for t, d in entries]
    assert texts == [
        "Enregistrement de l'appel archivé (appel entrant)",
        "Enregistrement de l'appel archivé (rappel d'un médecin par l'OSNP)",
        "Enregistrement de l'appel archivé (appel passé depuis la recherche, à Dr Roux)",
        "Enregistrement de l'appel écouté (appel passé depuis la recherche, à Dr Roux)",
        "Enregistrement de l'appel écouté (appel entrant)",
        "Enregistrement de l'appel écouté",
    ]
