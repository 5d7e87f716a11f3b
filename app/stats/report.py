"""The month's report: every table and figure, from the fact tables (the calls and
dossiers counted by the database, ``app.stats.aggregates``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db.types import utcnow
from app.directory.models import Effecteur
from app.directory.vocab import WEEKLY_SNP_CAP
from app.domain.enums import Line, NoSolutionReason, TaskOutcome
from app.stats.agenda import LABELS as AGENDA_LABELS
from app.stats.agenda import AgendaStats, agenda_stats, appointments_obtained
from app.stats.calendar import Period, day_label
from app.stats.communes import CommuneRow, commune_table
from app.stats.facts import (
    AppointmentFact,
    Facts,
    booked_slots,
    engine_of,
    gc_paused,
    load_facts,
)
from app.stats.metrics import (
    NATIONAL_2022,
    TARGET_ANSWERED,
    AppointmentStats,
    CallStats,
    DossierStats,
    ProfessionStats,
    TaskStats,
    appointment_stats,
    profession_stats,
    snp_visits_per_week,
)
from app.stats.monthly import MonthlyTable, monthly_table
from app.stats.projection import catch_up
from app.stats.registration import MODES, RegistrationRow, registration_rates
from app.stats.searches import search_counts
from app.stats.territory import Places, Territory, load_territory, published_places


@dataclass
class Table:
    """A table as the writers lay it out: optional column groups, row emphasis."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    groups: list[str] | None = None
    emphasis: list[str] = field(default_factory=list)  # per row: "", "week", "month"
    note: str = ""


