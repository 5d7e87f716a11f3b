"""The Hub Santé connector against a real RabbitMQ (Debian's rabbitmq-server, started
here on 127.0.0.1 with a TLS listener that logs clients in by their certificate), the
Hub Santé's dispatcher played by the test and the SAMU's LRM on the other side:
an SNP case from the LRM lands in the MRL's queue, an update updates it, the decision
and the OSNP's appointment go back to the case; every outbound message passes the
official schemas; a broken message is refused with RS-ERROR and kept for the
supervisor; broker and hub restarts lose and duplicate nothing."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Dossier
from app.db.types import utcnow
from app.interop.hubsante import messages
from app.interop.hubsante.broker import Broker
from app.interop.hubsante.models import HsJournal, HsOutbox
from app.interop.hubsante.peer import Dispatcher, Peer
from tests.flow.flow_helpers import ORIENT_48H
from tests.hub.desks import logged_client
from tests.interop.envelopes import message
from tests.interop.hubsante_fixtures import (
    LRM,
    SAS,
    connector,
    count,
    needs_rabbitmq,
    start_hub,
    start_peers,
    stop_peers,
    unique,
)
from tests.rows import stored
from tests.waits import until

pytestmark = needs_rabbitmq


@pytest.fixture
async def peers(broker: Broker) -> AsyncIterator[tuple[Dispatcher, Peer]]:
    dispatcher, (lrm,) = await start_peers(broker, LRM)
    yield dispatcher, lrm
    await stop_peers(dispatcher, [lrm])


CASE = "fr.health.samu017.DRFR15017261124001"


def snp_case(case_id: str = CASE, **changes: Any) -> dict[str, Any]:
    """An SNP case as the LRM shares it (shape of SAMU-Hub-Modeles' RS-EDA examples)."""
    now = messages.iso(utcnow())
    case: dict[str, Any] = {
        "caseId": case_id,
        "senderCaseId": case_id.rsplit(".", 1)[1],
        "creation": now,
        "perimeter": "SNP",
        "owner": "fr.health.samu017",
        "qualification": {
            "origin": "15",
            "details": {"priority": "P2", "attribution": "DRM.MRL"},
            "healthMotive": {"code": "M03.08", "label": "Signes d’AVC"},
        },
        "location": {
            "city": {"name": "La Rochelle", "inseeCode": "17300"},
            "detailedAddress": {"complete": "3 quai Duperré"},
        },
        "initialAlert": {
            "reception": now,
            "caller": {
                "callerContact": {"channel": "PERSONNE", "type": "TEL", "detail": "+33639980101"},
                "type": "SUJET",
            },
            "notes": [{"creation": now, "freetext": "fièvre depuis trois jours"}],
        },
        "patient": [
            {
                "patientId": f"{case_id.rsplit('.', 1)[0]}.patient.1",
                "identity": {
                    "nonStrictFeatures": {
                        "complete": "Zoé Morin",
                        "lastName": "Morin",
                        "firstName": "Zoé",
                    },
                    "strictFeatures": {"sex": "F"},
                },
                "detail": {"age": "P34Y"},
            }
        ],  # fmt: skip
    }
    case.update(changes)
    return case


def envelope(case: dict[str, Any], kind: str = "Report") -> dict[str, Any]:
    return messages.build(LRM, SAS, kind, "createCaseHealth", case, now=utcnow())


def refs(lrm: Peer) -> list[str]:
    return [message(m)["reference"]["distributionID"]
            for m in unique(lrm.received["ack"])]  # fmt: skip


async def test_round_trip_lrm_to_mrl_to_osnp_and_back(
    broker: Broker, peers: tuple[Dispatcher, Peer], db_url: str,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    dispatcher, lrm = peers
    hub = await start_hub(db_url, broker)
    try:
        first = envelope(snp_case())
        await lrm.publish(first)
        await lrm.wait_for("ack", 1)
        assert refs(lrm) == [first["distributionID"]]
        with sessions() as s:
            d = s.scalar(select(Dossier))
            assert d is not None
            assert (d.queue, d.track, d.status, d.priority) == ("SNP", "SNP", "QUEUED", "P2")
            assert (d.caller_number, d.patient_last_name, d.patient_first_name) == (
                "0639980101",
                "Morin",
                "Zoé",
            )
            assert (d.patient_sex, d.patient_age, d.commune_insee) == ("F", 34, "17300")
            assert d.address == "3 quai Duperré"
            assert d.motif == "Signes d’AVC — fièvre depuis trois jours"
            dossier_id = d.id
        # A later update of the same case updates the dossier; a redelivery changes nothing.
        update = envelope(snp_case(location={"city": {"name": "La Rochelle", "inseeCode": "17300"},
                                             "detailedAddress": {"complete": "5 rue Gargoulleau"}}),
                          "Update")  # fmt: skip
        await lrm.publish(update)
        await lrm.publish(copy.deepcopy(update))
        await lrm.wait_for("ack", 2)
        await until(lambda: connector(hub).counts["duplicate"] == 1, "redelivery recognised")
        assert refs(lrm) == [first["distributionID"], update["distributionID"]]
        assert count(sessions, Dossier) == 1
        with sessions() as s:
            assert stored(s, Dossier, dossier_id).address == "5 rue Gargoulleau"
        # The MRL decides, the OSNP finds the appointment: both go back to the case.
        mrl, osnp = await logged_client(hub, "mrl"), await logged_client(hub, "osnp")
        queued = (await mrl.request("queue.list", queue="SNP"))["dossiers"]
        assert [x["id"] for x in queued] == [dossier_id]
        await mrl.request("dossier.take", dossier_id=dossier_id)
        task = (await mrl.request("dossier.decide", dossier_id=dossier_id, **ORIENT_48H))["task"]
        await osnp.request("task.take", task_id=task["id"])
        at = (utcnow() + timedelta(hours=20)).replace(microsecond=0)
        await osnp.request("task.close", task_id=task["id"], outcome="RDV_CRENEAU",
                           appointment={"with": "Dr Hérault", "at": at.isoformat(),
                                        "place": "Cabinet du Port"})  # fmt: skip
        got = await lrm.wait_for("message", 2)
        for m in got:
            assert messages.problems(m) == []  # the official schemas, as the LRM checks them
            assert m["senderID"] == SAS and m["distributionKind"] == "Update"
        decided, closed = (message(m)["createCaseHealth"] for m in got)
        assert decided["caseId"] == closed["caseId"] == "fr.health.samu017.DRFR15017261124001"
        assert decided["decision"][0]["decisionType"] == "ORIENT"
        assert closed["qualification"]["details"]["status"] == "CLOTURE"
        rdv = {c["key"]: c["value"] for c in closed["additionalInformation"]["customMap"]}
        assert rdv == {"sas.rdv.debut": messages.iso(at), "sas.rdv.avec": "Dr Hérault",
                       "sas.rdv.lieu": "Cabinet du Port"}  # fmt: skip
        # Our messages are acknowledged by the LRM's RC-REF: the journal says so.
        for m in got:
            await lrm.publish(messages.reference(LRM, messages.parse(
                __import__("json").dumps(m).encode()), utcnow()))  # fmt: skip
        acked = (HsJournal, HsJournal.status == "acked")
        await until(lambda: count(sessions, *acked) == 2, "both acknowledged", timeout=4)
        assert dispatcher.inconsistent == 0
        await mrl.close()
        await osnp.close()
    finally:
        await hub.stop()


async def test_a_broken_message_is_refused_with_rs_error_and_kept(
    broker: Broker, peers: tuple[Dispatcher, Peer], db_url: str,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    _dispatcher, lrm = peers
    hub = await start_hub(db_url, broker)
    try:
        broken = envelope(snp_case(caseId="SAMU-17-0001"))
        del message(broken)["createCaseHealth"]["owner"]
        await lrm.publish(broken)
        errors = await lrm.wait_for("info", 1)
        error = message(errors[0])["error"]
        assert messages.problems(errors[0]) == []
        assert error["errorCode"] == {"statusCode": 300, "statusString": "INVALID_MESSAGE"}
        assert error["referencedDistributionID"] == broken["distributionID"]
        assert "'owner' is a required property" in error["errorCause"]
        assert "caseId : 'SAMU-17-0001' does not match" in error["errorCause"]
        assert count(sessions, Dossier) == 0
        sup = await logged_client(hub, "sup")
        kept = (await sup.request("hubsante.journal"))["messages"]
        assert [(m["distribution_id"], m["status"]) for m in kept] == [
            (broken["distributionID"], "refused")
        ]
        assert kept[0]["body"]["distributionID"] == broken["distributionID"]
        n1 = await logged_client(hub, "n1")
        from app.client.hub_client import HubError

        with pytest.raises(HubError) as refused:
            await n1.request("hubsante.journal")
        assert refused.value.code == "forbidden"
        await sup.close()
        await n1.close()
    finally:
        await hub.stop()


async def test_broker_and_hub_restarts_lose_and_double_nothing(
    broker: Broker, peers: tuple[Dispatcher, Peer], db_url: str,
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    dispatcher, lrm = peers
    back: set[str] = set()  # the peers whose robust connection came back (channels restored)
    for name, peer in (("dispatcher", dispatcher), ("lrm", lrm)):
        assert peer.connection is not None
        peer.connection.reconnect_callbacks.add(lambda *_, name=name: back.add(name))
    hub = await start_hub(db_url, broker)
    cases = [f"fr.health.samu017.DRFR1501726112410{i}" for i in range(4)]
    try:
        await lrm.publish(envelope(snp_case(cases[0])))
        await lrm.wait_for("ack", 1)
        # The broker goes away; the MRL works on: the messages wait in the outbox.
        broker.stop()
        mrl = await logged_client(hub, "mrl")
        with sessions() as s:
            dossier_id = s.scalar(select(Dossier.id))
        await mrl.request("dossier.take", dossier_id=dossier_id)
        await mrl.request("dossier.decide", dossier_id=dossier_id, **ORIENT_48H)
        assert count(sessions, HsOutbox, HsOutbox.sent_at.is_(None)) == 1
        # ... and the hub too, before the broker is back.
        await mrl.close()
        await hub.stop()
        broker.start()
        # While the hub is down, the LRM shares three more cases and updates one.
        await until(lambda: back == {"dispatcher", "lrm"}, "the peers' connections come back")
        sent = [envelope(snp_case(c)) for c in cases[1:]]
        sent.append(envelope(snp_case(cases[1], location={"city": {"inseeCode": "17300"}}),
                             "Update"))  # fmt: skip
        for e in sent:
            await lrm.publish(e)
        hub = await start_hub(db_url, broker)
        await until(
            lambda: len(refs(lrm)) >= 5 and unique(lrm.received["message"]),
            "five cases acknowledged and the decision sent",
            timeout=20,
        )
        assert sorted(refs(lrm)) == sorted([m["distributionID"] for m in sent] + [refs(lrm)[0]])
        assert len(set(refs(lrm))) == 5
        assert count(sessions, Dossier) == 4  # one per case, the update applied to its own
        assert len(unique(lrm.received["message"])) == 1  # the decision, once
        # The LRM may receive the decision just before the hub records the broker's
        # confirmation (sent_at): the outbox empties right after.
        await until(
            lambda: count(sessions, HsOutbox, HsOutbox.sent_at.is_(None)) == 0,
            "the outbox marks the decision sent",
            timeout=10,
        )
        assert count(sessions, HsJournal, HsJournal.direction == "in",
                     HsJournal.status == "applied") == 5  # fmt: skip
    finally:
        await hub.stop()


def test_bench_command_prints_messages_per_second(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from app.cli import main

    assert main(["bench", "hubsante", "--messages", "30", "--cases", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["acknowledged"] == 30 and out["connector_counts"]["applied"] == 30
    assert out["connector_messages_per_s"] > 0 and out["baseline_messages_per_s"] > 0
