"""The supervisor's live picture of the room, kept by the hub's events (no polling).

A supervisor's desk receives every event; each carries the full view of the call,
dossier or task it changed, so the picture is an upsert per event. ``load`` takes
the snapshot sent at login (plus the desks' states from ``stats.live``); ``apply``
takes each event; ``view(now)`` says what waits, for how long, and what to alert on.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.domain.enums import Line, Queue
from app.hub.events import EventName

#: States a desk can be in. IN_CALL and WRAP_UP follow the calls; the others are set
#: by the desk itself (``desk.state``).
DESK_STATES = ("READY", "PAUSED", "IN_CALL", "WRAP_UP", "OFFLINE")
LEVEL_OF_QUEUE = {
    Queue.AMU_N2: "N2 AMU",
    Queue.AMU_MEDECIN: "Médecin AMU",
    Queue.SNP: "Régulation libérale",
}


def _at(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass
class Alert:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass
class LiveState:
    target: float = 0.99  # share of calls answered within ``answer_within``
    answer_within: float = 60.0
    window: timedelta = timedelta(hours=1)
    min_calls: int = 20  # below this many calls in the window, no rate alert
    deadline_warning: timedelta = timedelta(hours=4)
    ringing: dict[int, dict[str, Any]] = field(default_factory=dict)
    queued: dict[int, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[int, dict[str, Any]] = field(default_factory=dict)
    desks: dict[int, dict[str, Any]] = field(default_factory=dict)  # user id → name, state
    # Calls of the window: (offered_at, answered_at | None, ended_at | None) by call id.
    recent: dict[int, tuple[datetime, datetime | None, datetime | None]] = field(
        default_factory=dict
    )
    _order: deque[tuple[datetime, int]] = field(default_factory=deque)
    last_seq: int = 0

    # -- feeding ------------------------------------------------------------------------

    def load(self, snapshot: Mapping[str, Any]) -> None:
        """The login snapshot (calls, dossiers, tasks) and, if given, ``desks``."""
        for call in snapshot.get("calls", []):
            self._call(call)
        for dossier in snapshot.get("dossiers", []):
            self._dossier(dossier)
        for task in snapshot.get("tasks", []):
            self._task(task)
        for desk in snapshot.get("desks", []):
            self.desks[desk["user_id"]] = {
                "name": desk.get("name", ""),
                "state": desk["state"],
                "since": desk.get("since"),
            }
        self.last_seq = max(self.last_seq, int(snapshot.get("seq", 0) or 0))

    def apply(self, message: Mapping[str, Any]) -> None:
        """One hub event message (``{"type": "event", "event": …, "call": {…}, …}``)."""
        seq = int(message.get("seq") or 0)
        if seq and seq <= self.last_seq:
            return  # replayed after a reconnect: already counted
        self.last_seq = max(self.last_seq, seq)
        kind = message.get("event", "")
        if "call" in message:
            self._call(message["call"], kind)
        if "dossier" in message:
            self._dossier(message["dossier"])
        if "task" in message:
            self._task(message["task"])
        if kind == EventName.DESK_STATE:
            data = message.get("data", {})
            self.desks[data["user_id"]] = {
                "name": data.get("name") or message.get("actor", ""),
                "state": data["state"],
                "since": message.get("at"),
            }

    def _call(self, call: dict[str, Any], kind: str = "") -> None:
        cid = call["id"]
        offered, answered, ended = (
            _at(call.get(k)) for k in ("offered_at", "answered_at", "ended_at")
        )
        if offered is None:
            return
        if cid not in self.recent:
            self._order.append((offered, cid))
        self.recent[cid] = (offered, answered, ended)
        self._expire(offered)
        if answered is None and ended is None:
            self.ringing[cid] = call
        else:
            self.ringing.pop(cid, None)
        desk = call.get("answered_by_id")
        if desk is not None and kind in (EventName.CALL_ANSWERED, EventName.CALL_ENDED):
            entry = self.desks.setdefault(desk, {"name": "", "state": "READY", "since": None})
            entry["state"] = "IN_CALL" if ended is None else "WRAP_UP"
            entry["since"] = call.get("ended_at") or call.get("answered_at")

    def _expire(self, now: datetime) -> None:
        while self._order and self._order[0][0] < now - self.window:
            _, cid = self._order.popleft()
            self.recent.pop(cid, None)  # a call ringing for an hour is still in ``ringing``

    def _dossier(self, d: dict[str, Any]) -> None:
        if d.get("status") == "QUEUED" and d.get("queue"):
            self.queued[d["id"]] = d
        else:
            self.queued.pop(d["id"], None)

    def _task(self, t: dict[str, Any]) -> None:
        if t.get("status") in ("OPEN", "IN_PROGRESS"):
            self.tasks[t["id"]] = t
        else:
            self.tasks.pop(t["id"], None)

    # -- reading ------------------------------------------------------------------------

    def answering_rate(self, now: datetime) -> tuple[float | None, int]:
        """Share of the window's settled calls answered within the limit, and how many.

        A call still ringing counts once it has waited longer than the limit (it has
        already missed it); before that it is not settled either way.
        """
        limit = timedelta(seconds=self.answer_within)
        settled = good = 0
        for offered, answered, ended in self.recent.values():
            if offered < now - self.window:
                continue
            if answered is not None:
                settled += 1
                good += answered - offered <= limit
            elif ended is not None or now - offered > limit:
                settled += 1
        return (good / settled if settled else None), settled

    def view(self, now: datetime) -> dict[str, Any]:
        waiting: Counter[tuple[str, str]] = Counter()
        longest = 0.0
        for call in self.ringing.values():
            waiting[(call.get("line", ""), "N1")] += 1
            offered = _at(call.get("offered_at"))
            if offered is not None:
                longest = max(longest, (now - offered).total_seconds())
        dossiers = []
        for d in self.queued.values():
            level = LEVEL_OF_QUEUE.get(Queue(d["queue"]), d["queue"])
            waiting[(d.get("line", ""), level)] += 1
            since = _at(d.get("queued_at"))
            dossiers.append(
                {
                    "id": d["id"],
                    "number": d.get("number"),
                    "queue": d["queue"],
                    "level": level,
                    "priority": d.get("priority"),
                    "age_seconds": (now - since).total_seconds() if since else None,
                }
            )
        tasks = []
        for t in self.tasks.values():
            created, deadline = _at(t.get("created_at")), _at(t.get("deadline_at"))
            tasks.append(
                {
                    "id": t["id"],
                    "status": t.get("status"),
                    "age_seconds": (now - created).total_seconds() if created else None,
                    "deadline_at": t.get("deadline_at"),
                    "seconds_to_deadline": (deadline - now).total_seconds() if deadline else None,
                }
            )
        rate, settled = self.answering_rate(now)
        desks = Counter(d["state"] for d in self.desks.values())
        return {
            "calls_waiting": [
                {
                    "line": line,
                    "line_label": Line(line).label if line in set(Line) else line,
                    "level": level,
                    "count": n,
                }
                for (line, level), n in sorted(waiting.items())
            ],
            "longest_wait_seconds": round(longest, 1),
            "desks": {s: desks.get(s, 0) for s in DESK_STATES},
            "dossiers_waiting": sorted(dossiers, key=lambda x: -(x["age_seconds"] or 0)),
            "tasks_waiting": sorted(tasks, key=lambda x: x["seconds_to_deadline"] or 0),
            "answered_within_target_rate": rate,
            "calls_in_window": settled,
            "alerts": [a.as_dict() for a in self.alerts(now, rate, settled, longest, tasks)],
        }

    def alerts(
        self,
        now: datetime,
        rate: float | None,
        settled: int,
        longest: float,
        tasks: list[dict[str, Any]],
    ) -> list[Alert]:
        out = []
        if rate is not None and settled >= self.min_calls and rate < self.target:
            out.append(
                Alert(
                    "answering_target",
                    f"décroché en moins de "
                    f"{self.answer_within:.0f} s : {rate * 100:.1f} % sur la dernière "
                    f"heure ({settled} appels), objectif {self.target * 100:.0f} %".replace(
                        ".", ","
                    ),
                )
            )
        if longest > self.answer_within:
            out.append(Alert("call_waiting", f"un appel attend depuis {longest:.0f} s"))
        late = [
            t
            for t in tasks
            if t["seconds_to_deadline"] is not None and t["seconds_to_deadline"] < 0
        ]
        soon = [
            t
            for t in tasks
            if t["seconds_to_deadline"] is not None
            and 0 <= t["seconds_to_deadline"] < self.deadline_warning.total_seconds()
        ]
        if late:
            out.append(Alert("task_overdue", f"{len(late)} recherche(s) de RDV au-delà de 48 h"))
        if soon:
            out.append(
                Alert(
                    "task_deadline",
                    f"{len(soon)} recherche(s) de RDV à moins de "
                    f"{self.deadline_warning.total_seconds() / 3600:.0f} h du délai",
                )
            )
        return out
