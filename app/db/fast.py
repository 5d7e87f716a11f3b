"""Fixed Core statements run on the driver's cursor: the hub writer's hot path.

Every statement the single writer runs for an intent through ``Connection.execute``
pays SQLAlchemy's execution context, cache lookup and result set-up (with psycopg, the
columns' descriptions too), which costs more CPU than the driver's own work: on the
benchmark's flow, most of a statement's time. A :class:`Fast` statement is compiled once
per dialect; its parameters go through the column types' bind processors and its rows
through their result processors exactly as ``execute`` would convert them, and it runs
on the DBAPI connection under the caller's SQLAlchemy connection, in its transaction.
A driver error is raised wrapped as ``execute`` raises it (``IntegrityError``…), so that
callers catch the same exceptions. Only statements of a fixed shape belong here (no
expanding ``IN``): anything else goes through ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

_Processor = Callable[[Any], Any] | None


@dataclass(slots=True)
class _Compiled:
    sql: str
    #: (bind name, name in the SQL, default value, its bind processor), in the SQL's order.
    binds: tuple[tuple[str, str, Any, _Processor], ...]
    positional: bool
    #: The types of the result columns (a SELECT's, or RETURNING's).
    types: tuple[Any, ...]
    #: Their result processors (the others: the driver's value as it is), known at the
    #: first rows: some depend on the driver's type code (psycopg's numerics).
    results: tuple[tuple[int, Callable[[Any], Any]], ...] | None = None

    def processors(self, dialect: Dialect, description: Sequence[Any]) -> None:
        """The columns that have a processor, by position (most have none)."""
        found = (
            t._cached_result_processor(dialect, d[1])
            for t, d in zip(self.types, description, strict=True)
        )
        self.results = tuple((i, p) for i, p in enumerate(found) if p is not None)


class Fast:
    """One Core statement, compiled once per dialect, run without SQLAlchemy's execution."""

    __slots__ = ("stmt", "keys", "_by_dialect")

    def __init__(self, stmt: ClauseElement, keys: Sequence[str] | None = None):
        """``keys``: an INSERT's columns, as its parameters name them (all but a key the
        database assigns: a column left to a Python default is refused)."""
        self.stmt = stmt
        self.keys = list(keys) if keys is not None else None
        self._by_dialect: dict[str, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is not None:
            return found
        compiled: Any = self.stmt.compile(dialect=dialect, column_keys=self.keys)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise TypeError("a statement with Python-side defaults is not a fixed one")
        defaults = {
            name: None if bind.required else bind.effective_value
            for name, bind in compiled.binds.items()
        }
        processors = compiled._bind_processors
        escaped = compiled.escaped_bind_names or {}
        order = compiled.positiontup if dialect.positional else list(compiled.binds)
        binds = tuple(
            (name, escaped.get(name, name), defaults.get(name), processors.get(name))
            for name in order
        )
        types = tuple(column.type for column in getattr(self.stmt, "selected_columns", ()))
        returning = getattr(self.stmt, "_returning", ())
        if returning:
            types = tuple(c.type for c in returning)
        found = _Compiled(compiled.string, binds, bool(dialect.positional), types)
        self._by_dialect[dialect.name] = found
        return found

    def _params(self, c: _Compiled, values: Mapping[str, Any]) -> Any:
        out = []
        for name, _sql_name, default, process in c.binds:
            value = values[name] if name in values else default
            out.append(process(value) if process is not None else value)  # as execute does
        if c.positional:
            return tuple(out)
        return {sql_name: v for (_n, sql_name, _d, _p), v in zip(c.binds, out, strict=True)}

    @staticmethod
    def _row(processors: tuple[tuple[int, Callable[[Any], Any]], ...], row: Any) -> Any:
        out = list(row)
        for i, process in processors:
            out[i] = process(out[i])
        return tuple(out)

    def rows(self, on: Session | Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run with ``values``; the rows it returns (a SELECT, or RETURNING)."""
        conn = on.connection() if isinstance(on, Session) else on
        c = self._compile(conn.dialect)
        params = self._params(c, values)
        cursor = _cursor(conn)
        try:
            cursor.execute(c.sql, params)
            if not c.types:
                return []
            fetched = cursor.fetchall()
            if c.results is None:  # once: psycopg builds the description at every call
                c.processors(conn.dialect, cursor.description)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn.dialect, c.sql, params, exc) from exc
        if not c.results:  # the driver's rows are tuples already
            return [tuple(r) for r in fetched]
        return [self._row(c.results, r) for r in fetched]

    def first(self, on: Session | Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        found = self.rows(on, values)
        return found[0] if found else None

    def many(self, on: Session | Connection, values: Sequence[Mapping[str, Any]]) -> None:
        """Run once per parameter set (no rows back), as one ``executemany``."""
        if not values:
            return
        conn = on.connection() if isinstance(on, Session) else on
        c = self._compile(conn.dialect)
        params = [self._params(c, v) for v in values]
        cursor = _cursor(conn)
        try:
            if len(params) == 1:
                cursor.execute(c.sql, params[0])
            else:
                cursor.executemany(c.sql, params)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _wrapped(conn.dialect, c.sql, params, exc) from exc


#: Where a DBAPI connection keeps its cursor for Fast statements (the pool's ``info`` of
#: the connection lives as long as the DBAPI connection and is cleared with it).
_CURSOR = "sasdesk.fast.cursor"


def _cursor(conn: Connection) -> Any:
    """The DBAPI connection's cursor for Fast statements, made once and kept open: each
    new psycopg cursor builds its adaptation context (and forgets the dumpers it found)
    and is closed again, for every statement of the writer. A statement's rows are all
    fetched before the next runs on it, and one connection serves one thread at a time."""
    fairy = conn.connection
    dbapi = fairy.dbapi_connection
    cursor = fairy.info.get(_CURSOR)
    if cursor is None or cursor.connection is not dbapi or getattr(cursor, "closed", False):
        cursor = fairy.info[_CURSOR] = dbapi.cursor()  # type: ignore[union-attr]
    return cursor


def _wrapped(dialect: Dialect, sql: str, params: Any, exc: Exception) -> BaseException:
    return DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect)
