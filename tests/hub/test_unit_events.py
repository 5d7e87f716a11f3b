"""A unit's events reach the log in the order it emitted them, each message with its row's seq.

Several events of one unit (or of a group-commit batch) are inserted in one statement
on the driver's cursor (app.hub.service), their seq read back: on SQLite and on
PostgreSQL alike, the n-th event emitted is the n-th row, and its message says so.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Event
from app.hub.events import EventName
from app.hub.service import HubService, Unit
from app.hub.visibility import Audience


@pytest.mark.parametrize("count", [1, 2, 5])
@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_a_units_events_are_logged_in_the_order_emitted(
    request: pytest.FixtureRequest, db: str, count: int
) -> None:
    sessions: sessionmaker[Session] = request.getfixturevalue(
        "sessions" if db == "sqlite" else "pg_sessions"
    )
    service = HubService(sessions)

    def work(unit: Unit) -> None:
        for n in range(count):
            unit.emit(EventName.DOSSIER_NOTE, Audience(), n=n, text=f"note {n}")

    for _round in range(2):  # a second unit on the same connection (and its cursor)
        _result, out = service.run_unit(work)
        seqs = [o.message["seq"] for o in out]
        assert len(set(seqs)) == count and all(seqs), seqs
        with sessions() as s:
            rows = s.execute(
                select(Event.seq, Event.type, Event.data).where(Event.seq.in_(seqs))
            ).all()
        logged = {seq: (type_, data) for seq, type_, data in rows}
        assert [logged[seq] for seq in seqs] == [
            ("dossier.note", {"n": n, "text": f"note {n}"}) for n in range(count)
        ]
        assert seqs == sorted(seqs)