@dataclass
class Report:
    period: Period
    generated_at: datetime
    monthly: MonthlyTable
    communes: list[CommuneRow]
    calls: CallStats
    calls_by_line: dict[str, CallStats]
    calls_by_hour: dict[int, CallStats]
    calls_by_day: dict[date, CallStats]  # every day of the period, quiet ones included
    calls_by_week: dict[date, CallStats]  # keyed by the Monday
    #: sector name → calls whose dossier's commune is there; calls without a dossier
    #: (abandoned, still ringing) under NO_DOSSIER
    calls_by_sector: dict[str, CallStats]
    dossiers_by_sector: dict[str, DossierStats]  # sector name → its dossiers (patient's commune)
    dossiers: DossierStats
    tasks: TaskStats
    appointments: AppointmentStats  # call-back appointments: honoured, no-shows…
    no_shows_by_sector: dict[str, int]  # sector name (patient's commune) → no-shows
    slots: dict[str, tuple[int, int]]  # sector name → (places published, places booked)
    snp_weeks: list[dict[str, Any]]
    #: "10/SM54", "60"… → decisions and appointments for that profession / specialty
    by_profession: dict[str, ProfessionStats] = field(default_factory=dict)
    #: The room's answering target and weekly SNP cap (hub configuration, [objectifs]).
    target: float = TARGET_ANSWERED
    weekly_cap: int = WEEKLY_SNP_CAP
    #: GPs registered on the SAS over GPs installed, per department (the directory now).
    registration: list[RegistrationRow] = field(default_factory=list)
    #: Appointments the agendas reported, counted (app.stats.agenda).
    agenda: AgendaStats = field(default_factory=AgendaStats)
    effecteur_names: dict[int, str] = field(default_factory=dict)
    #: Seed 001's « Nombre de RDV/visites » (``appointments_obtained``).
    appointments_obtained: int = 0
    sector_names: dict[str, str] = field(default_factory=dict)
    commune_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # INSEE → (PC, name)

    def answering_summary(self) -> list[str]:
        c = self.calls

        def pct(x: float | None) -> str:
            return "–" if x is None else f"{x * 100:.1f} %".replace(".", ",")

        return [
            f"Appels présentés : {c.offered} ; décrochés : {c.answered} ({pct(c.answered_rate)}) ;"
            f" abandonnés : {c.abandoned}",
            f"Décrochés en moins de 30 s : {pct(c.within_30s_rate)} ; en moins d'une minute : "
            f"{pct(c.within_60s_rate)}",
            f"Repères nationaux 2022 : {pct(NATIONAL_2022['answered'])} décrochés, "
            f"{pct(NATIONAL_2022['within_60s'])} en moins d'une minute ; objectif "
            f"{pct(self.target)}",
            f"Attente avant décroché : médiane {_s(c.wait_p50)}, 90e centile {_s(c.wait_p90)}, "
            f"99e centile {_s(c.wait_p99)}",
        ]

    def tables(self) -> list[Table]:
        return [
            self._monthly(),
            self._communes(),
            self._calls(),
            self._dossiers(),
            self._territories(),
            self._tasks(),
            self._professions(),
            self._slots(),
            self._registration(),
            self._regional(),
            *self._agenda(),
        ]

    def _registration(self) -> Table:
        rows = [
            [r.department, r.registered, r.installed, _p(r.rate)]
            + [r.by_mode.get(str(m), 0) for m in MODES]
            for r in self.registration
        ]
        return Table(
            "Médecins inscrits au SAS par département",
            [
                "Département",
                "Médecins inscrits",
                "Médecins installés",
                "Taux d'inscription",
                "Participant SAS individuel",
                "Participant SAS via MSP",
                "Participant SAS via CPTS",
                "Participant SAS via SOS Médecins",
                "Participant SAS via centre de santé",
            ],
            rows,
            note="Annuaire à la date du rapport : médecins généralistes (médecine générale, "
            "SM54) actifs exerçant dans le département ; inscrits = participants SAS.",
        )

    def _regional(self) -> Table:
        """Seed 001's regional comparison, for this room and month."""
        d = self.dossiers
        registered = sum(r.registered for r in self.registration)
        installed = sum(r.installed for r in self.registration)
        split = (
            f"{round(d.mg_share * 100)}/{round(d.amu_share * 100)}"
            if d.mg_share is not None and d.amu_share is not None
            else ""
        )
        return Table(
            "Comparaison régionale",
            [
                "",
                "Répartition DRM MG/AMU",
                "Taux d'inscription sur la plateforme SAS",
                "Taux de transformation des DRM MG en orientation ville",
                "Nombre de RDV/visites",
            ],
            [
                [
                    self.period.label,
                    split,
                    _p(registered / installed if installed else None),
                    _p(d.transformation_rate),
                    self.appointments_obtained,
                ]
            ],
            note="DRM : dossiers de régulation médicale ouverts dans le mois (MG : filière "
            "SNP, AMU : aide médicale urgente). Transformation : DRM MG orientés vers une "
            "consultation en ville. Inscription : annuaire à la date du rapport. RDV/visites "
            ": recherches OSNP terminées par un RDV, et RDV signalés par les agendas (non "
            "annulés) qu'aucune de ces recherches ne compte déjà.",
        )

    def _agenda(self) -> list[Table]:
        a = self.agenda
        note = (
            "RDV signalés par les agendas (éditeurs, plateforme nationale), comptés le jour "
            "de la consultation, dans la commune du cabinet qui reçoit et sa CPTS ; issue "
            "telle que l'agenda l'a signalée en dernier."
        )

        def total(rows: list[list[Any]], lead: int) -> list[list[Any]]:
            if not rows:
                return rows
            return [*rows, ["Total", *[""] * (lead - 1), *a.month.row()]]

        def emphasis(rows: list[list[Any]]) -> list[str]:
            return [""] * (len(rows) - 1) + ["month"] if rows else []

        def where(insee: str) -> tuple[str, str]:
            return self.commune_names.get(insee, ("", insee or "Commune non renseignée"))

        by_eff = sorted(
            a.by_effecteur.items(),
            key=lambda kv: (self.effecteur_names.get(kv[0] or 0, ""), kv[0] or 0),
        )
        eff_rows = total(
            [
                [
                    self.effecteur_names.get(eff or 0, "Effecteur inconnu de l'annuaire"),
                    *where(a.places[eff][0]),
                    self.sector_names.get(a.places[eff][1], a.places[eff][1]),
                    *c.row(),
                ]
                for eff, c in by_eff
            ],
            4,
        )
        sector_rows = total(
            [[self.sector_names.get(k, k), *c.row()] for k, c in a.by_sector.items()], 1
        )
        day_rows = total([[day_label(day), *c.row()] for day, c in sorted(a.by_day.items())], 1)
        return [
            Table(
                "RDV SAS par effecteur",
                ["Effecteur", "Code postal", "Commune", "CPTS", *AGENDA_LABELS],
                eff_rows,
                emphasis=emphasis(eff_rows),
                note=note,
            ),
            Table(
                "RDV SAS par CPTS",
                ["CPTS", *AGENDA_LABELS],
                sector_rows,
                emphasis=emphasis(sector_rows),
                note=note,
            ),
            Table(
                "RDV SAS par jour",
                ["Jour", *AGENDA_LABELS],
                day_rows,
                emphasis=emphasis(day_rows),
                note=note,
            ),
        ]

    def _monthly(self) -> Table:
        cols = self.monthly.columns
        return Table(
            f"Activité OSNP – {self.period.label}",
            [c.label for c in cols],
            [[r.label] + [r.values[c.key] for c in cols] for r in self.monthly.rows],
            groups=[c.group for c in cols],
            emphasis=["" if r.kind == "day" else r.kind for r in self.monthly.rows],
            note="Créneaux dispo : places publiées (annuaire) ; RDV : créneau publié ou "
            "hors disponibilité, dans le territoire du médecin qui reçoit.",
        )

    def _communes(self) -> Table:
        rows = [
            [r.postal_codes, r.name, r.decisions, r.appointments, r.noshow, r.cancelled]
            for r in self.communes
        ]
        rows.append(
            [
                "",
                "Total",
                sum(r.decisions for r in self.communes),
                sum(r.appointments for r in self.communes),
                sum(r.noshow for r in self.communes),
                sum(r.cancelled for r in self.communes),
            ]
        )
        return Table(
            "Orientations et RDV par commune",
            [
                "Code postal",
                "Commune",
                "Décisions d'orientation vers RDV SAS",
                "RDV SAS réalisés",
                "Patients non venus",
                "RDV annulés",
            ],
            rows,
            emphasis=[""] * (len(rows) - 1) + ["month"],
            note="Décisions : commune du patient ; RDV : commune du cabinet qui reçoit. "
            "Quand l'agenda a signalé l'issue du RDV, elle fait foi : réalisé (patient "
            "venu), non venu ou annulé ; sinon le RDV obtenu par l'OSNP compte réalisé.",
        )

    def _calls(self) -> Table:
        def line(label: str, c: CallStats) -> list[Any]:
            return [
                label,
                c.offered,
                c.answered,
                c.abandoned,
                _p(c.answered_rate),
                _p(c.within_30s_rate),
                _p(c.within_60s_rate),
                c.wait_p50,
                c.wait_p90,
            ]

        rows = [line("Mois", self.calls)]
        rows += [
            line(f"Ligne {Line(k).label if k in set(Line) else k}", v)
            for k, v in self.calls_by_line.items()
        ]
        rows += [line(f"Semaine du {w:%d/%m}", v) for w, v in self.calls_by_week.items()]
        rows += [
            line(name if name == NO_DOSSIER else f"Territoire {name}", v)
            for name, v in self.calls_by_sector.items()
        ]
        rows += [line(f"{h:02d} h", v) for h, v in sorted(self.calls_by_hour.items())]
        return Table(
            "Décroché",
            [
                "",
                "Présentés",
                "Décrochés",
                "Abandonnés",
                "% décrochés",
                "% < 30 s",
                "% < 60 s",
                "Attente médiane (s)",
                "Attente p90 (s)",
            ],
            rows,
            emphasis=["month"] + [""] * (len(rows) - 1),
        )

    def _dossiers(self) -> Table:
        d = self.dossiers
        rows: list[list[Any]] = [["Dossiers (DRM)", d.total]]
        rows += [
            ["Sans filière (P3, non qualifié)" if k == "sans filière" else f"Filière {k}", v]
            for k, v in d.by_track.items()
        ]
        rows += [
            ["Non qualifié" if k == "non qualifié" else f"Priorité {k}", v]
            for k, v in d.by_priority.items()
        ]
        rows += [
            ["Répartition MG / AMU", f"{_p(d.mg_share)} / {_p(d.amu_share)}"],
            ["Dossiers changés de filière", d.moved],
            ["SNP orientés vers une consultation", d.snp_oriented_consultation],
            ["Taux de transformation", _p(d.transformation_rate)],
        ]
        return Table("Dossiers de régulation", ["", "Valeur"], rows)

    def _territories(self) -> Table:
        rows = [
            [
                name,
                d.total,
                d.by_track.get("SNP", 0),
                d.by_track.get("AMU", 0),
                _p(d.mg_share),
                d.snp_oriented_consultation,
                _p(d.transformation_rate),
                self.no_shows_by_sector.get(name, 0),
            ]
            for name, d in self.dossiers_by_sector.items()
        ]
        return Table(
            "Dossiers par territoire",
            [
                "Territoire",
                "Dossiers",
                "SNP (MG)",
                "AMU",
                "Part MG",
                "SNP orientés consultation",
                "Taux de transformation",
                "Patients non venus",
            ],
            rows,
            note="Territoire de la commune du patient ; « Hors territoire » : commune "
            "hors du territoire servi ou non renseignée.",
        )

    def _tasks(self) -> Table:
        t = self.tasks
        rows: list[list[Any]] = [
            ["Recherches confiées à l'OSNP", t.created],
            ["Recherches terminées", t.closed],
            ["Annulées (changement de filière)", t.cancelled],
        ]
        rows += [[TaskOutcome(k).label, v] for k, v in t.by_outcome.items()]
        reasons = {str(r): r.label for r in NoSolutionReason}
        rows += [
            [f"Sans solution : {reasons.get(k, k)}", v] for k, v in t.no_solution_reasons.items()
        ]
        rows += [
            ["Délai d'obtention du RDV, médiane (h)", t.to_appointment_p50_hours],
            ["Délai d'obtention du RDV, 90e centile (h)", t.to_appointment_p90_hours],
            ["Délai jusqu'à la consultation, médiane (h)", t.to_consultation_p50_hours],
            ["Consultations dans les 48 h", t.consultation_within_48h],
            ["Terminées après le délai de 48 h", t.closed_after_deadline],
        ]
        a = self.appointments
        rows += [
            ["RDV honorés (suivi du rappel)", a.honoured],
            ["Patients non venus", a.no_show],
            ["RDV annulés après coup", a.cancelled],
            ["Taux de non-venue (non venus / RDV passés)", _p(a.no_show_rate)],
        ]
        over = [w for w in self.snp_weeks if w["over_cap"]]
        rows.append([f"Semaines médecin au-delà de {self.weekly_cap} patients SNP", len(over)])
        return Table("Recherche de RDV (OSNP)", ["", "Valeur"], rows)

    def _professions(self) -> Table:
        rows: list[list[Any]] = [
            [p.label, p.decisions, p.appointments, p.honoured, p.no_show]
            for p in self.by_profession.values()
        ]
        rows.append(["Total", *(sum(r[i] for r in rows) for i in range(1, 5))])
        return Table(
            "Orientations et RDV par profession",
            [
                "Profession / spécialité demandée",
                "Orientations vers une consultation",
                "RDV obtenus",
                "RDV honorés",
                "Patients non venus",
            ],
            rows,
            emphasis=[""] * (len(rows) - 1) + ["month"],
            note="Profession ou spécialité que le régulateur a demandée dans sa décision "
            "(nomenclatures TRE-G15 et TRE-R38) ; avant sa saisie : médecine générale.",
        )

    def _slots(self) -> Table:
        rows = [
            [name, pub, used, _p(used / pub if pub else None)]
            for name, (pub, used) in self.slots.items()
        ]
        return Table(
            "Créneaux publiés et utilisés",
            ["Territoire", "Places publiées", "Places réservées", "Taux d'utilisation"],
            rows,
        )


