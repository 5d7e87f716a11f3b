"""The per-commune table (seed 004): orientation decisions and appointments.

"Décisions d'orientation vers RDV SAS" are counted in the patient's commune (the
dossier's), on the day the regulating doctor oriented to a consultation; "RDV SAS
réalisés" in the commune where the patient is seen (the booked doctor's practice;
the patient's commune when the appointment was found outside the directory, with
the treating doctor or a colleague of the practice). Where an agenda reported the
appointment's fate (``app.stats.agenda``), that fate decides: the patient came
(fulfilled, on the consultation's day) or not (no-show, cancelled: counted in their
own columns, not as réalisés); a search whose dossier's appointment the agendas
reported is not counted a second time. Places outside the territory
served are grouped by department, as the SAS 92 table groups Paris and its
neighbours.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.stats.agenda import AgendaStats
from app.stats.calendar import Period
from app.stats.facts import Facts, load_facts
from app.stats.territory import Territory, load_territory


@dataclass
class CommuneRow:
    key: str  # INSEE code, or "dep:75" outside the territory
    postal_codes: str
    name: str
    sector: str
    decisions: int
    appointments: int
    noshow: int = 0  # reported by an agenda
    cancelled: int = 0


def _seen_at(facts: Facts, dossier_id: int) -> str:
    booking = facts.booking_of_dossier(dossier_id)
    if booking is not None:
        return f"eff:{booking.effecteur_id}:{booking.slot_id or ''}"
    d = facts.dossiers.get(dossier_id)
    return d.commune if d else ""


def commune_table(
    session: Session,
    period: Period,
    *,
    facts: Facts | None = None,
    territory: Territory | None = None,
    agenda: AgendaStats | None = None,
    counted: tuple[Counter[str], Counter[str]] | None = None,
) -> list[CommuneRow]:
    """``counted``: the searches' decisions and appointments seen per place, already
    counted (``app.stats.searches``), instead of the facts'."""
    t = territory or load_territory(session)
    reported = agenda.fates_of_dossier if agenda is not None else {}
    decisions: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    noshow: Counter[str] = Counter()
    cancelled: Counter[str] = Counter()
    if agenda is not None:
        for insee, counts in agenda.by_commune.items():
            seen[insee] += counts.fulfilled
            noshow[insee] += counts.noshow
            cancelled[insee] += counts.cancelled
    if counted is not None:
        decisions.update(counted[0])
        seen.update(counted[1])
    else:
        _count_tasks(facts or load_facts(session, period), t, period, reported, decisions, seen)
    return _rows(t, decisions, seen, noshow, cancelled)


def _count_tasks(
    facts: Facts,
    t: Territory,
    period: Period,
    reported: Container[int],
    decisions: Counter[str],
    seen: Counter[str],
) -> None:
    for task in facts.tasks.values():
        d = facts.dossiers.get(task.dossier_id)
        if task.created_at is not None and period.contains(task.created_at):
            decisions[d.commune if d else ""] += 1
        if (
            not task.cancelled
            and task.closed_at is not None
            and period.contains(task.closed_at)
            and task.outcome
            and task.outcome != "SANS_SOLUTION"
            and task.dossier_id not in reported
        ):
            where = _seen_at(facts, task.dossier_id)
            if where.startswith("eff:"):
                _, eff, slot = where.split(":")
                where = t.effecteur_place(int(eff), int(slot) if slot else None)
            seen[where] += 1


def _rows(
    t: Territory,
    decisions: Counter[str],
    seen: Counter[str],
    noshow: Counter[str],
    cancelled: Counter[str],
) -> list[CommuneRow]:
    rows = [
        CommuneRow(
            p.insee,
            p.postal_codes,
            p.name,
            p.sector,
            decisions.pop(p.insee, 0),
            seen.pop(p.insee, 0),
            noshow.pop(p.insee, 0),
            cancelled.pop(p.insee, 0),
        )
        for p in sorted(t.communes.values(), key=lambda p: (p.name, p.insee))
    ]
    outside: dict[str, list[int]] = {}
    for index, counter in enumerate((decisions, seen, noshow, cancelled)):
        for insee, n in counter.items():
            if not n:
                continue
            key = f"dep:{insee[:2]}" if insee else "inconnue"
            outside.setdefault(key, [0, 0, 0, 0])[index] += n
    for key, (dec, app, missed, gone) in sorted(outside.items()):
        name = (
            f"Hors territoire – département {key[4:]}"
            if key.startswith("dep:")
            else "Commune non renseignée"
        )
        rows.append(CommuneRow(key, "", name, "", dec, app, missed, gone))
    return rows
