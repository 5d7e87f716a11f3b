"""A month of events shaped like seed 003's June 2023 gives back every cell of the table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.hub.auth import Principal
from app.stats.calendar import PARIS, Period
from app.stats.monthly import MonthlyTable, monthly_table
from tests.stats import seed_003_june_2023 as seed
from tests.stats.room import Room

SECTORS = {"LR": "17300", "AN": "17218", "RE": "17369"}  # La Rochelle, Marans, Saint-Martin


def _paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def play_june(room: Room) -> None:
    """Per day: publish the day's places, hand the OSNP its searches, close them."""
    doctors = {code: room.doctor(insee, f"Médecin {code}") for code, insee in SECTORS.items()}
    for day, cells in seed.DAYS.items():
        v = dict(zip(seed.COLUMNS, cells, strict=True))
        free: dict[str, list[int]] = {}
        for code in SECTORS:
            # Ile de Ré publishes "0/5" ranges: a range of 5 is 5 places.
            free[code] = room.slots(
                doctors[code],
                _paris(day, 18),
                v[f"slots:{code}"],
                capacity=5 if code == "RE" else 1,
            )
            room.slots(doctors[code], _paris(day, 19), 2, status="cancelled")  # withdrawn
        outcomes: list[tuple[str, str]] = []
        for code in SECTORS:
            outcomes += [("RDV_CRENEAU", code)] * v[f"rdv:{code}"]
        if outcomes and day.weekday() == 0:
            outcomes[0] = ("RDV_HORS_DISPO", outcomes[0][1])  # accepted beyond its slots
        outcomes += [("RDV_MT", "LR")] * v["rdv_mt"] + [("RDV_CONFRERE", "AN")] * v["rdv_confrere"]
        assert len(outcomes) <= v["dossiers_osnp"], day
        room.clock.at(_paris(day, 8))
        for i in range(v["dossiers_osnp"]):
            outcome, code = outcomes[i] if i < len(outcomes) else ("SANS_SOLUTION", "LR")
            d, task = room.snp_task(insee=SECTORS[code])
            if i == v["dossiers_osnp"] - 1 and outcome == "SANS_SOLUTION" and i % 2:
                continue  # left open: the search goes on tomorrow
            if outcome == "RDV_CRENEAU":
                room.close_task(task, outcome, dossier=d, slot=free[code].pop(0))
            elif outcome == "RDV_HORS_DISPO":
                room.close_task(task, outcome, dossier=d, beyond=doctors[code])
            else:
                room.close_task(task, outcome, dossier=d)


@pytest.fixture(scope="module")
def june(tmp_path_factory: pytest.TempPathFactory, password_hash: str) -> Iterator[MonthlyTable]:
    from app.db.engine import make_engine, make_sessionmaker
    from app.db.migrate import upgrade
    from app.db.models import User
    from app.hub.auth import principal_of
    from tests.conftest import ACCOUNTS

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('june') / 'hub.sqlite3'}")
    upgrade(engine)
    maker: sessionmaker[Session] = make_sessionmaker(engine)
    with maker.begin() as s:
        for username, role in ACCOUNTS:
            s.add(
                User(
                    username=username,
                    display_name=username,
                    role=str(role),
                    password_hash=password_hash,
                )
            )
    with maker() as s:
        from sqlalchemy import select

        people: dict[str, Principal] = {
            u.username: principal_of(u) for u in s.scalars(select(User))
        }
    room = Room(maker, people)
    room.load_communes()
    play_june(room)
    with maker() as s:
        yield monthly_table(s, Period.month(2023, 6))
    engine.dispose()


def test_every_day_is_a_row_and_equals_the_source(june: MonthlyTable) -> None:
    days = june.days()
    assert [r.day for r in days] == list(seed.DAYS)
    for row in days:
        assert row.day is not None
        expected = dict(zip(seed.COLUMNS, seed.DAYS[row.day], strict=True))
        assert {k: row.values[k] for k in seed.COLUMNS} == expected, row.label


def test_every_weekly_and_monthly_cell_equals_the_source(june: MonthlyTable) -> None:
    weeks = june.weeks()
    assert [r.day for r in weeks] == list(seed.WEEKS)
    checked = 0
    for row, key in [(r, r.day) for r in weeks] + [(june.total, None)]:
        written = seed.WEEKS[key] if key is not None else seed.MONTH
        for col, source in zip(seed.COLUMNS, written, strict=True):
            days_sum = sum(
                dict(zip(seed.COLUMNS, cells, strict=True))[col]
                for day, cells in seed.DAYS.items()
                if key is None or key <= day < key + timedelta(days=7)
            )
            assert row.values[col] == days_sum
            if (key, col) in seed.SOURCE_ARITHMETIC_SLIPS:  # the hand's sum is off
                assert source != days_sum, f"{key} {col}: not a slip of the source after all"
            else:
                assert row.values[col] == source, f"{row.label} {col}"
                checked += 1
    assert checked == 6 * 9 - len(seed.SOURCE_ARITHMETIC_SLIPS)


def test_other_columns_of_the_month(june: MonthlyTable) -> None:
    total = june.total.values
    assert total["slots:AS"] == 0 and total["rdv:AS"] == 0  # Aunis Sud: no activity, shown
    closed = sum(
        total[k]
        for k in ("rdv:LR", "rdv:AN", "rdv:RE", "rdv:AS", "rdv_mt", "rdv_confrere", "sans_solution")
    )
    assert closed < total["dossiers_osnp"]  # a few searches still open at the month's end


def test_the_dash_of_15_june_is_read_as_the_printed_subtotals_read_it(
    june: MonthlyTable,
) -> None:
    """ "- 6" in La Rochelle's RDV on 15 June is a dash (0): the week's written 7 and the
    month's written 32 then equal the sums of their days, as the report computes them."""
    assert dict(zip(seed.COLUMNS, seed.DAYS[date(2023, 6, 15)], strict=True))["rdv:LR"] == 0
    week = next(r for r in june.weeks() if r.day == date(2023, 6, 12))
    assert week.values["rdv:LR"] == seed.WEEKS[date(2023, 6, 12)][2] == 7
    assert june.total.values["rdv:LR"] == seed.MONTH[2] == 32
    assert (date(2023, 6, 12), "rdv:LR") not in seed.SOURCE_ARITHMETIC_SLIPS
