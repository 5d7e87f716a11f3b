"""FrAppointmentSAS bodies as the guide's examples write them, and what is refused.

The two examples are the guide's ``ExampleAppointmentBooked`` and
``ExampleAppointmentCancelled`` (input/fsh/examples/PS Indiv/, commit d765be27c411)
written out as JSON, with the profile URL its validator section asks for.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.appointments.fhir import (
    MAX_BODY_BYTES,
    AppointmentStatus,
    Refused,
    identifier_of_query,
    parse,
    refuse_transition,
)

BOOKED: dict[str, Any] = {
    "resourceType": "Appointment",
    "id": "1",
    "meta": {"profile": ["http://interopsante.org/fhir/StructureDefinition/FrAppointmentSAS"]},
    "extension": [
        {
            "url": "http://interopsante.org/fhir/StructureDefinition/FrAppointmentOperator",
            "valueReference": {
                "identifier": {
                    "type": {
                        "coding": [
                            {
                                "system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                "code": "IDNPS",
                            }
                        ]
                    },
                    "system": "urn:oid:1.2.250.1.71.4.2.1",
                    "value": "3456780581/11242343",
                }
            },
        }
    ],
    "identifier": [
        {"system": "urn:oid:1.1.111.1.11.1.1.1", "value": "b6e39355-8a61-4556-b340-36f7b95fec6a"}
    ],
    "status": "booked",
    "start": "2022-09-04T14:00:00+01:00",
    "end": "2022-09-04T14:15:00+01:00",
    "created": "2022-09-04T10:00:00+01:00",
    "participant": [
        {
            "actor": {
                "identifier": {
                    "type": {
                        "coding": [
                            {
                                "system": "http://interopsante.org/fhir/CodeSystem/fr-v2-0203",
                                "code": "IDNPS",
                            }
                        ]
                    },
                    "system": "urn:oid:1.2.250.1.71.4.2.1",
                    "value": "810100050075",
                }
            },
            "status": "accepted",
        }
    ],
}


def body(resource: Any) -> bytes:
    return json.dumps(resource).encode()


def changed(**fields: Any) -> dict[str, Any]:
    resource = copy.deepcopy(BOOKED)
    for name, value in fields.items():
        if value is None:
            resource.pop(name, None)
        else:
            resource[name] = value
    return resource


def refusal(resource: Any) -> Refused:
    with pytest.raises(Refused) as caught:
        parse(body(resource) if not isinstance(resource, bytes) else resource)
    return caught.value


def test_the_guides_booked_example_is_read() -> None:
    appointment = parse(body(BOOKED))
    assert appointment.identifier == "b6e39355-8a61-4556-b340-36f7b95fec6a"
    assert appointment.status is AppointmentStatus.BOOKED
    assert appointment.start == datetime(2022, 9, 4, 13, 0, tzinfo=UTC)
    assert appointment.regulator.value == "3456780581/11242343"
    assert appointment.regulator.national
    assert appointment.rpps == "10100050075"


def test_the_cancelled_example_and_the_other_profile_url() -> None:
    cancelled = changed(status="cancelled", id="2")
    cancelled["meta"] = {"profile": ["http://sas.fr/fhir/StructureDefinition/FrAppointmentSAS"]}
    assert parse(body(cancelled)).status is AppointmentStatus.CANCELLED


def test_a_regulator_without_national_id_uses_the_platforms_technical_id() -> None:
    resource = copy.deepcopy(BOOKED)
    ident = resource["extension"][0]["valueReference"]["identifier"]
    ident["type"]["coding"][0]["code"] = "INTRN"
    ident["system"] = "urn:oid:1.2.250.1.213.3.6"
    ident["value"] = "4f0c7a8e-65a4-4a55-9f38-2d3e0c1b9a11"
    regulator = parse(body(resource)).regulator
    assert not regulator.national and regulator.value.startswith("4f0c7a8e")


@pytest.mark.parametrize(
    ("raw", "status", "where"),
    [
        (b"not json", 400, "Appointment"),
        (body({"resourceType": "Patient"}), 400, "resourceType"),
        (body([1, 2]), 400, "resourceType"),
        (body(changed(identifier=None)), 422, "Appointment.identifier"),
        (
            body(changed(meta={"profile": ["http://example.org/other"]})),
            422,
            "Appointment.meta.profile",
        ),
        (body(changed(status="pending")), 422, "Appointment.status"),
        (body(changed(end="2022-09-04T13:00:00+01:00")), 422, "Appointment.end"),
        (body(changed(start="2022-09-04T14:00:00")), 422, "Appointment.start"),
        (body(changed(extension=[])), 422, "FrAppointmentOperator"),
        (b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}", 413, "Appointment"),
    ],
)
def test_refusals_name_the_element(raw: bytes, status: int, where: str) -> None:
    refused = refusal(raw)
    assert refused.status == status
    outcome = refused.outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any(where in e for issue in outcome["issue"] for e in issue["expression"])


def test_an_rpps_without_its_prefix_is_refused() -> None:
    resource = copy.deepcopy(BOOKED)
    resource["participant"][0]["actor"]["identifier"]["value"] = "10100050075"
    refused = refusal(resource)
    assert refused.status == 422
    assert refused.issues[0].expression == "Appointment.participant.actor.identifier.value"


def test_every_issue_is_reported_at_once() -> None:
    resource = changed(identifier=None, status="maybe")
    resource["participant"][0]["status"] = "tentative"
    expressions = {i.expression for i in refusal(resource).issues}
    assert {
        "Appointment.identifier",
        "Appointment.status",
        "Appointment.participant.status",
    } <= expressions


def test_a_known_fate_is_final_and_a_replay_is_not_a_change() -> None:
    s = AppointmentStatus
    assert refuse_transition(s.BOOKED, s.FULFILLED) is None
    assert refuse_transition(s.FULFILLED, s.FULFILLED) is None
    issue = refuse_transition(s.FULFILLED, s.BOOKED)
    assert issue is not None and issue.code == "business-rule"
    assert refuse_transition(s.NOSHOW, s.CANCELLED) is not None


def test_the_conditional_updates_identifier_in_either_spelling() -> None:
    assert identifier_of_query({"identifier": "urn:oid:1.1|abc"}) == ("urn:oid:1.1", "abc")
    assert identifier_of_query({"Identifier": "abc"}) == (None, "abc")
    with pytest.raises(Refused):
        identifier_of_query({})


def _mutations() -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
    return st.recursive(
        leaf,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
        ),
        max_leaves=8,
    )


@settings(max_examples=2000, deadline=None)
@given(
    path=st.lists(
        st.sampled_from(sorted(BOOKED) + ["extension", "participant"]), min_size=1, max_size=1
    ),
    value=_mutations(),
)
def test_a_mutated_appointment_is_read_or_refused_never_crashes(
    path: list[str], value: Any
) -> None:
    resource = changed(**{path[0]: value})
    try:
        parse(body(resource))
    except Refused as refused:
        assert refused.status in (400, 413, 422)
        assert refused.outcome()["issue"]
