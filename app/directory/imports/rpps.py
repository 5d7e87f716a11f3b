"""``sasdesk import rpps FILE``: every health professional of France from the ANS file.

Rows (one per practitioner and practice place, rpps_file.py) become effecteurs and
their practice places, in one transaction, by chunks of SQL Core statements so the
national file (a million rows) neither sits in memory nor takes an hour. What the
national file owns: identity, civility, profession, savoir-faire (the specialty;
further ones are added to ``skills``), the places with their phones and SIRET /
FINESS. What the SAS knows (participation, agenda level, direct phone, conditions,
beyond-slots, slots, unavailabilities) is never written here. Effecteurs a previous
extraction brought and this one no longer holds are deactivated, never deleted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.directory.imports.common import ImportAborted, ImportReport, run_import
from app.directory.imports.effecteurs import RowError, _by_postal_code
from app.directory.imports.rpps_codes import DEFAULT_PROFESSIONS, PROFESSION_NAMES
from app.directory.imports.rpps_file import Extraction, open_extraction
from app.directory.models import Effecteur, Practice, Slot, bump_revision
from app.geo import Commune, CommuneIndex, default_index

#: The savoir-faire of general practice (spécialiste / qualifié / médecine générale):
#: the directory's own word for them, the one its search knows.
GENERAL_PRACTICE = {"SM53", "SM54", "SM26"}
GENERAL_PRACTICE_LABEL = "Médecine générale"
#: Paris, Lyon and Marseille: the file writes the arrondissement, the directory the city.
_CITY_OF_ARRONDISSEMENT = (("751", "75056"), ("6938", "69123"), ("132", "13055"))
CHUNK_ROWS = 4000
_EFF = cast(Table, Effecteur.__table__)
_PLACE = cast(Table, Practice.__table__)
_SLOT = cast(Table, Slot.__table__)
_DIGITS = re.compile(r"\D")
_FRANCE = {"", "99100", "FR", "FRA"}


@dataclass(slots=True)
class _Row:
    line: int
    pp: str
    person: dict[str, Any]
    place: dict[str, Any] | None


def _field(values: list[str], at: dict[str, int], name: str) -> str:
    i = at.get(name)
    return values[i].strip() if i is not None and i < len(values) else ""


def _commune(geo: CommuneIndex, insee: str, postal: str, name: str) -> Commune:
    if insee:
        code = insee.upper()
        for prefix, city in _CITY_OF_ARRONDISSEMENT:
            if code.startswith(prefix) and len(code) == 5 and code != city:
                code = city
        found = geo.by_insee(code)
        if found is None:
            raise RowError(f"code commune INSEE « {insee} » inconnu")
        return found
    found = _by_postal_code(geo, postal, name)
    assert found is not None
    return found


class _Import:
    def __init__(
        self,
        s: Session,
        r: ImportReport,
        ex: Extraction,
        professions: Collection[str] | None,
        now: datetime,
    ):
        self.s, self.r, self.ex, self.now = s, r, ex, now
        self.professions = professions
        self.geo = default_index()
        self.rev = bump_revision(s)
        self.ids: dict[str, int] = {}  # identifiant PP -> effecteur id, this import
        self.first_line: dict[str, int] = {}
        self.places_seen: set[str] = set()  # "pp|site"
        self.name_of: dict[str, str] = {}
        self.skipped: Counter[str] = Counter()
        self.skipped_first: dict[str, int] = {}
        self.unchanged = 0
        self.preexisting: set[int] = set()  # ids already in the directory before
        #: Professions this import read: only their absentees are deactivated (a run
        #: limited to doctors says nothing of nurses).
        self.professions_read: set[str] = set()

    # -- rows -------------------------------------------------------------------------

    def skip(self, line: int, why: str) -> None:
        self.skipped[why] += 1
        self.skipped_first.setdefault(why, line)

    def parse(self, line: int, raw: bytes) -> _Row | None:
        try:
            text = raw.decode(self.ex.encoding)
        except UnicodeDecodeError:
            self.r.reject(f"ligne {line}", f"octets illisibles en {self.ex.encoding}")
            return None
        text = text.rstrip("\r\n")
        if not text.strip():
            return None
        values = text.split("|")
        if len(values) == self.ex.width + 1 and values[-1] == "":
            values.pop()
        if len(values) != self.ex.width:
            self.r.reject(
                f"ligne {line}",
                f"{len(values)} champs pour {self.ex.width} colonnes (ligne coupée ?)",
            )
            return None
        at = self.ex.columns
        pp = _field(values, at, "pp")
        code = _field(values, at, "profession_code")
        if self.professions is not None and code not in self.professions:
            label = _field(values, at, "profession") or PROFESSION_NAMES.get(code, "?")
            self.skip(line, f"profession non importée : {label} (code {code or '?'})")
            return None
        kind = _field(values, at, "id_type")
        if kind and kind != "8" or not re.fullmatch(r"\d{11}", pp):
            if kind == "0" or re.fullmatch(r"\d{9}", pp):
                self.skip(line, "identifiant ADELI sans RPPS : non importé (l'annuaire SAS "
                          "identifie par RPPS)")  # fmt: skip
                return None
            self.r.reject(f"ligne {line}", f"Identifiant PP « {pp} » : 11 chiffres (RPPS) attendus")
            return None
        national = _field(values, at, "national_id")
        if national and national != f"8{pp}":
            self.r.reject(
                f"ligne {line}",
                f"Identification nationale PP « {national} » : « 8{pp} » attendu (8 + RPPS)",
            )
            return None
        last = _field(values, at, "last_name")
        if not last:
            self.r.reject(f"ligne {line}", f"RPPS {pp} : nom d'exercice manquant")
            return None
        first = _field(values, at, "first_name")
        who = f"{last}|{first}"
        known = self.name_of.get(pp)
        if known is not None and known != who:
            self.r.reject(
                f"ligne {line}",
                f"RPPS {pp} en double : « {first} {last} » ici, "
                f"« {known.split('|')[1]} {known.split('|')[0]} » ligne {self.first_line[pp]}",
            )
            return None
        sf_code = _field(values, at, "sf_code")
        sf = _field(values, at, "sf")
        specialty = GENERAL_PRACTICE_LABEL if sf_code in GENERAL_PRACTICE else sf
        person = {
            "first_name": first[:128],
            "last_name": last[:128],
            "civility": (_field(values, at, "civility_ex") or _field(values, at, "civility"))[:32],
            "profession": (_field(values, at, "profession") or code)[:64],
            "specialty": specialty[:128],
        }
        place = self._place(line, pp, values)
        if isinstance(place, bool):
            return None
        self.professions_read.add(person["profession"])
        self.name_of.setdefault(pp, who)
        self.first_line.setdefault(pp, line)
        return _Row(line, pp, person, place or None)

    def _place(self, line: int, pp: str, values: list[str]) -> dict[str, Any] | None | bool:
        """The practice place of a row; None: no address; False: the row is set aside."""
        at = self.ex.columns
        country = _field(values, at, "country")
        postal = _DIGITS.sub("", _field(values, at, "postal_code"))[:5]
        insee = _field(values, at, "insee")
        if country.upper() not in _FRANCE:
            self.skip(line, "lieu d'exercice hors de France : non importé")
            return False
        site = _field(values, at, "site_ref")
        street = " ".join(
            x
            for x in (
                _field(values, at, "street_no") + _field(values, at, "street_rep"),
                _field(values, at, "street_type"),
                _field(values, at, "street"),
            )
            if x
        )
        key = f"{pp}|{site or street + '|' + insee + postal}"
        if key in self.places_seen:
            self.r.reject(
                f"ligne {line}",
                f"RPPS {pp} en double : même lieu d'exercice que la ligne {self.first_line[pp]}",
            )
            return False
        if not insee and not postal:
            self.places_seen.add(key)
            self.skip(line, "lieu d'exercice sans adresse : praticien importé sans lieu")
            return None
        try:
            commune = _commune(self.geo, insee, postal, _field(values, at, "commune"))
        except RowError as exc:
            self.r.reject(f"ligne {line}", f"RPPS {pp} : {exc}")
            return False
        self.places_seen.add(key)
        return {
            "name": (_field(values, at, "site_sign") or _field(values, at, "site_name"))[:255],
            "address": street,
            "commune_insee": commune.insee,
            "commune_name": commune.name,
            "postal_code": postal or commune.postal_code,
            "lat": commune.lat,
            "lon": commune.lon,
            "phone": _DIGITS.sub("", _field(values, at, "phone"))[:32],
            "phone2": _DIGITS.sub("", _field(values, at, "phone2"))[:32],
            "siret": _field(values, at, "siret")[:14],
            "finess": _field(values, at, "finess")[:9],
            "site_ref": site[:64],
            "source": "rpps",
            "rev": self.rev,
        }

    # -- chunks -----------------------------------------------------------------------

    def flush(self, rows: list[_Row]) -> None:
        if not rows:
            return
        s, e = self.s, _EFF
        fresh: dict[str, _Row] = {}
        extra_sf: dict[str, set[str]] = {}
        for row in rows:
            if self.first_line[row.pp] == row.line:
                fresh[row.pp] = row
            elif row.person["specialty"]:
                extra_sf.setdefault(row.pp, set()).add(row.person["specialty"])
        existing: dict[str, Any] = {}
        pps = list(fresh)
        for i in range(0, len(pps), 900):
            for found in s.execute(
                select(
                    e.c.id, e.c.rpps, e.c.first_name, e.c.last_name, e.c.civility,
                    e.c.profession, e.c.specialty, e.c.active, e.c.source,
                ).where(e.c.rpps.in_(pps[i : i + 900]))
            ):  # fmt: skip
                existing[found.rpps] = found
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for pp, row in fresh.items():
            db = existing.get(pp)
            if db is None:
                inserts.append({"rpps": pp, **row.person})
                continue
            self.ids[pp] = db.id
            self.preexisting.add(db.id)
            changed = (
                any(getattr(db, k) != v for k, v in row.person.items())
                or not db.active
                or db.source != "rpps"
            )
            self.r.updated += changed
            self.unchanged += not changed
            updates.append({"b_id": db.id, **row.person})
        if inserts:
            common = {
                "source": "rpps", "rev": self.rev, "active": True, "skills": [],
                "weekly_availability": [], "updated_at": self.now,
            }  # fmt: skip
            result = s.execute(
                insert(e).returning(e.c.id, e.c.rpps, sort_by_parameter_order=True),
                [{**common, **x} for x in inserts],
            )
            for db_id, pp in result:
                self.ids[pp] = db_id
            self.r.created += len(inserts)
        if updates:
            s.execute(
                update(e)
                .where(e.c.id == bindparam("b_id"))
                .values(
                    active=True,
                    source="rpps",
                    rev=self.rev,
                    updated_at=self.now,
                    **{k: bindparam(k) for k in updates[0] if k != "b_id"},
                ),  # fmt: skip
                updates,
            )
        if extra_sf:
            self._add_skills(extra_sf)
        self._places(rows)
        self.r.accepted += len(rows)

    def _add_skills(self, extra: dict[str, set[str]]) -> None:
        """Further savoir-faire join ``skills``; the SAS's own skills stay."""
        e = _EFF
        ids = {self.ids[pp]: labels for pp, labels in extra.items()}
        changes = []
        for db_id, skills, specialty in self.s.execute(
            select(e.c.id, e.c.skills, e.c.specialty).where(e.c.id.in_(list(ids)))
        ):
            have = list(skills or [])
            more = sorted(x for x in ids[db_id] if x not in have and x != specialty)
            if more:
                changes.append({"b_id": db_id, "skills": have + more})
        if changes:
            self.s.execute(
                update(e).where(e.c.id == bindparam("b_id")).values(skills=bindparam("skills")),
                changes,
            )

    def _places(self, rows: list[_Row]) -> None:
        """New places inserted; those of the directory's practitioners updated in place."""
        p = _PLACE
        current: dict[tuple[int, str], int] = {}
        ids = list({self.ids[r.pp] for r in rows} & self.preexisting)
        for i in range(0, len(ids), 900):
            for pid, eid, ref in self.s.execute(
                select(p.c.id, p.c.effecteur_id, p.c.site_ref).where(
                    p.c.effecteur_id.in_(ids[i : i + 900]), p.c.source == "rpps"
                )
            ):
                current[(eid, ref)] = pid
        new, changed = [], []
        for row in rows:
            if row.place is None:
                continue
            eid = self.ids[row.pp]
            pid = current.get((eid, row.place["site_ref"])) if row.place["site_ref"] else None
            if pid is None:
                new.append({"effecteur_id": eid, **row.place})
            else:
                changed.append({"b_id": pid, **row.place})
        if new:
            self.s.execute(insert(p), new)
        if changed:
            self.s.execute(
                update(p)
                .where(p.c.id == bindparam("b_id"))
                .values(**{k: bindparam(k) for k in changed[0] if k != "b_id"}),
                changed,
            )

    def finish(self) -> None:
        """Places and practitioners the file no longer holds; the report's totals."""
        e, p, sl = _EFF, _PLACE, _SLOT
        touched = select(e.c.id).where(e.c.rev == self.rev, e.c.source == "rpps")
        gone = (
            p.c.source == "rpps",
            p.c.rev != self.rev,
            p.c.effecteur_id.in_(touched),
        )
        kept = self.s.execute(
            select(p.c.id).where(*gone, p.c.id.in_(select(sl.c.practice_id)))
        ).all()
        if kept:
            self.r.warnings.append(
                (
                    "lieux d'exercice",
                    f"{len(kept)} lieu(x) absent(s) du fichier gardé(s) : des créneaux y sont "
                    "rattachés",
                )
            )
        self.s.execute(delete(p).where(*gone, p.c.id.not_in(select(sl.c.practice_id).where(
            sl.c.practice_id.is_not(None)))))  # fmt: skip
        result = self.s.execute(
            update(e)
            .where(
                e.c.source == "rpps",
                e.c.rev != self.rev,
                e.c.active.is_(True),
                e.c.profession.in_(sorted(self.professions_read)),
            )
            .values(active=False, rev=self.rev, updated_at=self.now)
        )
        self.r.deactivated = int(cast(CursorResult[Any], result).rowcount or 0)
        for why, count in self.skipped.most_common():
            self.r.skipped.append(
                (f"{count} ligne(s), la première ligne {self.skipped_first[why]}", why)
            )
        self.r.warnings.append(
            ("fichier", f"format : {self.ex.layout}, encodage {self.ex.encoding}")
        )
        if self.unchanged:
            self.r.warnings.append(("fichier", f"{self.unchanged} praticien(s) inchangé(s)"))


def import_rpps(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    professions: Collection[str] | None = DEFAULT_PROFESSIONS,
    strict: bool = False,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import or update the national directory; ``professions`` None: all of them."""
    report = ImportReport("rpps", str(path), progress=progress)
    now = now or datetime.now(UTC)

    def work(s: Session, r: ImportReport) -> None:
        with open_extraction(path, r) as ex:
            job = _Import(s, r, ex, professions, now)
            r.start(ex.size)
            done = 0
            rows: list[_Row] = []
            for line, raw in ex.lines():
                done += len(raw)
                row = job.parse(line, raw)
                if row is not None:
                    rows.append(row)
                if len(rows) >= CHUNK_ROWS:
                    job.flush(rows)
                    rows = []
                    r.advance(done)
            job.flush(rows)
            if not r.accepted and not r.rejected:
                raise ImportAborted(
                    "aucune ligne importable dans le fichier"
                    + (
                        f" ({sum(job.skipped.values())} ligne(s) non importée(s) par choix)"
                        if job.skipped
                        else ""
                    )  # fmt: skip
                )
            job.finish()
            r.advance(ex.size)

    return run_import(sessions, report, work, strict=strict)
