"""Bring a database to the current schema with Alembic (also used by the CLI).

A database whose revision this version does not know was written by a newer sasdesk:
it is refused (``SchemaTooNew``), never "upgraded" or used as it is — going back to an
older version needs the backup taken before the upgrade (docs/deploy.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

import app

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaTooNew(RuntimeError):
    """The database carries a schema revision this version of sasdesk does not know."""

    def __init__(self, revision: str, head: str):
        self.revision, self.head = revision, head
        super().__init__(
            f"la base est au schéma « {revision} », inconnu de sasdesk {app.__version__} "
            f"(dernier schéma connu : « {head} ») : elle a été mise à jour par une version "
            "plus récente. Retour en arrière refusé : réinstallez cette version plus récente, "
            "ou restaurez la sauvegarde prise avant la mise à jour."
        )


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: an empty database
    head: str
    known: frozenset[str]

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def too_new(self) -> bool:
        return self.current is not None and self.current not in self.known

    def check(self) -> None:
        if self.too_new:
            assert self.current is not None
            raise SchemaTooNew(self.current, self.head)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def _revisions() -> tuple[str, frozenset[str]]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head, frozenset(s.revision for s in script.walk_revisions())


def head_revision() -> str:
    return _revisions()[0]


def known_revisions() -> frozenset[str]:
    return _revisions()[1]


def state_of(connection: Connection) -> SchemaState:
    from alembic.runtime.migration import MigrationContext

    head, known = _revisions()
    current = MigrationContext.configure(connection).get_current_revision()
    return SchemaState(current, head, known)


def schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as connection:
        return state_of(connection)


_REVISION = re.compile(r"^revision = [\"']([^\"']+)[\"']", re.M)
_DOWN = re.compile(r"^down_revision = [\"']([^\"']+)[\"']", re.M)


@cache
def scanned_head() -> str | None:
    """The head read from the migration files' text, without loading Alembic and every
    script (a third of a second of each hub's start); None if it is not a single one.
    tests/core/test_hubstart.py checks it is Alembic's head."""
    revisions, downs = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(source))
        downs.update(_DOWN.findall(source))
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """The database says it is at the head: nothing to migrate (one small query)."""
    head = scanned_head()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no table yet: an empty database
        return False
    return [r[0] for r in stored] == [head]


def upgrade(engine: Engine) -> None:
    """Migrate to the head; SchemaTooNew (nothing changed) on a newer database."""
    if at_head(engine):
        return
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        state_of(connection).check()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
