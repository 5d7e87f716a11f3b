"""Room-editable TOML files: read them and point at the line of a problem.

The room edits these files by hand, so an error must say which file, which line and
what is wrong, in French; ``tomllib`` gives the line of a syntax error, and
``line_of`` finds the line of a key for errors of content.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FileProblem:
    path: Path
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path.name}, ligne {self.line}" if self.line else self.path.name
        return f"{where} : {self.reason}"


class FileError(Exception):
    """One or more problems in room-edited files; nothing from them is used."""

    def __init__(self, problems: list[FileProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_toml(path: Path) -> tuple[dict[str, Any], list[str]]:
    """(data, lines) or FileError with the line of the syntax error."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileError([FileProblem(path, None, f"illisible ({exc.strerror})")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise FileError(
            [FileProblem(path, bad_line, "le fichier doit être enregistré en UTF-8")]
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        reason = _TOML_LINE.sub("", str(exc)).strip()
        raise FileError([FileProblem(path, line, f"syntaxe TOML invalide ({reason})")]) from None
    return data, text.splitlines()


def line_of(lines: list[str], key: str, table: str | None = None, nth: int = 0) -> int | None:
    """The line of ``key = …`` (1-based), inside the ``nth`` ``[table]``/``[[table]]``
    if given; the table header's line when the key is not there."""
    start, end = 0, len(lines)
    if table is not None:
        header = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
        seen = -1
        found = None
        for i, text in enumerate(lines):
            if header.match(text):
                seen += 1
                if seen == nth:
                    found = i
                    break
        if found is None:
            return None
        start = found
        for j in range(found + 1, len(lines)):
            if re.match(r"^\s*\[", lines[j]):
                end = j
                break
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for i in range(start, end):
        if pattern.match(lines[i]):
            return i + 1
    return start + 1 if table is not None else None
