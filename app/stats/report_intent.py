"""``stats.report``: the month's tables for the supervisor's desk (read-only intent)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from app.config.settings import TargetSettings
from app.domain.permissions import Action, require, roles_for
from app.domain.rules import FlowError
from app.hub.extensions import Extension, Handler, install_one
from app.hub.protocol import Intent
from app.hub.service import HubService, Unit
from app.stats.calendar import Period
from app.stats.protocol import Cell, ReportReply, ReportTable, StatsReport
from app.stats.registration import summary_lines
from app.stats.report import Table, build_report
from app.stats.territory import sector_names

READERS = roles_for(Action.READ_STATISTICS)


def _cell(value: object) -> Cell:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, int | float | str | bool):
        return value
    return str(value)


def table_view(table: Table) -> ReportTable:
    columns = list(table.columns)
    groups = list(table.groups) if table.groups else None
    if table.rows and len(table.rows[0]) == len(columns) + 1:
        # Rows open with their label (the day, the week): give it a column of its own.
        columns = ["Jour", *columns]
        groups = ["", *groups] if groups else None
    return {
        "title": table.title,
        "columns": columns,
        "rows": [[_cell(c) for c in row] for row in table.rows],
        "groups": groups,
        "emphasis": list(table.emphasis),
        "note": table.note,
    }


def stats_report(
    u: Unit,
    i: StatsReport,
    targets: TargetSettings | None = None,
    sectors: dict[str, str] | None = None,
) -> ReportReply:
    assert u.actor is not None
    require(u.actor.role, Action.READ_STATISTICS)
    try:
        period = Period.parse_month(i.month)
    except ValueError as exc:
        raise FlowError("invalid_message", str(exc)) from None
    targets = targets or TargetSettings()
    report = build_report(
        u.s,
        period,
        now=u.now,
        target=targets.answered,
        weekly_cap=targets.weekly_snp_cap,
        sector_names=sectors,
    )
    return {
        "report": {
            "month": i.month,
            "summary": report.answering_summary() + summary_lines(report.registration),
            "tables": [table_view(t) for t in report.tables()],
        }
    }


class ReportExtension(Extension):
    """The monthly report, asked from a desk."""

    name = "app.stats.report"
    protocol: tuple[type[Intent], ...] = (StatsReport,)

    def __init__(self, service: HubService):
        self.targets = service.settings.targets
        territory = service.settings.territory.file
        self.sectors = sector_names(territory) if territory is not None else None

    def handlers(self) -> Mapping[type[Intent], Handler]:
        return {StatsReport: self.report}

    def report(self, u: Unit, i: StatsReport) -> ReportReply:
        return stats_report(u, i, self.targets, self.sectors)


def install(service: HubService) -> ReportExtension:
    """The report on a bare service (tools and tests)."""
    return install_one(service, ReportExtension(service))
