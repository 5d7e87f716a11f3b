"""A room driven through the real flow service with a controllable clock.

Each helper sends the intents a desk would send; the events the statistics read are
the ones the hub itself writes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Commune
from app.demo.seed import load_territory
from app.directory.hub import install as install_directory
from app.directory.models import Effecteur, Practice, Slot, bump_revision
from app.flow.service import FlowService
from app.hub.auth import Principal
from app.room import hub_wire
from app.stats.hub import install as install_stats
from tests.rows import stored

WIRE = hub_wire()  # every extension's intents, as a hub with all of them speaks

ORIENT_48H = {
    "decision": "ORIENT",
    "care_level": "R3",
    "filiere": "SNP",
    "orientation": "CONSULTATION_48H",
    "consultation_type": "cabinet",
}
CONSEIL = {"decision": "CONSEIL", "care_level": "R4", "filiere": "SNP"}


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, when: datetime) -> None:
        self.now = when

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Room:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        people: dict[str, Principal],
        start: datetime = datetime(2023, 6, 1, 7, 0, tzinfo=UTC),
    ):
        self.sessions = sessions
        self.clock = Clock(start)
        self.service = FlowService(sessions, self.clock)
        install_directory(self.service)
        install_stats(self.service)
        self.people = people
        self._calls = 0
        self._rpps = 10_000_000_000
        self.broadcast: list[dict[str, Any]] = []  # every event message, as the hub sends it

    def send(self, who: str, type_: str, **payload: Any) -> dict[str, Any]:
        intent = WIRE.parse(json.dumps({"type": type_, **payload}, default=str))
        outcome = self.service.handle(self.people[who], intent)
        self.broadcast += [json.loads(json.dumps(e.message)) for e in outcome.events]
        return outcome.reply

    # -- territory and directory ----------------------------------------------------

    def load_communes(self, communes: list[dict[str, Any]] | None = None) -> None:
        rows = communes if communes is not None else load_territory()["communes"]
        with self.sessions.begin() as s:
            for c in rows:
                s.add(
                    Commune(
                        insee=c["insee"],
                        name=c["name"],
                        postal_codes=" ".join(c.get("postal_codes", [])),
                        sector=c.get("sector", ""),
                        lat=c.get("lat"),
                        lon=c.get("lon"),
                    )
                )

    def doctor(self, insee: str, name: str = "Martin") -> int:
        with self.sessions.begin() as s:
            self._rpps += 1
            e = Effecteur(
                rpps=str(self._rpps),
                last_name=name,
                rev=bump_revision(s),
                agenda_level="end_to_end",
            )
            e.practices.append(Practice(name="Cabinet", commune_insee=insee))
            s.add(e)
            s.flush()
            return e.id

    def slots(
        self,
        effecteur_id: int,
        start: datetime,
        places: int,
        *,
        capacity: int = 1,
        status: str = "open",
    ) -> list[int]:
        """``places`` places from ``start``: single slots, or ranges of ``capacity``.

        Returns one slot id per place (a range's id as many times as it has places)."""
        ids = []
        with self.sessions.begin() as s:
            rev = bump_revision(s)
            practice = stored(s, Effecteur, effecteur_id).practices[0].id
            left, i = places, 0
            while left > 0:
                cap = min(capacity, left)
                x = Slot(
                    effecteur_id=effecteur_id,
                    practice_id=practice,
                    start=start + timedelta(minutes=15 * i),
                    end=start + timedelta(minutes=15 * (i + 1)),
                    capacity=cap,
                    is_range=cap > 1,
                    status=status,
                    rev=rev,
                )
                s.add(x)
                s.flush()
                ids += [x.id] * cap
                left -= cap
                i += 1
        return ids

    # -- calls and dossiers -----------------------------------------------------------

    def ring(self, line: str = "15", desks: tuple[str, ...] = ("n1",)) -> str:
        self._calls += 1
        ref = f"call-{self._calls}"
        for desk in desks:
            self.send(desk, "call.offered", call_ref=ref, line=line, caller="0639980101")
        return ref

    def answer(self, ref: str, desk: str = "n1") -> int:
        return int(self.send(desk, "call.answered", call_ref=ref)["dossier"]["id"])

    def hang_up(self, ref: str, desk: str = "n1", reason: str = "caller_gave_up") -> None:
        self.send(desk, "call.ended", call_ref=ref, reason=reason)

    def dossier(
        self,
        *,
        priority: str = "P2",
        insee: str = "17300",
        line: str = "15",
        wait: float = 5.0,
        desk: str = "n1",
    ) -> int:
        """A call answered after ``wait`` seconds, qualified, its call ended."""
        ref = self.ring(line, (desk,))
        self.clock.tick(wait)
        d = self.answer(ref, desk)
        self.send(
            desk,
            "dossier.update",
            dossier_id=d,
            fields={"patient_last_name": "Morin", "commune_insee": insee, "motif": "fièvre"},
        )
        self.send(desk, "dossier.qualify", dossier_id=d, priority=priority)
        self.clock.tick(60)
        self.hang_up(ref, desk, "hangup")
        return d

    def snp_task(self, *, insee: str = "17300", **wanted: str) -> tuple[int, int]:
        """An SNP dossier oriented to a consultation: (dossier id, task id); ``wanted``:
        the decision's profession / specialty (none: médecine générale)."""
        d = self.dossier(insee=insee)
        self.send("mrl", "dossier.take", dossier_id=d)
        self.clock.tick(120)
        reply = self.send("mrl", "dossier.decide", dossier_id=d, **ORIENT_48H, **wanted)
        return d, int(reply["task"]["id"])

    def close_task(
        self,
        task: int,
        outcome: str,
        *,
        dossier: int | None = None,
        slot: int | None = None,
        beyond: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Take and close the search; book ``slot``, or ``beyond`` (hors dispo) first."""
        self.send("osnp", "task.take", task_id=task)
        self.clock.tick(300)
        if slot is not None:
            self.send("osnp", "slot.book", slot_id=slot, dossier_id=dossier)
        if beyond is not None:
            self.send(
                "osnp",
                "slot.book_beyond",
                effecteur_id=beyond,
                dossier_id=dossier,
                at=(self.clock.now + timedelta(hours=3)).isoformat(),
            )
        if outcome == "SANS_SOLUTION":
            self.send(
                "osnp",
                "task.close",
                task_id=task,
                outcome=outcome,
                no_solution_reason=reason or "AUCUN_CRENEAU",
            )
        else:
            at = self.clock.now + timedelta(hours=3)
            self.send(
                "osnp",
                "task.close",
                task_id=task,
                outcome=outcome,
                appointment={"with": "Dr Martin", "at": at.isoformat()},
            )
