"""The soak bench's doctors, OSNPs and supervisor: hub clients that carry every
qualified dossier to its end (the level-2 part of ``app.bench.flow``), through kills."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter
from typing import Any

from app.bench.flow import PASSWORD
from app.bench.soak_desk import ensure
from app.client.hub_client import HubClient
from app.domain.enums import Role
from app.hub.protocol import IntentName

GIVE_UP = 60.0


class Office:
    def __init__(
        self,
        urls: list[str],
        roles: list[Role],
        *,
        first_user: int,
        seed: int,
        slots: list[int] | None = None,
    ):
        self.urls = urls
        self.roles = roles
        self.first_user = first_user
        self.rng = random.Random(seed)
        self.slots = slots or []
        self.clients: list[HubClient] = []
        self.acks: list[dict[str, Any]] = []
        self.seqs: list[int] = []  # every event seq the supervisor received
        self.refusals: Counter[str] = Counter()  # slot.book on a full range, replays
        self.tasks: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
        self.busy = 0
        self.empty_polls: dict[int, bool] = {}
        self._workers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        for i, role in enumerate(self.roles):
            client = HubClient(self.urls[i % len(self.urls)], desk=f"office-{i}")
            client.urls = self.urls[i % len(self.urls) :] + self.urls[: i % len(self.urls)]
            await client.connect()
            await client.login(f"desk{self.first_user + i:02d}", PASSWORD)
            self.clients.append(client)
            if role is Role.SUPERVISEUR:
                client.on_event.append(lambda m: self.seqs.append(int(m["seq"])))
            elif role is Role.OSNP:
                self._workers.append(asyncio.create_task(self._osnp(client)))
            else:
                queue = "SNP" if role is Role.MRL else "AMU_MEDECIN"
                self._workers.append(asyncio.create_task(self._doctor(i, client, queue)))

    def idle(self) -> bool:
        return self.busy == 0 and self.tasks.empty() and all(self.empty_polls.values())

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker
        for client in self.clients:
            await client.close()

    async def _send(self, client: HubClient, type_: str, **payload: Any) -> dict[str, Any] | None:
        return await ensure(client, self.acks.append, type_, GIVE_UP, self._refused, **payload)

    def _refused(self, kind: str, **data: Any) -> None:
        self.refusals[f"{kind}:{data.get('type')}:{data.get('code', '')}"] += 1

    def _held(self, client: HubClient, done: set[int]) -> int | None:
        """A dossier this doctor took whose reply a killed hub never sent (snapshot)."""
        me = client.user["id"] if client.user is not None else None
        for d in client.snapshot["dossiers"] if client.snapshot is not None else []:
            owner = d["owner"]
            if (
                owner is not None
                and owner["id"] == me
                and d["status"] == "IN_PROGRESS"
                and d["id"] not in done
            ):
                return int(d["id"])
        return None

    async def _doctor(self, i: int, client: HubClient, queue: str) -> None:
        done: set[int] = set()
        while True:
            self.empty_polls[i] = False
            did = self._held(client, done)
            if did is None:
                took = await self._send_quiet(client, IntentName.QUEUE_NEXT, queue=queue)
                if took is None:
                    self.empty_polls[i] = True
                    await asyncio.sleep(0.3)
                    continue
                did = int(took["dossier"]["id"])
            done.add(did)
            self.busy += 1
            try:
                await self._regulate(client, did, queue)
            finally:
                self.busy -= 1

    async def _regulate(self, client: HubClient, did: int, queue: str) -> None:
        if queue == "AMU_MEDECIN":
            await self._send(
                client,
                IntentName.DOSSIER_DECIDE,
                dossier_id=did,
                decision="INTER",
                care_level="R1",
                filiere="AMU",
                means="SMUR",
            )
            await self._send(client, IntentName.DOSSIER_CLOSE, dossier_id=did)
            return
        reply = await self._send(
            client,
            IntentName.DOSSIER_DECIDE,
            dossier_id=did,
            decision="ORIENT",
            care_level="R3",
            filiere="SNP",
            orientation="CONSULTATION_48H",
            consultation_type="cabinet",
        )
        if reply is None:  # decided already (the reply was lost with a killed hub)?
            reply = await self._send(client, IntentName.DOSSIER_GET, dossier_id=did)
        task = (reply or {}).get("task")
        if task and task.get("status") != "DONE":
            await self.tasks.put((int(task["id"]), did))

    async def _send_quiet(
        self, client: HubClient, type_: str, **payload: Any
    ) -> dict[str, Any] | None:
        """queue.next: an empty queue is the normal answer, not a refusal to report."""
        from app.client.hub_client import HubError, LinkState

        if client.state is not LinkState.READY:
            return None
        try:
            reply = await client.request(type_, timeout=10, **payload)
        except HubError:
            return None
        self.acks.append({"type": type_, "dossier_id": reply["dossier"]["id"]})
        return reply

    async def _osnp(self, client: HubClient) -> None:
        while True:
            task_id, did = await self.tasks.get()
            self.busy += 1
            try:
                await self._send(
                    client, IntentName.TASK_TAKE, task_id=task_id
                )  # refused: ours already
                if self.slots:
                    await self._send(
                        client,
                        IntentName.SLOT_BOOK,
                        slot_id=self.rng.choice(self.slots),
                        dossier_id=did,
                    )
                await self._send(
                    client,
                    IntentName.TASK_CLOSE,
                    task_id=task_id,
                    outcome="RDV_CRENEAU",
                    appointment={
                        "with": "Dr Soak",
                        "at": "2030-01-01T10:00:00+00:00",
                        "place": "La Rochelle",
                    },
                )
            finally:
                self.busy -= 1
                self.tasks.task_done()
