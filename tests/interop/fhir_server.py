"""An agenda editor's FHIR endpoint for the tests: Bundles in the SAS guide's shapes
(slot aggregation search answers), served on 127.0.0.1 by a thread.

``/<editor>/Slot?…``: ``normal`` answers at once, ``slow`` after ``slow_seconds``,
``failing`` with HTTP 500 and an OperationOutcome, ``paged`` in three pages linked by
``next`` (the second and third pages' slots use the Schedule of the first page).

``/<ror-…>/HealthcareService?…`` stands for the ROR (ROR-fhir-documentation,
RORHealthcareService with its Organization included): ``ror-normal``, ``ror-slow``,
``ror-failing`` alike, ``ror-paged`` in three pages where an offer's Organization
comes on a later page and the last offer's zone holds a code that is no commune."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SEC = "https://mos.esante.gouv.fr/NOS/TRE_R314-TypeCreneau/FHIR/TRE-R314-TypeCreneau"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
RPPS_OID = "urn:oid:1.2.250.1.71.4.2.1"


def entry(base: str, res: dict[str, Any], mode: str = "include") -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{res['resourceType']}/{res['id']}",
        "resource": res,
        "search": {"mode": mode},
    }


def doctor_entries(base: str, rpps: str, key: str) -> list[dict[str, Any]]:
    """Practitioner, PractitionerRole, Location and Schedule of one doctor."""
    return [
        entry(base, {"resourceType": "Practitioner", "id": f"p-{key}", "identifier": [
            {"system": RPPS_OID, "type": {"coding": [{"code": "IDNPS"}]}, "value": f"8{rpps}"}
        ]}),
        entry(base, {"resourceType": "PractitionerRole", "id": f"r-{key}",
                     "practitioner": {"reference": f"Practitioner/p-{key}"},
                     "location": [{"reference": f"Location/l-{key}"}]}),
        entry(base, {"resourceType": "Location", "id": f"l-{key}", "address": {
            "line": ["3 quai Duperré"], "postalCode": "17000", "city": "La Rochelle"}}),
        entry(base, {"resourceType": "Schedule", "id": f"s-{key}",
                     "actor": [{"reference": f"PractitionerRole/r-{key}"}]}),
    ]  # fmt: skip


def slot_entry(base: str, sid: str, key: str, start: datetime, code: str = "AMB") -> dict[str, Any]:
    return entry(base, {
        "resourceType": "Slot", "id": sid,
        "meta": {"security": [{"system": SEC, "code": "SNP"}]},
        "serviceType": [{"coding": [{"system": ACT, "code": code}]}],
        "schedule": {"reference": f"Schedule/s-{key}"}, "status": "free",
        "start": start.isoformat(), "end": (start + timedelta(minutes=15)).isoformat(),
    }, "match")  # fmt: skip


def bundle(entries: list[dict[str, Any]], self_url: str, next_url: str | None) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {"resourceType": "Bundle", "type": "searchset",
            "total": sum(1 for e in entries if e["resource"]["resourceType"] == "Slot"),
            "link": links, "entry": entries}  # fmt: skip


TD = "https://interop.esante.gouv.fr/ig/fhir/ror/StructureDefinition/ror-territorial-division"
J124 = "https://mos.esante.gouv.fr/NOS/JDV_J124-Commune/FHIR/JDV-J124-Commune"
R66 = "https://mos.esante.gouv.fr/NOS/TRE_R66-CategorieEtablissement/FHIR/TRE-R66-CategorieEtablissement"


def ror_org(base: str, key: str, name: str, finess: str) -> dict[str, Any]:
    return entry(base, {
        "resourceType": "Organization", "id": f"org-{key}", "name": name,
        "identifier": [{"system": "https://finess.esante.gouv.fr", "value": finess}],
        "type": [{"coding": [{"system": R66, "code": "604"}]}],
    })  # fmt: skip


def ror_offer(base: str, key: str, communes: list[str], phone: str) -> dict[str, Any]:
    zone = [{"url": TD, "extension": [
        {"url": "codeTerritorialDivision",
         "valueCodeableConcept": {"coding": [{"system": J124, "code": c}]}},
        {"url": "typeTerritorialDivision", "valueCodeableConcept": {"coding": [{"code": "3"}]}},
    ]} for c in communes]  # fmt: skip
    return entry(base, {
        "resourceType": "HealthcareService", "id": f"hs-{key}", "name": "Soins non programmés",
        "providedBy": {"reference": f"Organization/org-{key}"},
        "telecom": [{"system": "phone", "value": phone}], "extension": zone,
    }, "match")  # fmt: skip


class Editors:
    """What each editor serves; a test may change ``normal_slots`` between pulls."""

    def __init__(self, base: str, now: datetime, slow_seconds: float = 2.0):
        self.base = base
        self.now = now
        self.slow_seconds = slow_seconds
        self.normal_slots = ["n1", "n2"]
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self.headers: list[dict[str, str]] = []
        #: The zone the ROR gives the CPTS La Rochelle (a test may move it).
        self.lr_zone = ["17300", "17028"]

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        editor = path.strip("/").split("/")[0]
        base = f"{self.base}/{editor}"
        if editor.startswith("ror-"):
            return self.ror(editor.removeprefix("ror-"), base, query)
        at = self.now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
        if editor == "failing":
            return 500, {
                "resourceType": "OperationOutcome",
                "issue": [
                    {"severity": "fatal", "code": "exception", "diagnostics": "base indisponible"}
                ],
            }
        if editor == "slow":
            time.sleep(self.slow_seconds)  # the slow editor: its slowness is what is tested
        if editor in ("normal", "slow"):
            entries = doctor_entries(base, "10101010101", editor) + [
                slot_entry(base, sid, editor, at + timedelta(minutes=30 * i))
                for i, sid in enumerate(self.normal_slots)
            ]
            return 200, bundle(entries, f"{base}/Slot", None)
        if editor == "paged":
            page = int((query.get("_page") or ["1"])[0])
            key = "paged"
            day = at + timedelta(hours=20)
            if page == 1:
                entries = doctor_entries(base, "10101010102", key) + [
                    slot_entry(base, "p1", key, day)
                ]
                return 200, bundle(entries, f"{base}/Slot", f"{base}/Slot?_page=2&_getpages=q1")
            if page == 2:
                entries = [
                    slot_entry(base, "p2", key, day + timedelta(minutes=15)),
                    slot_entry(base, "p3", key, day + timedelta(minutes=30), "VR"),
                ]
                return 200, bundle(
                    entries, f"{base}/Slot?_page=2", f"{base}/Slot?_page=3&_getpages=q1"
                )
            entries = [slot_entry(base, "p4", key, day + timedelta(minutes=45))]
            return 200, bundle(entries, f"{base}/Slot?_page=3", None)
        return 404, {"resourceType": "OperationOutcome", "issue": []}

    def ror(self, kind: str, base: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        url = f"{base}/HealthcareService"
        lr = [ror_offer(base, "lr", self.lr_zone, "05 46 00 00 15")]
        lr_org = [ror_org(base, "lr", "CPTS La Rochelle", "170000001")]
        if kind == "failing":
            return self.answer("/failing/Slot", query)
        if kind == "slow":
            time.sleep(self.slow_seconds)
        if kind in ("normal", "slow"):
            return 200, bundle(lr + lr_org, url, None)
        page = int((query.get("_page") or ["1"])[0])
        if page == 1:  # the Organization of this offer comes on page 2
            return 200, bundle(lr, url, f"{url}?_page=2&_getpages=r1")
        if page == 2:
            axe = [
                ror_offer(base, "axe", ["95018", "95127"], "01 30 30 30 30"),
                ror_org(base, "axe", "CPTS de l'Axe Majeur", "950047225"),
            ]
            return 200, bundle(lr_org + axe, f"{url}?_page=2", f"{url}?_page=3&_getpages=r1")
        bad = [
            ror_offer(base, "bad", ["17300", "17999"], "05 46 33 33 33"),
            ror_org(base, "bad", "CPTS Zone Fausse", "170000098"),
        ]
        return 200, bundle(bad, f"{url}?_page=3", None)


@contextmanager
def fhir_editors(now: datetime, slow_seconds: float = 2.0) -> Iterator[Editors]:
    state: dict[str, Editors] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            editors = state["editors"]
            editors.requests.append((parts.path, query))
            editors.headers.append(dict(self.headers.items()))
            try:
                status, body = editors.answer(parts.path, query)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on a slow answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state["editors"] = Editors(f"http://127.0.0.1:{server.server_port}", now, slow_seconds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state["editors"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
