"""The table model alone (no view): ordering, in-place updates, moves, filtering."""

from __future__ import annotations

from PySide6.QtCore import QPersistentModelIndex
from PySide6.QtWidgets import QApplication

from app.domain.enums import Queue
from ui.models.dossiers import queue_model


def row(i: int, prio: str, at: str, queue: str = "SNP", status: str = "QUEUED") -> dict:
    return {
        "id": i,
        "priority": prio,
        "queued_at": at,
        "queue": queue,
        "status": status,
        "line": "15",
        "reflex": prio == "P0",
    }


def test_queue_orders_by_priority_then_wait_and_updates_in_place(qapp: QApplication) -> None:
    model = queue_model({Queue.SNP, Queue.AMU_MEDECIN})
    model.reset_rows(
        [row(1, "P2", "2026-01-01T10:00:00+00:00"), row(2, "P2", "2026-01-01T09:00:00+00:00")]
    )
    model.upsert(row(3, "P0", "2026-01-01T11:00:00+00:00", queue="AMU_MEDECIN"))
    assert [r["id"] for r in model.rows] == [3, 2, 1]
    assert model.index(0, 0).data().startswith("⚡")

    kept = QPersistentModelIndex(model.index(1, 0))  # a selection on dossier 2
    updated = {**row(2, "P2", "2026-01-01T09:00:00+00:00"), "motif": "fièvre"}
    model.upsert(updated)
    assert kept.row() == 1 and model.rows[1]["motif"] == "fièvre"

    model.upsert(row(2, "P1", "2026-01-01T09:00:00+00:00"))  # re-prioritised: moves
    assert [r["id"] for r in model.rows] == [3, 2, 1] and kept.row() == 1
    model.upsert(row(1, "P0", "2026-01-01T08:00:00+00:00"))
    assert [r["id"] for r in model.rows] == [1, 3, 2] and kept.row() == 2

    model.upsert(row(3, "P0", "2026-01-01T11:00:00+00:00", status="IN_PROGRESS"))
    assert [r["id"] for r in model.rows] == [1, 2]  # taken: leaves the queue
    model.upsert(row(9, "P2", "2026-01-01T12:00:00+00:00", queue="AMU_N2"))
    assert model.position(9) is None  # not one of this desk's queues
