"""What every import shares: the report, decoding spreadsheets' CSV, one transaction."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.directory.protocol import ImportReportView
from app.directory.query import fold
from app.directory.vocab import PARIS

PROGRESS_EVERY = 500


class ImportAborted(Exception):
    """The file as a whole cannot be imported: nothing is changed."""


@dataclass
class ImportReport:
    kind: str
    source: str
    accepted: int = 0
    created: int = 0
    updated: int = 0
    #: Practitioners a previous national file brought and this one no longer holds.
    deactivated: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    #: What the file holds and was deliberately not imported (past or beyond the
    #: horizon, cancelled…): nothing leaves a file without a line here.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    aborted: str = ""  # why nothing was imported
    encoding: str = ""
    #: Called as progress(done, total) every PROGRESS_EVERY rows and at the end: the
    #: desk's progress bar (from a worker thread: cross into Qt with a signal).
    progress: Callable[[int, int], None] | None = field(default=None, repr=False)
    total: int = 0
    done: int = 0

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        if self.progress:
            self.progress(0, total)

    def step(self) -> None:
        self.done += 1
        if self.progress and (self.done % PROGRESS_EVERY == 0 or self.done == self.total):
            self.progress(self.done, self.total)

    def advance(self, done: int) -> None:
        """Progress measured in something else than rows (bytes of a streamed file)."""
        self.done = done
        if self.progress:
            self.progress(done, self.total)

    def reject(self, where: str, why: str) -> None:
        self.rejected.append((where, why))

    @property
    def committed(self) -> bool:
        return not self.aborted

    def to_dict(self) -> ImportReportView:
        return {
            "kind": self.kind,
            "source": self.source,
            "accepted": self.accepted,
            "created": self.created,
            "updated": self.updated,
            "deactivated": self.deactivated,
            "rejected": [{"where": w, "why": y} for w, y in self.rejected],
            "warnings": [{"where": w, "why": y} for w, y in self.warnings],
            "skipped": [{"where": w, "why": y} for w, y in self.skipped],
            "aborted": self.aborted,
            "encoding": self.encoding,
            "committed": self.committed,
        }

    def summary(self) -> str:
        if self.aborted:
            return f"import annulé, rien n'a été modifié : {self.aborted}"
        return (
            f"{self.accepted} ligne(s) acceptée(s) ({self.created} créée(s), "
            f"{self.updated} mise(s) à jour), {len(self.rejected)} rejetée(s)"
            + (f", {self.deactivated} désactivé(s)" if self.deactivated else "")
            + (f", {len(self.skipped)} non importée(s)" if self.skipped else "")
        )


def run_import(
    sessions: sessionmaker[Session],
    report: ImportReport,
    work: Callable[[Session, ImportReport], None],
    *,
    strict: bool = False,
) -> ImportReport:
    """Run ``work`` in one transaction: all of it is kept, or nothing.

    A structural problem (ImportAborted) or, with ``strict``, any rejected row rolls
    everything back; rows rejected otherwise are listed and the good ones kept.
    """
    try:
        with sessions.begin() as s:
            work(s, report)
            if strict and report.rejected:
                raise ImportAborted(f"{len(report.rejected)} ligne(s) rejetée(s) en mode strict")
    except ImportAborted as exc:
        report.aborted = str(exc)
        report.accepted = report.created = report.updated = report.deactivated = 0
    return report


def decode(raw: bytes, report: ImportReport) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, the Latin-1 of French spreadsheets."""
    try:
        text = raw.decode("utf-8-sig")
        report.encoding = "utf-8"
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="strict") if _cp1252_ok(raw) else raw.decode("latin-1")
        report.encoding = "windows-1252"
        report.warnings.append(
            (
                "fichier",
                "encodage Latin-1/Windows-1252 détecté (export de tableur) : converti en UTF-8",
            )
        )
    if "\x00" in text:
        raise ImportAborted(
            "fichier binaire ou UTF-16 : enregistrez-le en CSV (UTF-8 ou Windows-1252)"
        )
    return text


def _cp1252_ok(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
        return True
    except UnicodeDecodeError:
        return False


def header_key(name: str) -> str:
    """A column name as the importers know it: folded, words joined by ``_``."""
    return re.sub(r"[\s'’.°-]+", "_", fold(name)).strip("_")


def read_csv(
    path: Path,
    report: ImportReport,
    required: tuple[str, ...],
    *,
    known: tuple[str, ...] | None = None,
    aliases: dict[str, str] | None = None,
) -> list[tuple[int, dict[str, str]]]:
    """Rows as {folded header: value} with their line numbers; ``;`` or ``,`` or tab.

    ``aliases`` maps other spellings (already folded by ``header_key``) to the
    documented column; with ``known``, a column that is neither is reported, never
    silently dropped.
    """
    text = decode(path.read_bytes(), report)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ImportAborted("fichier vide")
    header_line = lines[0]
    delimiter = max(";,\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    raw_header = next(reader)
    header: list[str] = []
    for original in raw_header:
        key = header_key(original)
        key = (aliases or {}).get(key, key)
        if not key:
            key = f"_sans_nom_{len(header)}"  # reported below if it holds anything
        elif key in header:
            report.warnings.append(
                ("en-tête", f"colonne « {original} » en double : seule la première est lue")
            )
            key = f"_double_{len(header)}"
        elif known is not None and key not in known:
            report.warnings.append(
                (
                    "en-tête",
                    f"colonne « {original} » inconnue : ignorée "
                    f"(colonnes lues : {', '.join(known)})",
                )
            )
            key = f"_inconnue_{len(header)}"
        header.append(key)
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportAborted(
            f"colonne(s) obligatoire(s) absente(s) : {', '.join(missing)} "
            f"(en-tête lu : {', '.join(raw_header)})"
        )
    rows = []
    for number, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header):
            report.reject(
                f"ligne {number}",
                f"{len(values)} champs pour {len(header)} colonnes "
                "(séparateur dans une valeur non protégée par des guillemets ?)",
            )
            continue
        rows.append(
            (
                number,
                {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header)},
            )
        )
    for key in header:
        if key.startswith("_sans_nom_") and any(row.get(key) for _, row in rows):
            position = int(key.rsplit("_", 1)[1]) + 1
            report.warnings.append(
                ("en-tête", f"colonne n° {position} sans nom mais remplie : ignorée")
            )
    return rows


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %Hh%M",
    "%d/%m/%Y %H:%M:%S",
)


def parse_datetime(text: str) -> datetime:
    """ISO 8601 (offset kept) or French "23/11/2026 14:30"; no offset means Paris time."""
    value = text.strip()
    try:
        parsed: datetime | None = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        raise ValueError(f"date/heure illisible « {text} »")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PARIS)
    return parsed.astimezone(UTC)
