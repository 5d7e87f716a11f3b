"""One headless N1 desk of the soak bench, in its own process (the chaos kills it -9).

A real SIP line (``sasdesk phone``-style: registered at the room's Kamailio, answers
each call, records it) tied to a hub client with every hub address: it reports the
call to the hub, opens the dossier, types it and qualifies it (the N1 part of
``app.bench.flow``), and uploads each recording (``app.client.recordings``). Every
intent the hub acknowledged is appended to ``acks.jsonl`` (the bench checks each is
in the database after the run). On stdout, one JSON line per milestone: ``ready``
(logged in, snapshot received), ``registered`` (SIP), ``uploaded``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from app.client.hub_client import HubClient, HubError, LinkState
from app.client.recordings import RecordingUploader
from app.hub.protocol import IntentName

RETRY = frozenset({"disconnected", "timeout", "unreachable", "internal"})


def say(kind: str, **data: Any) -> None:
    print(json.dumps({"ev": kind, "t": time.time(), **data}), flush=True)


async def ensure(
    client: HubClient,
    ack: Callable[[dict[str, Any]], None],
    type_: str,
    give_up: float,
    report: Callable[..., None] = say,
    **payload: Any,
) -> dict[str, Any] | None:
    """Send until the hub answers (failing over, after kills); None if it refuses.

    Each acknowledged intent is recorded (``ack``) with what identifies its effect."""
    deadline = time.monotonic() + give_up
    while time.monotonic() < deadline:
        if client.state is not LinkState.READY:
            await asyncio.sleep(0.1)
            continue
        try:
            # A slow hub is waited for, not sent the intent again (a retry storm would
            # bury it): only a lost connection sends it again.
            reply = await client.request(type_, timeout=60, **payload)
        except HubError as exc:
            if exc.code in RETRY:
                await asyncio.sleep(0.1)
                continue
            report("refused", type=type_, code=exc.code)
            return None
        record = {
            "type": type_,
            **{
                k: v
                for k, v in payload.items()
                if k in ("call_ref", "dossier_id", "task_id", "slot_id")
            },
        }
        for key in ("dossier", "task"):
            if isinstance(reply.get(key), dict):
                record[f"{key}_id"] = reply[key]["id"]
        ack(record)
        return reply
    report("gave_up", type=type_)
    return None


class SoakDesk:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.data = Path(args.data)
        self.data.mkdir(parents=True, exist_ok=True)
        self.rng = random.Random(f"{args.seed}-{args.user}-{time.time()}")
        self.client = HubClient(
            args.hubs.split(","), desk=args.user, journal=self.data / "outbox.json"
        )
        self.acks = (self.data / "acks.jsonl").open("a", encoding="utf-8")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.busy: set[int] = set()  # dossiers this run is carrying
        self.calls: dict[str, asyncio.Task[None]] = {}  # each call's last intent
        self.line: Any = None

    # -- hub ------------------------------------------------------------------------

    async def ensure(self, type_: str, **payload: Any) -> dict[str, Any] | None:
        return await ensure(self.client, self.ack, type_, self.args.give_up, **payload)

    def ack(self, record: dict[str, Any]) -> None:
        self.acks.write(json.dumps(record) + "\n")
        self.acks.flush()  # in the kernel's hands: survives kill -9

    async def connect(self) -> None:
        while True:
            try:
                await self.client.connect()
                # Ten desks logging in at once on a loaded machine: argon2 takes its time.
                await self.client.login(self.args.user, self.args.password, timeout=120)
                return
            except HubError:
                self.client.url = self.client.urls[
                    (self.client.urls.index(self.client.url) + 1) % len(self.client.urls)
                ]
                await asyncio.sleep(0.2)

    def on_state(self, state: LinkState, _detail: str) -> None:
        if state is LinkState.READY:
            say("ready", hub=self.client.url)
            assert self.loop is not None
            self.loop.create_task(self.resume_dossiers())

    async def resume_dossiers(self) -> None:
        """After a restart: carry on with this desk's dossiers still at N1."""
        snapshot = self.client.snapshot
        me = self.client.user["id"] if self.client.user is not None else None
        for d in snapshot["dossiers"] if snapshot is not None else []:
            owner = d["owner"]
            if (
                owner is not None
                and owner["id"] == me
                and d["status"] == "OPEN"
                and d["id"] not in self.busy
            ):
                await self.carry(d["id"], d["number"])

    async def carry(self, did: int, n: str) -> None:
        """The N1 part of the flow (app.bench.flow): type, qualify, close a P3."""
        if did in self.busy:
            return
        self.busy.add(did)
        try:
            await self.ensure(
                IntentName.DOSSIER_UPDATE,
                dossier_id=did,
                fields={
                    "patient_last_name": "Soak",
                    "patient_age": self.rng.randrange(90),
                    "motif": "Fièvre depuis hier",
                    "commune_insee": "17300",
                },
            )
            draw = self.rng.random()
            priority: str | None = "P3" if draw < 0.1 else "P0" if draw < 0.2 else "P2"
            if (
                await self.ensure(IntentName.DOSSIER_QUALIFY, dossier_id=did, priority=priority)
                is None
            ):
                # Qualified already (its reply lost with a killed hub): a P3 is still ours.
                got = await self.ensure(IntentName.DOSSIER_GET, dossier_id=did)
                d = (got or {}).get("dossier") or {}
                priority = d.get("priority") if d.get("status") == "OPEN" else None
            if priority == "P3":
                await self.ensure(
                    IntentName.DOSSIER_CLOSE, dossier_id=did, reason="information donnée"
                )
        finally:
            self.busy.discard(did)

    # -- line -----------------------------------------------------------------------

    def on_line(self, event: Any) -> None:
        kind = str(event.kind)
        assert self.loop is not None
        if kind == "registered":
            say("registered")
        elif kind == "ringing":
            self.chain(
                event.call_id,
                lambda: self.ensure(
                    IntentName.CALL_OFFERED,
                    call_ref=event.call_id,
                    line=event.line or "15",
                    caller=event.caller,
                ),
            )
            timer = threading.Timer(self.args.answer_after, self.line.answer, (event.call_id,))
            timer.daemon = True
            timer.start()
        elif kind == "answered":
            self.chain(event.call_id, lambda: self.answered(event.call_id))
            hang = threading.Timer(self.args.max_call, self.line.hangup, (event.call_id,))
            hang.daemon = True  # a caller lost with a killed proxy never sends BYE
            hang.start()
        elif kind == "ended":
            self.chain(
                event.call_id,
                lambda: self.ensure(
                    IntentName.CALL_ENDED, call_ref=event.call_id, reason=event.reason
                ),
            )

    def chain(self, call_ref: str, step: Callable[[], Awaitable[Any]]) -> None:
        """A call's intents in the line's order, each after the previous one's reply
        (retries after a kill must not put call.answered before call.offered)."""
        previous = self.calls.get(call_ref)

        async def run() -> None:
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            await step()

        assert self.loop is not None
        self.calls[call_ref] = self.loop.create_task(run())

    async def answered(self, call_ref: str) -> None:
        reply = await self.ensure(IntentName.CALL_ANSWERED, call_ref=call_ref)
        if reply is not None:
            d = reply["dossier"]
            await self.carry(d["id"], d["number"])

    async def run(self) -> None:
        from telephony.sip import SipConfig, SipLine

        self.loop = asyncio.get_running_loop()
        self.client.on_state.append(self.on_state)
        await self.connect()
        host, port = self.args.sip.rsplit(":", 1)
        self.line = SipLine(
            SipConfig(
                server=host,
                port=int(port),
                user=self.args.sip_user,
                password=self.args.sip_password,
                domain=self.args.domain,
                sip_port=self.args.sip_port,
                record_dir=self.data / "rec",
                expires=30,
                keepalive=1.0,
                retry_min=0.2,
                retry_max=1.0,
                max_calls=1,
            )
        )
        uploader = RecordingUploader(self.client, self.data / "recordings.json", self.data / "rec")
        uploader.attach(self.line)  # first: the call is journalled before it is reported
        self.line.subscribe(lambda ev: self.loop.call_soon_threadsafe(self.on_line, ev))
        uploader.start()
        self.line.start()
        sent = 0
        while True:  # until killed or stopped (SIGTERM)
            await asyncio.sleep(0.2)
            if len(uploader.uploaded) > sent:
                for ref in uploader.uploaded[sent:]:
                    say("uploaded", call_ref=ref)
                sent = len(uploader.uploaded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.bench.soak_desk")
    parser.add_argument("--hubs", required=True, help="ws://…,ws://…")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--sip", required=True, metavar="HOST:PORT")
    parser.add_argument("--sip-user", required=True)
    parser.add_argument("--sip-password", required=True)
    parser.add_argument("--sip-port", type=int, default=0)
    parser.add_argument("--domain", default="sas.local")
    parser.add_argument("--data", required=True)
    parser.add_argument("--answer-after", type=float, default=0.05)
    parser.add_argument("--max-call", type=float, default=8.0)
    parser.add_argument("--give-up", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(SoakDesk(args).run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
