"""Appointments the agendas report, counted per effecteur, commune, CPTS and day.

Feedback goes through the hub's own unit of work (``HubSink._record``: the store, the
``appointment.*`` event, the statistics projector), as an editor's POST / PUT does;
the counts are compared with a hand count of what was sent, the projected facts with
a rebuild of the log, and the seeds' tables with the report's.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.appointments.fhir import AppointmentStatus, FhirAppointment, Regulator
from app.appointments.hub_sink import HubSink
from app.directory.models import Effecteur
from app.stats.calendar import Period, local_day
from app.stats.communes import commune_table
from app.stats.models import StatAgendaAppointment
from app.stats.projection import rebuild
from app.stats.report import build_report
from app.stats.territory import OUTSIDE
from tests.stats import seed_004_sas92_june as seed
from tests.stats.room import Room

SYSTEM = "urn:oid:1.2.250.1.999.1"
EDITOR = "editeur-test"
FATES = ("fulfilled", "noshow", "cancelled")


def _rpps(room: Room, effecteur_id: int) -> str:
    with room.sessions() as s:
        return str(s.scalar(select(Effecteur.rpps).where(Effecteur.id == effecteur_id)))


def feedback(
    room: Room, rpps: str, identifier: str, status: str, start: datetime, *, put: bool
) -> None:
    """One FrAppointmentSAS applied as the endpoint's sink applies it on the hub."""
    a = FhirAppointment(
        identifier_system=SYSTEM,
        identifier=identifier,
        status=AppointmentStatus(status),
        start=start,
        end=start + timedelta(minutes=15),
        regulator=Regulator("810000000001", True),
        effecteur_national_id=f"8{rpps}",
    )
    target = (SYSTEM, identifier) if put else None
    sink = HubSink(SimpleNamespace(service=room.service))
    room.service.run_unit(lambda u: sink._record(u, a, EDITOR, target))


def facts_table(room: Room) -> list[tuple[Any, ...]]:
    with room.sessions() as s:
        t = StatAgendaAppointment.__table__
        return [tuple(r) for r in s.execute(select(t).order_by(t.c.appointment_id))]


def rebuilt(room: Room) -> list[tuple[Any, ...]]:
    with room.sessions.begin() as s:
        rebuild(s.connection())
    return facts_table(room)


# -- a hand count of generated feedback ---------------------------------------------

appointment = st.tuples(
    st.integers(-3, 33),  # consultation day from June 1st: some fall outside the month
    st.integers(5, 21),  # UTC hour
    st.integers(0, 4),  # which doctor
    st.sampled_from((None, *FATES)),  # its fate, if the agenda reports one
    st.booleans(),  # the fate arrives before the booking (PUT of an unknown id)
    st.booleans(),  # a message is replayed
)

