"""Group commit: a batch of intents gives what applying them one by one gives.

Same replies (each intent sees the previous ones' changes, and its reply and events
show the dossier as that intent left it), same event order, same statistics facts,
and a refusal in the middle of a batch changes nothing for the others: the batch is
rolled back and each intent applied alone (the refusal audited once).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubClient
from app.db.audit import AuditRead
from app.db.models import Dossier, Event
from app.domain.rules import FlowError
from app.flow.service import FlowService
from app.hub.auth import Principal
from app.hub.protocol import Intent
from app.hub.service import Outcome
from app.room import Hub, hub_wire
from app.stats.hub import install as install_stats
from app.stats.projection import TABLES, rebuild
from tests.conftest import PASSWORD
from tests.flow.flow_helpers import Actor, answer_call

WIRE = hub_wire()  # every extension's intents, as a hub with all of them speaks


def intent(type_: str, **payload: Any) -> Intent:
    return WIRE.parse(json.dumps({"type": type_, **payload}))


def facts(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    with sessions() as s:
        return {
            name: sorted(tuple(row) for row in s.execute(select(table)))
            for name, table in TABLES.items()
        }


def test_a_batch_applies_its_intents_in_order_as_if_alone(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    service = FlowService(sessions)
    install_stats(service)
    n1 = Actor(service, people["n1"])
    first, second = answer_call(n1, "ref-1"), answer_call(n1, "ref-2")
    results = service.handle_batch(
        [
            (people["n1"], intent("dossier.update", dossier_id=first["id"], fields={"motif": "a"})),
            (people["n1"], intent("dossier.qualify", dossier_id=first["id"], priority="P2")),
            (
                people["n1"],
                intent("dossier.update", dossier_id=second["id"], fields={"motif": "b"}),
            ),
            (
                people["n1"],
                intent("call.offered", call_ref="ref-3", line="15", caller="0600000003"),
            ),
        ]
    )
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert len(outcomes) == len(results), results
    # Each reply and event shows the dossier as its own intent left it.
    assert outcomes[0].reply["dossier"]["status"] == "OPEN"
    assert outcomes[0].events[0].message["dossier"]["status"] == "OPEN"
    assert outcomes[1].reply["dossier"]["status"] == "QUEUED"
    assert outcomes[1].events[0].message["dossier"]["motif"] == "a"
    seqs = [out.message["seq"] for o in outcomes for out in o.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs) == 4
    with sessions() as s:
        logged = s.scalars(select(Event.seq).where(Event.seq >= seqs[0]).order_by(Event.seq))
        assert list(logged) == seqs  # committed, in the batch's order
    # The statistics facts, projected once for the batch, are those of the whole log.
    projected = facts(sessions)
    with sessions.begin() as s:
        rebuild(s.connection())
    assert facts(sessions) == projected


def test_an_intent_reading_the_log_sees_the_events_of_the_batch_before_it(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    """A batch inserts its events together once its handlers have run: a handler that
    reads the log (a dossier's timeline) still sees those of the intents before it."""
    service = FlowService(sessions)
    n1 = Actor(service, people["n1"])
    d = answer_call(n1, "ref-1")
    results = service.handle_batch(
        [
            (people["n1"], intent("dossier.update", dossier_id=d["id"], fields={"motif": "a"})),
            (people["n1"], intent("dossier.get", dossier_id=d["id"])),
            (people["n1"], intent("dossier.qualify", dossier_id=d["id"], priority="P2")),
        ]
    )
    outcomes = [r for r in results if isinstance(r, Outcome)]
    assert len(outcomes) == 3, results
    update_seq = outcomes[0].events[0].message["seq"]
    timeline = outcomes[1].reply["timeline"]
    assert timeline[-1]["seq"] == update_seq and timeline[-1]["type"] == "dossier.updated"
    assert outcomes[2].events[0].message["seq"] > update_seq


def test_a_refusal_inside_a_batch_leaves_the_other_intents_applied_once(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    service = FlowService(sessions)
    n1 = Actor(service, people["n1"])
    mine, other = answer_call(n1, "ref-1"), answer_call(n1, "ref-2")
    hidden = answer_call(Actor(service, people["n1b"]), "ref-3")  # n1b's, unseen by n1
    sup: Principal = people["sup"]
    results = service.handle_batch(
        [
            (people["n1"], intent("dossier.update", dossier_id=mine["id"], fields={"motif": "x"})),
            (people["mrl"], intent("dossier.qualify", dossier_id=other["id"], priority="P2")),
            (people["n1"], intent("dossier.get", dossier_id=hidden["id"])),
            (sup, intent("dossier.note", dossier_id=other["id"], text="vu")),
        ]
    )
    assert isinstance(results[0], Outcome) and isinstance(results[3], Outcome)
    assert isinstance(results[1], FlowError) and results[1].code == "forbidden"
    assert isinstance(results[2], FlowError) and results[2].code == "not_found"
    with sessions() as s:
        mine_now, other_now = s.get(Dossier, mine["id"]), s.get(Dossier, other["id"])
        assert mine_now is not None and mine_now.motif == "x"
        assert other_now is not None and other_now.status == "OPEN"
        for dossier_id, type_ in ((mine["id"], "dossier.updated"), (other["id"], "dossier.note")):
            count = s.scalar(
                select(func.count()).where(Event.dossier_id == dossier_id, Event.type == type_)
            )
            assert count == 1, "applied once, though the batch was rolled back and replayed"
        refused = s.scalars(select(AuditRead).where(AuditRead.dossier_id == hidden["id"])).all()
        assert [(r.username, r.granted) for r in refused] == [("n1", False)]


async def test_desks_intents_share_transactions_under_load(
    hub: Hub, sessions: sessionmaker[Session]
) -> None:
    clients = []
    for name in ("n1", "n1b", "sup"):
        client = HubClient(hub.url, desk=name, reconnect=False)
        await client.connect()
        await client.login(name, PASSWORD)
        clients.append(client)

    async def desk(client: HubClient, k: int) -> list[str]:
        acked = []
        for n in range(40):
            ref = f"load-{k}-{n}"
            await client.request("call.offered", call_ref=ref, line="15", caller="0600000000")
            acked.append(ref)
        return acked

    try:
        done = await asyncio.gather(*(desk(c, k) for k, c in enumerate(clients)))
    finally:
        for client in clients:
            await client.close()
    assert hub.group.intents == 120
    assert hub.group.batches < hub.group.intents, "three desks at once: some batches of several"
    with sessions() as s:
        logged = s.scalar(select(func.count()).where(Event.type == "call.offered"))
    assert logged == sum(len(refs) for refs in done) == 120


def test_a_batch_whose_commit_fails_is_not_applied_again(
    sessions: sessionmaker[Session], people: dict[str, Principal]
) -> None:
    """Whether a failed COMMIT took effect is unknown (a lost connection): applying the
    intents again could apply them twice, so the desks are told it failed."""
    service = FlowService(sessions)
    n1 = Actor(service, people["n1"])
    d = answer_call(n1, "ref-1")

    commits: list[Session] = []

    def lost_connection(session: Session) -> None:
        commits.append(session)
        if len(commits) == 1:  # the batch's COMMIT; any later one would go through
            raise OSError("connection lost during COMMIT")

    batch = [
        (people["n1"], intent("dossier.note", dossier_id=d["id"], text="un")),
        (people["n1"], intent("dossier.note", dossier_id=d["id"], text="deux")),
    ]
    event.listen(sessions, "before_commit", lost_connection)
    try:
        results = service.handle_batch(batch)
    finally:
        event.remove(sessions, "before_commit", lost_connection)
    assert [type(r) for r in results] == [OSError, OSError]
    with sessions() as s:
        notes = s.scalar(select(func.count()).where(Event.type == "dossier.note"))
    assert notes == 0 and len(commits) == 1, "not replayed one by one"
