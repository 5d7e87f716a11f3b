"""CPU time of the processes a benchmark runs, read from Linux /proc.

Wall-clock latencies depend on whatever else the machine runs; the CPU time each
process spends per intent does much less, so the benchmarks report it per phase:
the hubs, the driver (the desks' side, this process) and the PostgreSQL server.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        # Fields after the command name (which may hold spaces), from field 3 on.
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU of a process (and of its children it has reaped, if asked)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def own_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postmaster_of(port: int) -> int | None:
    """The PostgreSQL server listening on ``port`` (started with ``-p PORT``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"postgres") and str(port).encode() in argv:
            return int(entry.name)
    return None


def tree_seconds(root: int) -> float:
    """A server and its live children (PostgreSQL backends), with those that ended."""
    total = process_seconds(root, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(root):
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == root:
                total += process_seconds(int(entry.name))
    return total


@dataclass
class CpuMeter:
    """Samples the CPU of the hubs, this driver and PostgreSQL (when on this machine)."""

    hubs: list[int]
    postmaster: int | None = None

    def sample(self) -> dict[str, float]:
        out = {
            "hubs": sum(process_seconds(pid) for pid in self.hubs),
            "driver": own_seconds(),
        }
        if self.postmaster is not None:
            out["postgresql"] = tree_seconds(self.postmaster)
        return out

    @staticmethod
    def per_intent(
        before: dict[str, float], after: dict[str, float], intents: int
    ) -> dict[str, float | None]:
        """Milliseconds of CPU per intent of each part, and their total."""
        if not intents:
            return {name: None for name in after}
        out: dict[str, float | None] = {
            name: round(1000 * (after[name] - before[name]) / intents, 3) for name in after
        }
        out["total"] = round(sum(v for v in out.values() if v is not None), 3)
        return out