_example = iter(range(10_000))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(appointment, min_size=1, max_size=14), st.randoms(use_true_random=False))
def test_counts_equal_a_hand_count_and_the_rebuild(
    room: Room, drawn: list[tuple[int, int, int, str | None, bool, bool]], rng: random.Random
) -> None:
    # Each example its own year's June: the shared database keeps earlier ones apart.
    k = next(_example)
    june = Period.month(2030 + k, 6)
    places = ["17300", "17028", "17486", "17299", "75056"]  # three CPTS, and Paris
    doctors = [room.doctor(insee, name=f"Ex{k}-{i}") for i, insee in enumerate(places)]
    rpps = [_rpps(room, d) for d in doctors]
    # Each appointment's messages in order; appointments interleaved at random.
    queues: list[list[tuple[str, str, datetime, bool]]] = []
    owner: dict[str, int] = {}
    expected: dict[str, Counter[Any]] = defaultdict(Counter)
    for i, (day, hour, who, fate, fate_first, replay) in enumerate(drawn):
        start = datetime(june.first.year, 6, 1, hour, tzinfo=UTC) + timedelta(days=day)
        ident = f"{k}-{i}"
        msgs = [(ident, "booked", start, False)]
        if fate is not None:
            msgs = (
                [(ident, fate, start, True)] if fate_first else [*msgs, (ident, fate, start, True)]
            )
        if replay:
            msgs.append(msgs[-1])
        queues.append(msgs)
        if june.contains(start):
            final = fate or "booked"
            for dim, key in (
                ("day", local_day(start)),
                ("eff", doctors[who]),
                ("commune", places[who]),
                ("sector", room_sector(room, places[who])),
            ):
                expected[dim][(key, final)] += 1
        owner[ident] = who
    pending = [q for q in queues if q]
    while pending:
        q = rng.choice(pending)
        ident, status, start, put = q.pop(0)
        room.clock.at(start - timedelta(hours=1))
        feedback(room, rpps[owner[ident]], ident, status, start, put=put)
        pending = [q for q in pending if q]

    with room.sessions() as s:
        report = build_report(s, june)
    a = report.agenda

    def got(groups: dict[Any, Any]) -> Counter[Any]:
        out: Counter[Any] = Counter()
        for key, c in groups.items():
            for status, n in zip(
                ("made", "fulfilled", "noshow", "cancelled", "booked"), c.row(), strict=True
            ):
                if status != "made" and n:
                    out[(key, status)] += n
        return out

    assert got(a.by_day) == expected["day"]
    assert got(a.by_effecteur) == expected["eff"]
    assert got(a.by_commune) == expected["commune"]
    assert got(a.by_sector) == expected["sector"]
    assert a.month.made == sum(expected["day"].values())
    # Seed 001's « Nombre de RDV/visites »: no search here, every appointment not cancelled.
    regional = next(t for t in report.tables() if t.title == "Comparaison régionale")
    assert regional.rows[0][4] == a.month.made - a.month.cancelled
    by_cpts = next(t for t in report.tables() if t.title == "RDV SAS par CPTS")
    if a.month.made:
        assert by_cpts.rows[-1] == ["Total", *a.month.row()]
    # What the projector kept as each unit committed is what the log folds to.
    live = facts_table(room)
    assert rebuilt(room) == live


def room_sector(room: Room, insee: str) -> str:
    from app.db.models import Commune

    with room.sessions() as s:
        c = s.get(Commune, insee)
        return c.sector if c is not None and c.sector else OUTSIDE


def test_a_fate_is_counted_once_on_the_consultation_day(room: Room) -> None:
    doctor = room.doctor("17300")
    rpps = _rpps(room, doctor)
    start = datetime(2023, 6, 30, 21, 30, tzinfo=UTC)  # 23:30 in Paris: still June 30th
    room.clock.at(datetime(2023, 6, 28, 8, tzinfo=UTC))
    feedback(room, rpps, "a", "booked", start, put=False)
    feedback(room, rpps, "a", "booked", start, put=False)  # a replay changes nothing
    room.clock.at(datetime(2023, 7, 1, 8, tzinfo=UTC))
    feedback(room, rpps, "a", "noshow", start, put=True)
    feedback(room, rpps, "b", "fulfilled", start + timedelta(hours=1), put=True)  # July 1st
    with room.sessions() as s:
        a = build_report(s, Period.month(2023, 6)).agenda
    assert list(a.by_day) == [date(2023, 6, 30)]
    assert a.month.row() == [1, 0, 1, 0, 0]  # made, fulfilled, no-show, cancelled, booked
    assert rebuilt(room) == facts_table(room)


# -- the seeds' tables ---------------------------------------------------------------