#: The answering row of calls that have no dossier (abandoned, or still ringing).
NO_DOSSIER = "Appels sans dossier (abandonnés)"


def _p(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.1f} %".replace(".", ",")


def _s(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f} s"


def build_report(
    session: Session,
    period: Period,
    *,
    now: datetime | None = None,
    target: float = TARGET_ANSWERED,
    weekly_cap: int = WEEKLY_SNP_CAP,
    sector_names: dict[str, str] | None = None,
) -> Report:
    """``sector_names``: the room's territory file's (default: the demo territory's).

    The events still queued are folded first, in a transaction of their own (the facts
    are read on connections of their own, ``load_facts``): the report counts everything
    committed before it was asked for (app.stats.projection)."""
    with engine_of(session).begin() as conn:
        catch_up(conn)
    with gc_paused():
        return _build_report(session, period, now, target, weekly_cap, sector_names)


def _build_report(
    session: Session,
    period: Period,
    now: datetime | None,
    target: float,
    weekly_cap: int,
    sector_names: dict[str, str] | None,
) -> Report:
    t: Territory = load_territory(session, sector_names)
    # Bookings, call-back and agenda appointments as facts (few); the searches counted.
    facts: Facts = load_facts(session, period, searches_only=True, searches=False)
    places = published_places(session, t, period.start, period.end, booked_slots(period))
    agenda = agenda_stats(facts.agenda.values(), period, t)
    conn = session.connection()
    searches = search_counts(conn, period, t, facts.standing_bookings(), agenda.fates_of_dossier)
    monthly = monthly_table(
        session, period, facts=facts, territory=t, places=places, searches=searches.cells
    )
    communes = commune_table(
        session,
        period,
        facts=facts,
        territory=t,
        agenda=agenda,
        counted=(searches.decisions, searches.seen),
    )
    # numpy comes with the first report, not with every hub start (test_hubstart).
    from app.stats.aggregates import call_groups, dossier_counts

    dossiers = dossier_counts(conn, period)
    calls = call_groups(conn, period, lambda c: NO_DOSSIER if c is None else t.sector_of(c))
    sector_order, call_sectors = _sector_orders(t, dossiers.communes(), calls.by_sector)
    appointments = [a for a in facts.appointments.values() if period.contains(a.status_at)]
    no_shows = _no_shows(appointments, facts, t)
    slots = _slot_use(places, facts, t)

    def in_sector(code: str) -> DossierStats:
        return dossiers.stats(lambda commune: t.sector_of(commune) == code)

    return Report(
        period=period,
        generated_at=now or utcnow(),
        monthly=monthly,
        communes=communes,
        calls=calls.month,
        calls_by_line=calls.by_line,
        calls_by_hour=calls.by_hour,
        calls_by_day=calls.by_day,
        calls_by_week=calls.by_week,
        dossiers_by_sector={t.sector_name(code): in_sector(code) for code in sector_order},
        calls_by_sector={
            (t.sector_name(code) if code != NO_DOSSIER else code): calls.by_sector[code]
            for code in call_sectors
        },
        dossiers=dossiers.stats(),
        tasks=searches.tasks,
        appointments=appointment_stats(appointments),
        no_shows_by_sector=dict(no_shows),
        slots=slots,
        snp_weeks=snp_visits_per_week(facts, weekly_cap),
        by_profession=profession_stats(facts, period, dossiers.decisions, searches.wanted),
        target=target,
        weekly_cap=weekly_cap,
        registration=registration_rates(session),
        agenda=agenda,
        effecteur_names=_effecteur_names(session, agenda.by_effecteur),
        appointments_obtained=appointments_obtained(
            facts, period, agenda, (searches.obtained, searches.searched)
        ),
        sector_names=dict(t.sectors),
        commune_names={i: (p.postal_codes, p.name) for i, p in t.communes.items()},
    )


