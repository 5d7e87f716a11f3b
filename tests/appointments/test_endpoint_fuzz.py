"""2,000 mutated appointments through the real endpoint (HTTPS, mutual TLS, a real
database): each is answered as the guide says (201/200, or 400/422 with an
OperationOutcome naming the element, never a 500), every one is journalled, and a
refused one leaves the appointments exactly as they were.

The mutations are drawn from a seeded generator (the run is the same every time): a
value anywhere in the guide's booked example replaced by another of any JSON type, a
key removed, a list emptied or doubled, the RPPS without its "8", start and end
swapped, a status of the guide or not, the other profile URL or a wrong one, a wrong
resourceType, the body cut short or not JSON at all; sent as a POST or a PUT (the
identifier in the address the body's, or another). Accepted ones change the stored
appointment, so later mutations meet fates already final, replays and updates.
"""

from __future__ import annotations

import copy
import json
import random
import time
from typing import Any

from sqlalchemy import func, select

from app.appointments.models import Appointment, AppointmentMessage
from tests.appointments.test_endpoint import Peer, peer  # noqa: F401 - a fixture
from tests.appointments.test_fhir import BOOKED

COUNT = 2000
#: Bounded in time too (the machine may be shared): well above what it takes.
SECONDS = 600
SEED = 17
STATUSES = ["booked", "fulfilled", "noshow", "cancelled", "proposed", "pending", "BOOKED", ""]
IDS = ["b6e39355-8a61-4556-b340-36f7b95fec6a", "rdv-2", "rdv-3"]
PROFILES = [
    "http://interopsante.org/fhir/StructureDefinition/FrAppointmentSAS",
    "https://interop.esante.gouv.fr/ig/fhir/sas/StructureDefinition/sas-cpts-appointment-aggregator",
    "http://example.org/fhir/StructureDefinition/Autre",
]


def _any(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 2 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, 3.5, 810100050075])
    if kind == 3:
        return rng.choice(["", "x" * rng.randrange(1, 300), "2022-13-40T25:00:00", "é\u0000✓"])
    if kind == 4:
        return rng.choice(STATUSES)
    if kind == 5:
        return f"2022-09-04T1{rng.randrange(10)}:00:00+01:00"
    if kind == 6:
        return [_any(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice(["value", "system", "code", "x"]): _any(rng, depth + 1)}


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*prefix, i))
    return found


def _at(resource: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    parent = resource
    for step in path[:-1]:
        parent = parent[step]
    return parent, path[-1]


def mutate(rng: random.Random) -> tuple[bytes, str]:
    """One mutated body and the identifier the PUT's address names."""
    r = copy.deepcopy(BOOKED)
    r["identifier"][0]["value"] = rng.choice(IDS)
    r["status"] = rng.choice(STATUSES[:4])
    for _ in range(rng.randrange(1, 4)):
        move = rng.randrange(10)
        if move <= 2:  # any value anywhere, replaced or removed
            parent, key = _at(r, rng.choice(_paths(r)))
            if rng.random() < 0.3 and isinstance(parent, dict):
                parent.pop(key, None)
            else:
                parent[key] = _any(rng)
        elif move == 3:
            lists = [p for p in _paths(r) if isinstance(_at(r, p)[0][_at(r, p)[1]], list)]
            if lists:
                parent, key = _at(r, rng.choice(lists))
                parent[key] = [] if rng.random() < 0.5 else parent[key] * 2
        elif move == 4:  # the RPPS without its "8", or unknown
            try:
                ident = r["participant"][0]["actor"]["identifier"]
                ident["value"] = rng.choice(["10100050075", "810999999999", "8"])
            except (KeyError, IndexError, TypeError):
                pass
        elif move == 5:
            r["start"], r["end"] = r.get("end"), r.get("start")
        elif move == 6:
            r["status"] = rng.choice(STATUSES)
        elif move == 7:
            r["meta"] = {"profile": [rng.choice(PROFILES)]}
        elif move == 8:
            r["resourceType"] = rng.choice(["Appointment", "Patient", "Bundle", 7])
        else:
            r["start"] = f"2022-09-04T1{rng.randrange(10)}:00:00+01:00"
    raw = json.dumps(r).encode()
    cut = rng.random()
    if cut < 0.03:
        raw = raw[: rng.randrange(len(raw))]
    elif cut < 0.05:
        raw = rng.choice([b"", b"<Appointment/>", b"\xff\xfe", b"null", b"[]"])
    try:
        ident = r["identifier"][0]["value"]
    except (KeyError, IndexError, TypeError):
        ident = None
    ident = ident if isinstance(ident, str) and rng.random() < 0.9 else rng.choice(IDS)
    return raw, ident


def stored(p: Peer) -> list[tuple[Any, ...]]:
    with p.sessions() as s:
        rows = s.execute(
            select(
                Appointment.id,
                Appointment.identifier,
                Appointment.status,
                Appointment.start,
                Appointment.end,
                Appointment.version,
                Appointment.regulator_id,
                Appointment.effecteur_id,
            ).order_by(Appointment.id)
        )
        return [tuple(row) for row in rows]


def journalled(p: Peer) -> int:
    with p.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(AppointmentMessage)) or 0)


async def test_2000_mutated_appointments_are_answered_and_refusals_change_nothing(
    peer: Peer,  # noqa: F811
) -> None:
    rng = random.Random(SEED)
    answers: dict[int, int] = {}
    began = time.monotonic()
    before, lines = stored(peer), journalled(peer)
    async with peer.client(peer.editor) as http:
        for n in range(COUNT):
            raw, ident = mutate(rng)
            headers = {"Content-Type": "application/fhir+json"}
            if rng.random() < 0.5:
                answer = await http.post("/Appointment", content=raw, headers=headers)
            else:
                query = {"identifier": f"urn:oid:1.1.111.1.11.1.1.1|{ident}"}
                if rng.random() < 0.05:
                    query = {}
                answer = await http.put("/Appointment", params=query, content=raw, headers=headers)
            answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
            assert answer.status_code in (200, 201, 400, 422), (n, answer.text, raw[:300])
            now, lines_now = stored(peer), journalled(peer)
            assert lines_now == lines + 1, (n, "every message is journalled once")
            if answer.status_code >= 400:
                outcome = answer.json()
                assert outcome["resourceType"] == "OperationOutcome", outcome
                assert outcome["issue"] and all(i.get("expression") for i in outcome["issue"])
                assert now == before, (n, "a refused message changed the appointments")
            else:
                assert answer.headers["Location"].startswith("/fhir/Appointment/")
            before, lines = now, lines_now
            assert time.monotonic() - began < SECONDS, f"only {n} sent in {SECONDS} s"
    # The run met every kind of answer, not only refusals.
    assert answers.get(201, 0) >= 1 and answers.get(200, 0) >= 1, answers
    assert answers.get(400, 0) >= 20 and answers.get(422, 0) >= 100, answers
    print("answers:", dict(sorted(answers.items())), f"in {time.monotonic() - began:.1f} s")
