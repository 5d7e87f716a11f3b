"""Group commit: intents waiting for the single writer are applied in one transaction.

Under load, desks' intents queue for the writer. Each used to pay its own transaction:
on PostgreSQL the connection check, BEGIN, the statistics projection's read and write,
NOTIFY and COMMIT are round trips to the server, most of an intent's time on the
writer. Here the writer takes every intent waiting (up to ``MAX_BATCH``) and hands
them to :meth:`HubService.handle_batch`, which applies them one after the other in
one transaction: each intent sees the previous ones' changes, exactly as if they had
been applied alone in that order, and the projection and NOTIFY run once for all.

Nothing is acknowledged before its transaction commits: the replies go out only when
``handle_batch`` has returned, and a batch in which any intent fails is rolled back
whole and its intents applied again one by one (so a refusal or a conflict behaves,
and is audited, exactly as without batching). A desk killed or a hub killed -9 loses
no acknowledged intent: an unacknowledged one is retried by its desk.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from concurrent.futures import Executor
from typing import TYPE_CHECKING

from app.hub import protocol as p
from app.hub.auth import Principal

if TYPE_CHECKING:
    from app.hub.service import HubService, Outcome

#: The most intents in one transaction: row locks are held until it commits, so a
#: batch stays short (on PostgreSQL another hub may wait for one of its dossiers).
#: ``SASDESK_MAX_BATCH=1`` in a hub's environment turns group commit off (the
#: benchmark's same-machine comparison).
MAX_BATCH = int(os.environ.get("SASDESK_MAX_BATCH", "16"))
#: Batches one turn of the writer applies while intents keep arriving: each turn costs
#: the loop a hand-over to the writer's thread and a wake-up when it is done.
ROUNDS = 4

_Waiting = tuple[Principal, p.Intent, "asyncio.Future[Outcome]"]
_Settled = tuple["asyncio.Future[Outcome]", "Outcome | BaseException"]


class GroupCommit:
    """Feeds the single writer with batches of intents; lives on the hub's event loop."""

    def __init__(self, service: HubService, writer: Executor, max_batch: int = MAX_BATCH):
        self.service = service
        self.writer = writer
        self.max_batch = max_batch
        #: Appended on the loop, taken by the writer thread (deque ends are thread-safe).
        self._waiting: deque[_Waiting] = deque()
        self._draining = False  # read and written on the loop only
        #: How many batches and intents went through (the benchmark reports the mean size).
        self.batches = 0
        self.intents = 0

    async def submit(self, actor: Principal, intent: p.Intent) -> Outcome:
        """Apply one intent on the writer; returns once its transaction has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._waiting.append((actor, intent, future))
        if not self._draining:
            self._start(loop)
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._draining = True
        self.writer.submit(self._drain, loop)

    def _settled(
        self, loop: asyncio.AbstractEventLoop, settled: list[_Settled], last: bool
    ) -> None:
        """On the loop: a batch's outcomes; after the turn's last, the next turn if more
        intents arrived while the writer was busy."""
        _settle_all(settled)
        if last:
            self._draining = False
            if self._waiting:
                self._start(loop)

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the writer thread: batches while intents wait (at most ``ROUNDS``, so that
        the writer's other work is not put off), each batch's outcomes sent back to the
        loop in order, in one wake-up of the loop per batch (the last one also ends the
        turn: no second wake-up for the writer's job being done)."""
        last = False
        try:
            for round_ in range(ROUNDS):
                batch: list[_Waiting] = []
                while self._waiting and len(batch) < self.max_batch:
                    batch.append(self._waiting.popleft())
                if not batch:
                    return
                results: list[Outcome | BaseException]
                try:
                    results = list(self.service.handle_batch([(a, i) for a, i, _ in batch]))
                except BaseException as exc:  # never leave a desk waiting for a reply
                    results = [exc] * len(batch)
                self.batches += 1
                self.intents += len(batch)
                settled = [(f, r) for (_a, _i, f), r in zip(batch, results, strict=True)]
                last = round_ + 1 == ROUNDS or not self._waiting
                loop.call_soon_threadsafe(self._settled, loop, settled, last)
                if last:
                    return
        finally:
            if not last:  # the turn ended without its last batch's message
                loop.call_soon_threadsafe(self._settled, loop, [], True)


def _settle_all(settled: list[_Settled]) -> None:
    for future, result in settled:
        _settle(future, result)


def _settle(future: asyncio.Future[Outcome], result: Outcome | BaseException) -> None:
    if future.done():  # the desk's connection went away meanwhile
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)
