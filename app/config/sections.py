"""A feature's part of hub.toml: its tables, its typed settings, its parser, its checks.

The loader (``app.config.hubfile``) knows the kernel's own tables ([base], [ecoute],
[tls], [sessions], …). A feature's tables are declared by the feature, next to its
settings class, as a ``Section`` (``app.callback.settings.SECTION``); the command line,
which sits above the features, hands them to the loader (``app.cli.sections``), so the
configuration layer imports no feature. A table no section declares is refused as
unknown, as before. The hub and the features read a section back by its type:
``settings.section(AppointmentSettings)`` is None when the file does not have it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from app.config.tomlfile import FileProblem, line_of
from app.config.values import Invalid, Parse

S = TypeVar("S")
T = TypeVar("T")


@dataclass(frozen=True)
class Key:
    """One key of hub.toml: its table, its name, where it goes and how it is read."""

    table: str
    name: str
    #: Dotted attribute of the settings object it sets, e.g. "tls.cert".
    attr: str
    parse: Parse


def set_attr(settings: T, dotted: str, value: Any) -> T:
    """A copy of the frozen ``settings`` with ``dotted`` (e.g. "tls.cert") set."""
    head, _, rest = dotted.partition(".")
    if not rest:
        return replace(settings, **{head: value})  # type: ignore[type-var]
    inner = set_attr(getattr(settings, head), rest, value)
    return replace(settings, **{head: inner})  # type: ignore[type-var]


def tables_of(keys: Iterable[Key]) -> dict[str, tuple[str, ...]]:
    """The tables ``keys`` fill, with their key names in order."""
    tables: dict[str, list[str]] = {}
    for key in keys:
        tables.setdefault(key.table, []).append(key.name)
    return {t: tuple(k) for t, k in tables.items()}


@dataclass
class Reading:
    """One hub.toml being read, as a section's parser sees it: the file's tables, and
    where problems go (each with the file and the line; nothing of the file is used
    if there is one)."""

    path: Path
    data: dict[str, Any]
    lines: list[str]
    problems: list[FileProblem] = field(default_factory=list)

    @property
    def base(self) -> Path:
        """Relative paths are taken from the configuration file's folder."""
        return self.path.parent

    def table(self, name: str) -> dict[str, Any]:
        """The ``[name]`` table, {} when the file has none (or not as a table)."""
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    def bad(self, reason: str, table: str, key: str | None = None) -> None:
        """A problem at ``key`` of ``[table]`` (at the table's header without a key)."""
        line = line_of(self.lines, key if key is not None else "\0", table)
        self.problems.append(FileProblem(self.path, line, reason))

    def apply(self, settings: T, keys: Iterable[Key]) -> T:
        """``settings`` with every key of ``keys`` the file has, each parsed; a wrong
        value is a problem naming its table and key, and leaves the default."""
        for key in keys:
            table = self.table(key.table)
            if key.name not in table:
                continue
            try:
                settings = set_attr(settings, key.attr, key.parse(table[key.name], self.base))
            except Invalid as exc:
                self.bad(f"[{key.table}] {key.name} : {exc}", key.table, key.name)
        return settings

    def require(self, table: str, required: tuple[str, ...], purpose: str) -> None:
        """A section that is on cannot work without ``required``: each one missing."""
        listed = f"{', '.join(required[:-1])} et {required[-1]}"
        for key in required:
            if key not in self.table(table):
                self.bad(f"[{table}] {key} manquant ({listed} sont obligatoires {purpose})", table)


@dataclass(frozen=True)
class Check:
    """One line of ``sasdesk hub check``: what was looked at, and what to do if not ok."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Section(Generic[S]):
    """A feature's tables of hub.toml and the typed settings they make.

    ``read`` returns the settings, or None when the file leaves the feature off (or at
    its defaults); it reports wrong values through the ``Reading`` (or raises
    ``FileError``). ``check`` is what ``sasdesk hub check`` looks at for it."""

    settings: type[S]
    #: Each table the section owns, with the keys it knows.
    tables: Mapping[str, tuple[str, ...]]
    read: Callable[[Reading], S | None]
    check: Callable[[S, datetime], list[Check]] | None = None

    def checks(self, value: object, now: datetime) -> list[Check]:
        """The checks of ``value`` when it is this section's settings."""
        if self.check is None or not isinstance(value, self.settings):
            return []
        return self.check(value, now)
