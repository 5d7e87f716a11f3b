"""Large hub → desk messages cut into `part` frames, joined again by the desk.

A websocket frame stays well under the 4 MiB both sides accept, whatever the room's
size: a supervisor's snapshot with thousands of dossiers, a long report, a timeline.
Parts of one message come in order on their connection (a websocket keeps order); other
frames (events, parts of another message) may come between them, so the desk keeps one
buffer per stream and appends until the last part.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

#: Characters of the message's JSON per part. The JSON text is ASCII (json.dumps'
#: default), and quoting it again at most doubles it: a part frame stays < 2.1 MiB.
PART_CHARS = 1024 * 1024
#: A desk refuses to join more than this (a broken or hostile hub cannot exhaust it).
MAX_JOINED_CHARS = 512 * 1024 * 1024

_streams = itertools.count(1)


def frames(message: dict[str, Any], part_chars: int = PART_CHARS) -> Iterator[str]:
    """The frames that carry one message: itself, or its parts in order."""
    return parts(json.dumps(message), part_chars)


def parts(text: str, part_chars: int = PART_CHARS) -> Iterator[str]:
    """The frames that carry one message's JSON ``text``: itself, or its parts in order."""
    if len(text) <= part_chars:
        yield text
        return
    stream = next(_streams)
    count = -(-len(text) // part_chars)
    for index in range(count):
        piece = text[index * part_chars : (index + 1) * part_chars]
        yield json.dumps(
            {"type": "part", "stream": stream, "index": index, "count": count, "data": piece}
        )


class Joiner:
    """The desk's side: collects parts, returns the whole message after the last one."""

    def __init__(self) -> None:
        self._streams: dict[object, list[str]] = {}
        self._size = 0

    def add(self, part: dict[str, Any]) -> dict[str, Any] | None:
        stream, index, count = part.get("stream"), part.get("index"), part.get("count")
        data = part.get("data")
        if not (isinstance(index, int) and isinstance(count, int) and isinstance(data, str)):
            raise ValueError("malformed part frame")
        if index == 0:
            self._drop(stream)
            self._streams[stream] = []
        pieces = self._streams.get(stream)
        if pieces is None or index != len(pieces):
            self._drop(stream)
            raise ValueError(f"part {index} of stream {stream} out of order")
        self._size += len(data)
        if self._size > MAX_JOINED_CHARS:
            self._drop(stream)
            raise ValueError("joined message too large")
        pieces.append(data)
        if index + 1 < count:
            return None
        self._drop(stream)
        joined = json.loads("".join(pieces))
        if not isinstance(joined, dict):
            raise ValueError("joined message is not an object")
        return joined

    def _drop(self, stream: object) -> None:
        pieces = self._streams.pop(stream, None)
        if pieces:
            self._size -= sum(len(x) for x in pieces)