def _sector_orders(
    t: Territory, communes: Iterable[str], by_sector: Mapping[str, object]
) -> tuple[list[str], list[str]]:
    """The sectors in the territory's order, then those only the dossiers name; the calls'
    sectors in that order, then the others, the calls without a dossier last."""
    found = {t.sector_of(c) for c in communes}
    sector_order = [code for code, _ in t.sectors] + sorted(found - {c for c, _ in t.sectors})
    call_sectors = (
        [c for c in sector_order if c in by_sector]
        + sorted(set(by_sector) - set(sector_order) - {NO_DOSSIER})
        + [NO_DOSSIER] * (NO_DOSSIER in by_sector)
    )
    return sector_order, call_sectors


def _no_shows(appointments: Iterable[AppointmentFact], facts: Facts, t: Territory) -> Counter[str]:
    """Patients who did not come, by the sector (its name) of their dossier's commune."""
    no_shows: Counter[str] = Counter()
    for a in appointments:
        if a.status == "NO_SHOW":
            d = facts.dossiers.get(a.dossier_id or 0)
            no_shows[t.sector_name(t.sector_of(d.commune if d else ""))] += 1
    return no_shows


def _slot_use(places: Places, facts: Facts, t: Territory) -> dict[str, tuple[int, int]]:
    """Per sector (its name): the places published and those booked and still standing."""
    published = places.by_sector()
    used: Counter[str] = Counter(
        places.slot_sector[b.slot_id]
        for b in facts.bookings.values()
        if b.released_at is None and b.slot_id in places.slot_sector
    )
    names = [code for code, _ in t.sectors] + sorted(set(published) - {c for c, _ in t.sectors})
    return {t.sector_name(code): (published[code], used[code]) for code in names}


def _effecteur_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows = session.execute(
        select(Effecteur.id, Effecteur.first_name, Effecteur.last_name).where(
            Effecteur.id.in_(wanted)
        )
    )
    return {i: f"Dr {first} {last}".replace("  ", " ").strip() for i, first, last in rows}
