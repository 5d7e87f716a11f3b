"""The OSNP's monthly table (seed 003), computed from events, never typed.

Per day (Paris time) and per sector of the patient's commune: OSNP tasks, calls
made, appointments and where they came from: RDV MT, RDV confrère du cabinet,
plateforme SAS (published slot), hors disponibilité, and tasks without solution.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.callback.protocol import OsnpTable
from app.db.models import Commune, Dossier, Event
from app.directory.vocab import PARIS
from app.domain.enums import TaskOutcome
from app.hub.events import EventName

COLUMNS = (
    "dossiers_osnp",
    "appels",
    "rdv",
    "rdv_mt",
    "rdv_confrere",
    "rdv_plateforme",
    "rdv_hors_dispo",
    "sans_solution",
)
_OF_OUTCOME = {
    TaskOutcome.RDV_MT: "rdv_mt",
    TaskOutcome.RDV_CONFRERE: "rdv_confrere",
    TaskOutcome.RDV_CRENEAU: "rdv_plateforme",
    TaskOutcome.RDV_HORS_DISPO: "rdv_hors_dispo",
    TaskOutcome.SANS_SOLUTION: "sans_solution",
}


def osnp_table(session: Session, start: datetime, end: datetime) -> OsnpTable:
    """Counts per day and sector over [start, end), with totals."""
    rows = session.execute(
        select(Event.at, Event.type, Event.data, Dossier.commune_insee)
        .join(Dossier, Dossier.id == Event.dossier_id, isouter=True)
        .where(
            Event.at >= start,
            Event.at < end,
            Event.type.in_(
                (EventName.TASK_CREATED, EventName.TASK_CLOSED, EventName.CALLBACK_ATTEMPT)
            ),
        )
        .order_by(Event.seq)
    ).all()
    sectors = {c.insee: c.sector for c in session.scalars(select(Commune))}
    table: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    for at, type_, data, insee in rows:
        key = (at.astimezone(PARIS).date(), sectors.get(insee or "", "") or "hors secteur")
        cell = table[key]
        if type_ == EventName.TASK_CREATED:
            cell["dossiers_osnp"] += 1
        elif type_ == EventName.CALLBACK_ATTEMPT:
            cell["appels"] += 1
        else:
            outcome = TaskOutcome(str(data.get("outcome")))
            cell[_OF_OUTCOME[outcome]] += 1
            if outcome.is_appointment:
                cell["rdv"] += 1
    totals = dict.fromkeys(COLUMNS, 0)
    for cell in table.values():
        for k, v in cell.items():
            totals[k] += v
    return {
        "columns": list(COLUMNS),
        "rows": [
            {"day": day.isoformat(), "sector": sector, **cell}
            for (day, sector), cell in sorted(table.items())
        ],
        "totals": totals,
    }
