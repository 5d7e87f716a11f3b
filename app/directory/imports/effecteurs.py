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
from typing import Any

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
from app.geo import Commune, CommuneIndex, default_index

REQUIRED = ("rpps", "nom")
#: The documented columns (docs/directory.md), in the order the report lists them.
COLUMNS = (
    "rpps", "nom", "prenom", "profession", "specialite", "tel_direct", "tel_secretariat",
    "cabinet", "adresse", "commune_insee", "code_postal", "commune", "participant_sas",
    "hors_dispo", "mode", "logiciel", "niveau_agenda", "competences", "conditions",
    "structure", "disponibilites",
)  # fmt: skip
#: Other spellings found in the field's spreadsheets (folded by ``header_key``).
ALIASES = {
    "n_rpps": "rpps", "no_rpps": "rpps", "numero_rpps": "rpps", "rpps_id": "rpps",
    "id_rpps": "rpps", "nom_de_famille": "nom", "nom_usuel": "nom",
    "prenoms": "prenom", "specialites": "specialite", "specialty": "specialite",
    "telephone": "tel_direct", "tel": "tel_direct", "portable": "tel_direct",
    "mobile": "tel_direct", "tel_portable": "tel_direct", "telephone_direct": "tel_direct",
    "telephone_portable": "tel_direct", "ligne_directe": "tel_direct",
    "secretariat": "tel_secretariat", "tel_secretariat": "tel_secretariat",
    "telephone_secretariat": "tel_secretariat", "tel_secretaire": "tel_secretariat",
    "telephone_cabinet": "tel_secretariat", "tel_cabinet": "tel_secretariat",
    "nom_du_cabinet": "cabinet", "lieu_d_exercice": "cabinet", "adresse_du_cabinet": "adresse",
    "adresse_cabinet": "adresse", "insee": "commune_insee", "code_insee": "commune_insee",
    "code_commune": "commune_insee", "cp": "code_postal", "codepostal": "code_postal",
    "code_postal_cabinet": "code_postal", "ville": "commune", "localite": "commune",
    "participant": "participant_sas", "sas": "participant_sas",
    "participation_sas": "participant_sas", "hors_disponibilite": "hors_dispo",
    "hors_disponibilites": "hors_dispo", "logiciel_agenda": "logiciel",
    "logiciel_d_agenda": "logiciel", "agenda": "logiciel", "niveau": "niveau_agenda",
    "competence": "competences", "competences_particulieres": "competences",
    "disponibilite": "disponibilites", "dispo": "disponibilites",
    "dispos": "disponibilites", "horaires": "disponibilites",
    "creneaux": "disponibilites", "cpts": "structure", "structure_d_exercice": "structure",
}  # fmt: skip
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


#: "14h / 16h" is a time range, not two availabilities: "/" between two times.
_TIME_SLASH_TIME = re.compile(r"(\d{1,2}\s*[hH:]\s*(?:\d{2})?)\s*/\s*(?=\d{1,2}\s*[hH:])")


def split_availability(text: str) -> list[str]:
    """The availabilities of a cell: several are separated by `` / `` or line breaks;
    a "/" between two times ("14h/16h", "14h / 16h") is a range."""
    text = _TIME_SLASH_TIME.sub(r"\1-", text)
    return [x.strip() for x in re.split(r"\s+/\s+|\n", text) if x.strip()]


def _by_postal_code(geo: CommuneIndex, postal_code: str, name: str) -> Commune | None:
    """The commune of a postal code: the one named, or the only one; never a guess."""
    code = re.sub(r"\s", "", postal_code)
    options = geo.by_postal_code(code)
    if not options:
        raise RowError(f"code postal « {postal_code} » inconnu")
    if name:
        named = [c for c in options if fold(c.name) == fold(name)]
        if len(named) == 1:
            return named[0]
        if not named:
            raise RowError(
                f"commune « {name} » absente du code postal {code} "
                f"(communes de ce code : {_names(options)})"
            )
    if len(options) == 1:
        return options[0]
    raise RowError(
        f"code postal {code} partagé par {len(options)} communes, aucune nommée : "
        f"précisez la colonne commune ou commune_insee ({_names(options)})"
    )


def _names(communes: list[Commune]) -> str:
    return ", ".join(f"{c.name} ({c.insee})" for c in sorted(communes, key=lambda c: c.name))


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
        rows = read_csv(path, r, REQUIRED, known=COLUMNS, aliases=ALIASES)
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
                rpps, commune, level, fields = _row(row, where, r, geo, structures, seen, rev)
            except RowError as exc:
                r.reject(where, str(exc))
                continue
            seen[rpps] = number
            availability = split_availability(row.get("disponibilites", ""))
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
            _place(e, row, commune, level)
            s.flush()
            if e.id in previous:
                _replace_text_rules(s, e, now, rev)
            parsed = parse_availability(availability)
            save_rules(s, e, parsed.rules, rev)
            for line, why in parsed.unreadable:
                r.warnings.append((where, f"disponibilité non lue « {line} » : {why}"))
            r.accepted += 1
        s.flush()
        materialise_recurring(s, now)

    return run_import(sessions, report, work, strict=strict)


def _row(
    row: dict[str, str],
    where: str,
    r: ImportReport,
    geo: CommuneIndex,
    structures: dict[str, Structure],
    seen: dict[str, int],
    rev: int,
) -> tuple[str, Commune, AgendaLevel, dict[str, Any]]:
    """A line checked: its RPPS, commune, agenda level and the effecteur's fields
    (RowError says what is wrong; an unknown structure is a warning)."""
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
        commune = _by_postal_code(geo, row["code_postal"], row.get("commune", ""))
    if commune is None:
        raise RowError("commune introuvable (commune_insee ou code_postal + commune)")
    level = _LEVELS.get(fold(row.get("niveau_agenda", "")).replace("_", " "))
    level = level or _LEVELS.get(fold(row.get("niveau_agenda", "")))
    if level is None:
        raise RowError(
            f"niveau_agenda « {row['niveau_agenda']} » : aucun, visibilite ou bout_en_bout"
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
                    f"structure « {row['structure']} » inconnue de l'annuaire : non rattachée",
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
        skills=[x.strip() for x in re.split(r"[|,/]", row.get("competences", "")) if x.strip()],
        conditions=row.get("conditions", ""),
        structure_id=structure.id if structure else None,
        rev=rev,
    )
    return rpps, commune, level, fields


def _place(e: Effecteur, row: dict[str, str], commune: Commune, level: AgendaLevel) -> None:
    """The line's practice: the effecteur's first one, updated, or a new one."""
    place = dict(
        name=row.get("cabinet", ""),
        address=row.get("adresse", ""),
        commune_insee=commune.insee,
        commune_name=commune.name,
        postal_code=row.get("code_postal") or commune.postal_code,
        lat=commune.lat,
        lon=commune.lon,
        # The line's agenda is the one connected at this place.
        agenda_software=row.get("logiciel", ""),
        agenda_level=str(level),
    )
    if e.practices:
        for k, v in place.items():
            setattr(e.practices[0], k, v)
    else:
        e.practices.append(Practice(**place))


def _replace_text_rules(s: Session, e: Effecteur, now: datetime, rev: int) -> None:
    """A known effecteur's new weekly rules replace the old ones, and so do the free
    slots made from them."""
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
    s.execute(delete(RecurringAvailability).where(RecurringAvailability.effecteur_id == e.id))
