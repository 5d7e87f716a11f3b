"""``sasdesk import effecteurs FILE.csv``: the directory of effecteurs from a spreadsheet.

Format (docs/directory.md): one doctor a line, ``;`` separated, header required.
A doctor already known by RPPS is updated; a RPPS twice in the file is rejected
the second time; free-text availabilities are read into weekly rules and the lines
that cannot be read are listed in the report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.directory.agenda import materialise_recurring, save_rules
from app.directory.freetext import parse_availability
from app.directory.imports.common import ImportReport, read_csv, run_import
from app.directory.models import (
    Effecteur,
    Practice,
    RecurringAvailability,
    Slot,
    Structure,
    bump_revision,
)
from app.directory.query import fold
from app.directory.vocab import AgendaLevel, Mode
from app.geo import default_index

REQUIRED = ("rpps", "nom")
_YES = {"oui", "o", "yes", "y", "1", "x", "vrai", "true"}
_NO = {"non", "n", "no", "0", "", "faux", "false"}
_LEVELS = {
    "aucun": AgendaLevel.NONE,
    "none": AgendaLevel.NONE,
    "non": AgendaLevel.NONE,
    "visibilite": AgendaLevel.VISIBILITY,
    "visibility": AgendaLevel.VISIBILITY,
    "bout en bout": AgendaLevel.END_TO_END,
    "bout_en_bout": AgendaLevel.END_TO_END,
    "end_to_end": AgendaLevel.END_TO_END,
    "": AgendaLevel.NONE,
}
_MODES = {fold(m.value): m for m in Mode} | {"": Mode.INDIVIDUEL, "sos": Mode.SOS_MEDECINS}
_PHONE = re.compile(r"^\+?[0-9 .()-]{6,20}$")


class RowError(ValueError):
    pass


def _bool(value: str, column: str) -> bool:
    v = fold(value)
    if v in _YES:
        return True
    if v in _NO:
        return False
    raise RowError(f"{column} : « {value} » n'est ni oui ni non")


def _phone(value: str, column: str) -> str:
    if value and not _PHONE.match(value):
        raise RowError(f"{column} : numéro de téléphone invalide « {value} »")
    return re.sub(r"[^0-9+]", "", value)


def import_effecteurs(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    strict: bool = False,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import (or update) effecteurs; their weekly availabilities become slots for 72 h."""
    report = ImportReport("effecteurs", str(path), progress=progress)
    now = now or datetime.now(UTC)

    def work(s: Session, r: ImportReport) -> None:
        rows = read_csv(path, r, REQUIRED)
        r.start(len(rows))
        rev = bump_revision(s)
        geo = default_index()
        structures = {fold(x.name): x for x in s.scalars(select(Structure))}
        known = {e.rpps: e for e in s.scalars(select(Effecteur)).unique()}
        previous = {e.id for e in known.values()}  # already in the directory
        seen: dict[str, int] = {}
        for number, row in rows:
            r.step()
            where = f"ligne {number}"
            try:
                rpps = re.sub(r"\s", "", row.get("rpps", ""))
                if not re.fullmatch(r"\d{11}", rpps):
                    raise RowError(f"RPPS « {row.get('rpps', '')} » : 11 chiffres attendus")
                if rpps in seen:
                    raise RowError(f"RPPS {rpps} en double (déjà ligne {seen[rpps]})")
                if not row.get("nom"):
                    raise RowError("nom manquant")
                insee = row.get("commune_insee", "").upper()
                commune = geo.by_insee(insee) if insee else None
                if commune is None and row.get("code_postal"):
                    options = geo.by_postal_code(row["code_postal"])
                    named = [c for c in options if fold(c.name) == fold(row.get("commune", ""))]
                    commune = (named or options)[0] if (named or options) else None
                if commune is None:
                    raise RowError("commune introuvable (commune_insee ou code_postal + commune)")
                level = _LEVELS.get(fold(row.get("niveau_agenda", "")).replace("_", " "))
                level = level or _LEVELS.get(fold(row.get("niveau_agenda", "")))
                if level is None:
                    raise RowError(
                        f"niveau_agenda « {row['niveau_agenda']} » : aucun, "
                        "visibilite ou bout_en_bout"
                    )
                mode = _MODES.get(fold(row.get("mode", "")))
                if mode is None:
                    raise RowError(f"mode « {row['mode']} » inconnu")
                structure = None
                if row.get("structure"):
                    structure = structures.get(fold(row["structure"]))
                    if structure is None:
                        r.warnings.append(
                            (
                                where,
                                f"structure « {row['structure']} » inconnue "
                                "de l'annuaire : non rattachée",
                            )
                        )
                fields = dict(
                    first_name=row.get("prenom", ""),
                    last_name=row["nom"],
                    profession=row.get("profession") or "Médecin",
                    specialty=row.get("specialite") or "Médecine générale",
                    phone_direct=_phone(row.get("tel_direct", ""), "tel_direct"),
                    phone_secretary=_phone(row.get("tel_secretariat", ""), "tel_secretariat"),
                    sas_participant=_bool(row.get("participant_sas", ""), "participant_sas"),
                    accepts_beyond_slots=_bool(row.get("hors_dispo", ""), "hors_dispo"),
                    mode=str(mode),
                    agenda_software=row.get("logiciel", ""),
                    agenda_level=str(level),
                    skills=[
                        x.strip()
                        for x in re.split(r"[|,/]", row.get("competences", ""))
                        if x.strip()
                    ],
                    conditions=row.get("conditions", ""),
                    structure_id=structure.id if structure else None,
                    rev=rev,
                )
            except RowError as exc:
                r.reject(where, str(exc))
                continue
            seen[rpps] = number
            availability = [
                x.strip()
                for x in re.split(r"\s+/\s+|\n", row.get("disponibilites", ""))
                if x.strip()
            ]
            e = known.get(rpps)
            if e is None:
                e = Effecteur(rpps=rpps, weekly_availability=availability, **fields)
                s.add(e)
                known[rpps] = e
                r.created += 1
            else:
                for k, v in fields.items():
                    setattr(e, k, v)
                e.weekly_availability = availability
                r.updated += 1
            place = dict(
                name=row.get("cabinet", ""),
                address=row.get("adresse", ""),
                commune_insee=commune.insee,
                commune_name=commune.name,
                postal_code=row.get("code_postal") or commune.postal_code,
                lat=commune.lat,
                lon=commune.lon,
            )
            if e.practices:
                for k, v in place.items():
                    setattr(e.practices[0], k, v)
            else:
                e.practices.append(Practice(**place))
            s.flush()
            if e.id in previous:
                # New weekly rules replace the old ones, and so do the free slots made
                # from them.
                s.execute(
                    update(Slot)
                    .where(
                        Slot.effecteur_id == e.id,
                        Slot.source == "text",
                        Slot.booked == 0,
                        Slot.start >= now,
                        Slot.status == "open",
                    )
                    .values(status="cancelled", rev=rev)
                )
                s.execute(
                    delete(RecurringAvailability).where(RecurringAvailability.effecteur_id == e.id)
                )
            parsed = parse_availability(availability)
            save_rules(s, e, parsed.rules, rev)
            for line, why in parsed.unreadable:
                r.warnings.append((where, f"disponibilité non lue « {line} » : {why}"))
            r.accepted += 1
        s.flush()
        materialise_recurring(s, now)

    return run_import(sessions, report, work, strict=strict)
