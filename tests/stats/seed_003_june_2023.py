"""Seed 003, June 2023: the OSNP's hand-kept table, transcribed cell by cell.

Columns: Dossier OSNP | La Rochelle: Créneaux dispo, RDV | Nord Aunis: Créneaux dispo,
RDV | Ile de Ré: Créneaux dispo, RDV | RDV MT | RDV confrère du cabinet. Blank cells
are 0. Reading of the OCR'd marks: "- 8" (mercredi 7, RDV MT) is 8, as written (the
week's subtotal, 40, needs it); "- 6" (jeudi 15, La Rochelle RDV) is a dash, 0: in the
other months of the same document a "- N" in an RDV cell is a dash that the printed
subtotals count as 0, and read so this week's La Rochelle subtotal (7) and the month's
(32) agree with their days. "Ť" (mardi 27, Ile de Ré RDV) and "-" are blanks (the
weekly subtotals confirm "Ť"); "mardi 13*: 3" is 3 (confirmed).
"""

from __future__ import annotations

from datetime import date

COLUMNS = (
    "dossiers_osnp",
    "slots:LR",
    "rdv:LR",
    "slots:AN",
    "rdv:AN",
    "slots:RE",
    "rdv:RE",
    "rdv_mt",
    "rdv_confrere",
)

DAYS: dict[date, tuple[int, ...]] = {
    date(2023, 6, 1): (22, 9, 1, 5, 2, 9, 0, 2, 0),
    date(2023, 6, 2): (26, 8, 0, 7, 3, 9, 0, 6, 0),
    date(2023, 6, 5): (40, 10, 1, 9, 2, 10, 1, 13, 0),
    date(2023, 6, 6): (14, 8, 1, 4, 1, 3, 2, 5, 0),
    date(2023, 6, 7): (28, 6, 3, 7, 0, 5, 2, 8, 0),
    date(2023, 6, 8): (36, 8, 5, 5, 1, 7, 3, 9, 1),
    date(2023, 6, 9): (21, 8, 4, 7, 2, 9, 0, 5, 0),
    date(2023, 6, 12): (21, 10, 1, 5, 1, 8, 0, 5, 1),
    date(2023, 6, 13): (3, 9, 1, 5, 1, 13, 0, 0, 1),
    date(2023, 6, 14): (34, 6, 2, 7, 1, 5, 2, 7, 1),
    date(2023, 6, 15): (24, 9, 0, 6, 2, 11, 0, 6, 1),  # "- 6": a dash, see above
    date(2023, 6, 16): (20, 8, 3, 8, 1, 8, 0, 6, 1),
    date(2023, 6, 19): (19, 10, 1, 9, 0, 9, 1, 5, 0),
    date(2023, 6, 20): (25, 11, 0, 6, 0, 14, 1, 5, 0),
    date(2023, 6, 21): (18, 6, 2, 7, 0, 5, 1, 2, 1),
    date(2023, 6, 22): (19, 9, 1, 6, 0, 9, 0, 6, 1),
    date(2023, 6, 23): (16, 9, 1, 8, 1, 8, 2, 4, 0),
    date(2023, 6, 26): (31, 9, 1, 7, 0, 9, 1, 4, 5),
    date(2023, 6, 27): (15, 11, 1, 6, 1, 14, 0, 1, 1),
    date(2023, 6, 28): (28, 6, 0, 7, 0, 5, 0, 8, 1),
    date(2023, 6, 29): (21, 6, 0, 6, 2, 9, 3, 5, 0),
    date(2023, 6, 30): (22, 6, 3, 8, 0, 9, 2, 5, 0),
}

#: The weekly subtotal rows, keyed by the week's Monday, and the month's total row.
WEEKS: dict[date, tuple[int, ...]] = {
    date(2023, 5, 29): (48, 17, 1, 12, 5, 18, 0, 8, 0),
    date(2023, 6, 5): (139, 40, 14, 32, 6, 34, 8, 40, 0),
    date(2023, 6, 12): (102, 42, 7, 31, 5, 45, 2, 24, 4),
    date(2023, 6, 19): (97, 45, 5, 36, 1, 45, 5, 22, 2),
    date(2023, 6, 26): (117, 38, 5, 34, 3, 46, 6, 23, 7),
}
MONTH = (503, 182, 32, 145, 20, 188, 21, 117, 13)

#: Subtotal cells the hand-kept table got wrong: its own days do not add up to them
#: (the test proves it, then expects the sum of the days).
SOURCE_ARITHMETIC_SLIPS: frozenset[tuple[date | None, str]] = frozenset(
    {
        (date(2023, 6, 5), "rdv_confrere"),  # days 0+0+0+1+0 = 1, written 0
        (date(2023, 6, 12), "rdv:AN"),  # 1+1+1+2+1 = 6, written 5
        (date(2023, 6, 12), "rdv_confrere"),  # 1+1+1+1+1 = 5, written 4
        (None, "rdv:AN"),
        (None, "rdv_confrere"),  # carried into the month's total
    }
)
