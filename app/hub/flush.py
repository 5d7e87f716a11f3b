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

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import Connection, Table, bindparam, insert, inspect, update
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.state import InstanceState

from app.db.fast import Fast

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


def _column_values(cls: type, table: Any, pk: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Every column of a new row but its key: as given, else its plain default."""
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
    return row


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
    row = _column_values(cls, table, pk, values)
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


class Row:
    """A row read or inserted with Core, not an ORM object: its columns as attributes.

    What the flow's handlers load on every intent (the dossier, its task, the call) costs
    the ORM its query compilation, identity map, instance state and, at commit, its
    clean-up; a Row is its table's columns in a ``__dict__``, and remembers the columns
    assigned since it was read, which :func:`write_rows` writes with one Core UPDATE per
    table and set of columns (as :func:`flush_changes` does for ORM objects). Attributes
    that are not columns (a task's ``dossier``) are kept as given and never written.
    Loaders type a Row as the mapped class whose columns it carries: it is read and
    assigned as one, and has no relationship, expiry or session of its own.
    """

    cls: ClassVar[type]
    table: ClassVar[Table]
    pk: ClassVar[str]
    names: ClassVar[frozenset[str]]

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_was", {})
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.names:
            was: dict[str, Any] = self.__dict__["_was"]
            if name not in was:
                was[name] = self.__dict__[name]
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:  # only for attributes never set
        raise AttributeError(f"{type(self).__name__} has no {name!r} (a Core row)")


_ROW_CLASSES: dict[type, type[Row]] = {}
#: The same statements as :func:`_statement` and ``_INSERTS``, run on the driver's cursor.
_FAST_UPDATES: dict[tuple[str, tuple[str, ...]], Fast] = {}
_FAST_INSERTS: dict[str, Fast] = {}


def _fast_update(table: Table, pk: str, keys: tuple[str, ...]) -> Fast:
    stmt = _FAST_UPDATES.get((table.name, keys))
    if stmt is None:
        stmt = _FAST_UPDATES[(table.name, keys)] = Fast(_statement(table, pk, keys))
    return stmt


def row_class(cls: type) -> type[Row]:
    """The :class:`Row` class of a plain mapped class (its table, key and columns)."""
    found = _ROW_CLASSES.get(cls)
    if found is None:
        plain = _plain(cls)
        if plain is None:
            raise TypeError(f"{cls.__name__} is not a plain row")
        table, pk, names = plain
        found = _ROW_CLASSES[cls] = type(
            f"{cls.__name__}Row",
            (Row,),
            {"cls": cls, "table": table, "pk": pk, "names": names},
        )
    return found


def write_rows(session: Session, rows: list[Row], conn: Connection | None = None) -> None:
    """Write the columns assigned on ``rows`` since they were read (or last written).

    An ORM copy of a written row that the session holds (another feature's handler in
    the same unit, the call-back closing a task) is expired: it reads the row again."""
    batches: dict[Fast, list[dict[str, Any]]] = {}
    written: list[Row] = []
    for row in rows:
        was: dict[str, Any] = row.__dict__["_was"]
        if not was:
            continue
        values = row.__dict__
        keys = tuple(sorted(k for k, old in was.items() if values[k] != old))
        was.clear()
        if not keys:
            continue
        params = {f"v_{k}": values[k] for k in keys}
        params["pk_"] = values[row.pk]
        batches.setdefault(_fast_update(row.table, row.pk, keys), []).append(params)
        written.append(row)
    if not batches:
        return
    for stmt, params_list in batches.items():
        stmt.many(session if conn is None else conn, params_list)
    identity_map = session.identity_map
    if len(identity_map):
        for row in written:
            mapper: Mapper[Any] = inspect(row.cls)
            key = mapper.identity_key_from_primary_key((row.__dict__[row.pk],))
            held = identity_map.get(key)
            if held is not None:
                session.expire(held)


def new_row(session: Session, cls: type[_Row], **values: Any) -> _Row:
    """A new row written at once with one Core INSERT, returned as a :class:`Row` (typed
    as ``cls``): what :func:`insert_row` gives without the ORM object. Attributes that
    are not columns (``dossier=d`` for a task) are set on the row as given."""
    kind = row_class(cls)
    table, pk, names = kind.table, kind.pk, kind.names
    extra = {k: v for k, v in values.items() if k not in names}
    row = _column_values(cls, table, pk, values)
    stmt = _FAST_INSERTS.get(table.name)
    if stmt is None:
        keys = [c.key for c in table.columns if c.key != pk]
        stmt = _FAST_INSERTS[table.name] = Fast(insert(table).returning(table.c[pk]), keys)
    inserted = stmt.first(session, row)
    assert inserted is not None
    row[pk] = inserted[0]
    out = kind(row)
    out.__dict__.update(extra)
    return cast(_Row, out)
