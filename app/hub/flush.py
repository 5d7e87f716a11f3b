"""A unit's changed rows written with SQLAlchemy Core instead of the ORM's flush.

Handlers change loaded rows (a dossier's status, owner, version…) as ORM objects, and
the ORM's flush wrote them back: per object it walks every mapped column for its
history, sorts the unit of work and builds its parameters, most of the writer's time
once the events themselves were inserted with Core (app.hub.service.Unit). Here the
changed columns are read from each object's own record of what changed, written with
one UPDATE per table and set of columns (built once, then only bound), and the objects
marked clean as a flush would leave them. Anything this does not cover (a new or
deleted object, a relationship changed, an expired attribute) goes to the ORM's flush,
which stays the reference behaviour.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert, inspect, update
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.state import InstanceState

_Statement = Any
#: (table, changed columns) -> its UPDATE by primary key.
_UPDATES: dict[tuple[str, tuple[str, ...]], _Statement] = {}
#: Mapped classes whose attributes are their own table's columns, under the same
#: names, with a one-column primary key: what :func:`flush_changes` may write itself.
_PLAIN: dict[type, tuple[Any, str, frozenset[str]] | None] = {}


def _plain(cls: type) -> tuple[Any, str, frozenset[str]] | None:
    if cls not in _PLAIN:
        mapper: Mapper[Any] = inspect(cls)
        table = mapper.local_table
        found: tuple[Any, str, frozenset[str]] | None = None
        if isinstance(table, Table) and len(mapper.primary_key) == 1 and not mapper.inherits:
            names = frozenset(
                prop.key
                for prop in mapper.column_attrs
                if len(prop.columns) == 1
                and prop.columns[0].table is table
                and prop.columns[0].key == prop.key
            )
            found = (table, str(mapper.primary_key[0].key), names)
        _PLAIN[cls] = found
    return _PLAIN[cls]


def _statement(table: Table, pk: str, keys: tuple[str, ...]) -> _Statement:
    key = (table.name, keys)
    stmt = _UPDATES.get(key)
    if stmt is None:
        stmt = _UPDATES[key] = (
            update(table)
            .where(table.c[pk] == bindparam("pk_"))
            .values({k: bindparam(f"v_{k}") for k in keys})
        )
    return stmt


def flush_changes(session: Session) -> None:
    """Write what the unit changed, as :meth:`Session.flush` would."""
    if session.new or session.deleted:
        session.flush()  # inserts and deletes: the ORM orders them
        return
    batches: dict[_Statement, list[dict[str, Any]]] = {}
    done: list[InstanceState[Any]] = []
    for obj in session.dirty:
        state: InstanceState[Any] = inspect(obj)
        plain = _plain(type(obj))
        changed = state.committed_state
        if plain is None or state.expired_attributes or not changed.keys() <= plain[2]:
            session.flush()  # not a plain row: the ORM writes everything (nothing yet)
            return
        table, pk, _names = plain
        values = state.dict
        keys = tuple(sorted(k for k in changed if values.get(k) != changed[k]))
        done.append(state)
        if not keys:
            continue  # set to what it was: nothing to write
        row = {f"v_{k}": values[k] for k in keys}
        row["pk_"] = values[pk]
        batches.setdefault(_statement(table, pk, keys), []).append(row)
    if not done:
        return
    conn = session.connection()
    for stmt, rows in batches.items():
        conn.execute(stmt, rows)
    identity_map = session.identity_map
    for state in done:
        # As the ORM's flush leaves a written object: nothing pending, not modified.
        state._commit_all(state.dict, identity_map)


_INSERTS: dict[str, _Statement] = {}
_Row = TypeVar("_Row")


def insert_row(session: Session, cls: type[_Row], **values: Any) -> _Row:
    """A new row written at once with one Core INSERT, returned as the session's object.

    What ``session.add(cls(...)); session.flush()`` gives (the object with its id, in
    the session, clean) without the ORM's flush: the columns not given take their
    column's plain default, the object is built with every column set (a view reads
    them all without a reload) and attached as if it had just been loaded. A
    many-to-one relationship given as ``name=object`` is set without a query.
    """
    plain = _plain(cls)
    if plain is None:
        raise TypeError(f"{cls.__name__} is not a plain row")
    table, pk, names = plain
    related = {k: v for k, v in values.items() if k not in names}
    row: dict[str, Any] = {}
    for column in table.columns:
        name = column.key
        if name in values:
            row[name] = values[name]
        elif name == pk:
            continue
        elif column.default is None:
            row[name] = None
        elif column.default.is_scalar:
            row[name] = column.default.arg
        else:
            raise TypeError(f"{cls.__name__}.{name} has no plain default: give it")
    stmt = _INSERTS.get(table.name)
    if stmt is None:
        stmt = _INSERTS[table.name] = insert(table).returning(table.c[pk])
    row[pk] = session.connection().execute(stmt, row).scalar_one()
    obj = cls(**row)
    make_transient_to_detached(obj)
    session.add(obj)
    for name, value in related.items():
        set_committed_value(obj, name, value)
    return obj