def test_seed_004_june_table_from_the_agendas_fates(room_92: Room) -> None:
    """Seed 004's June table, its « RDV SAS réalisés » reported fulfilled by the
    doctors' agendas; no-shows and cancellations there do not count as réalisés."""
    room = room_92
    room.clock.at(datetime(2023, 6, 5, 6, 0, tzinfo=UTC))
    for _pc, _name, insee, decisions, _seen in seed.ROWS:
        for _ in range(decisions):
            room.snp_task(insee=insee)
    seen: Counter[str] = Counter()
    for _pc, _name, insee, _dec, n in seed.ROWS:
        seen[insee] += n
    for _label, insee, n in seed.OUTSIDE:
        seen[insee] += n
    start = datetime(2023, 6, 20, 14, tzinfo=UTC)
    missed = 0
    for insee, n in seen.items():
        rpps = _rpps(room, room.doctor(insee))
        for i in range(n):
            feedback(room, rpps, f"{insee}-{i}", "booked", start, put=False)
            feedback(room, rpps, f"{insee}-{i}", "fulfilled", start, put=True)
        if n:  # one patient who did not come, one appointment cancelled
            for fate in ("noshow", "cancelled"):
                feedback(room, rpps, f"{insee}-{fate}", fate, start, put=True)
            missed += 1
    with room.sessions() as s:
        report = build_report(s, Period.month(2023, 6))
        without_fates = commune_table(s, Period.month(2023, 6))
    rows = report.communes
    # Without the agendas' fates nothing was seen: no search ended with an appointment.
    assert sum(r.appointments for r in without_fates) == 0
    got = {r.key: (r.decisions, r.appointments) for r in rows}
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _pc, _name, insee, decisions, n in seed.ROWS:
        expected[insee][0] += decisions
        expected[insee][1] += n
    for _label, insee, n in seed.OUTSIDE:
        if n:
            expected[f"dep:{insee[:2]}"][1] += n
    assert got == {k: tuple(v) for k, v in expected.items()}
    table = next(t for t in report.tables() if t.title == "Orientations et RDV par commune")
    assert table.columns[2:4] == ["Décisions d'orientation vers RDV SAS", "RDV SAS réalisés"]
    shown = {(r[0], r[1]): (r[2], r[3]) for r in table.rows}
    for pc, name, insee, decisions, n in seed.ROWS:
        if insee != "92048":  # Meudon: two postal codes of the source, one commune here
            assert shown[(pc, name)] == (decisions, n), name
    assert shown[("92190 92360", "Meudon")] == (8, 4)
    assert table.rows[-1][1:] == ["Total", seed.TOTAL_DECISIONS, seed.TOTAL_APPOINTMENTS] + [
        missed,
        missed,
    ]


def test_seed_001_regional_kpis(room: Room) -> None:
    """SAS 62, 2023 (seed 001): DRM split MG/AMU 25/75, 35 % of the MG DRM turned into a
    town orientation; the appointments: searches ended with one, and the agendas'."""
    oriented = [room.snp_task() for _ in range(7)]
    for _ in range(13):
        room.dossier(priority="P2")
    for _ in range(60):
        room.dossier(priority="P1")
    for d, task in oriented[:5]:
        room.close_task(task, "RDV_MT", dossier=d)
    rpps = _rpps(room, room.doctor("17300"))
    when = datetime(2023, 6, 12, 9, tzinfo=UTC)
    feedback(room, rpps, "platform-1", "booked", when, put=False)
    feedback(room, rpps, "platform-2", "fulfilled", when, put=True)
    feedback(room, rpps, "platform-3", "cancelled", when, put=True)  # not an appointment
    with room.sessions() as s:
        report = build_report(s, Period.month(2023, 6))
    table = next(t for t in report.tables() if t.title == "Comparaison régionale")
    assert table.columns[1:] == [
        "Répartition DRM MG/AMU",
        "Taux d'inscription sur la plateforme SAS",
        "Taux de transformation des DRM MG en orientation ville",
        "Nombre de RDV/visites",
    ]
    label, split, _registration, transformation, appointments = table.rows[0]
    assert (label, split, transformation, appointments) == ("juin 2023", "25/75", "35,0 %", 7)
