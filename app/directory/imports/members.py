"""``sasdesk import membres FICHIER.csv``: which desk users work for which CPTS.

A CPTS-visibility slot linked to its CPTS is shown only to that structure's desks
(docs/directory.md); this file says who they are. Columns ``identifiant`` (the user's
login) and ``structure`` (a structure of the directory, by name); the file replaces
the memberships of the users it names (a user listed with an empty structure belongs
to none). Unknown users or structures are rejected rows, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import User
from app.directory.imports.common import ImportReport, read_csv, run_import
from app.directory.models import Structure, StructureMember
from app.directory.query import fold

COLUMNS = ("identifiant", "structure")
ALIASES = {"utilisateur": "identifiant", "login": "identifiant", "cpts": "structure"}


def import_members(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    report = ImportReport("membres des CPTS", str(path), progress=progress)

    def work(s: Session, r: ImportReport) -> None:
        rows = read_csv(path, r, COLUMNS, known=COLUMNS, aliases=ALIASES)
        r.start(len(rows))
        users = {u.username: u.id for u in s.scalars(select(User))}
        structures = {fold(x.name): x.id for x in s.scalars(select(Structure))}
        wanted: dict[int, set[int]] = {}
        for number, row in rows:
            r.step()
            where = f"ligne {number}"
            uid = users.get(row["identifiant"])
            if uid is None:
                r.reject(where, f"utilisateur « {row['identifiant']} » inconnu")
                continue
            if not row["structure"]:
                wanted.setdefault(uid, set())
                r.accepted += 1
                continue
            sid = structures.get(fold(row["structure"]))
            if sid is None:
                r.reject(where, f"structure « {row['structure']} » inconnue de l'annuaire")
                continue
            wanted.setdefault(uid, set()).add(sid)
            r.accepted += 1
        for uid, sids in wanted.items():
            before = set(s.scalars(select(StructureMember.structure_id)
                                   .where(StructureMember.user_id == uid)))  # fmt: skip
            if before == sids:
                continue
            s.execute(delete(StructureMember).where(StructureMember.user_id == uid))
            s.add_all(StructureMember(user_id=uid, structure_id=sid) for sid in sorted(sids))
            if before:
                r.updated += 1
            else:
                r.created += 1

    return run_import(sessions, report, work, strict=strict)
