"""Bad input: every malformed message becomes a ProtocolError naming the problem."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.flow.protocol import DossierUpdate
from app.hub.protocol import (
    MAX_MESSAGE_BYTES,
    ProtocolError,
)
from app.room import hub_wire

WIRE = hub_wire()  # every extension's intents, as a hub with all of them speaks


def error_of(raw: str | bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        WIRE.parse(raw)
    return info.value


def test_malformed_json() -> None:
    err = error_of('{"type": "ping",')
    assert err.code == "invalid_json" and "JSON invalide" in err.message


def test_not_an_object() -> None:
    assert error_of("[1, 2]").code == "invalid_message"


def test_unknown_type_is_named() -> None:
    err = error_of(json.dumps({"type": "dossier.explode", "id": 7}))
    assert err.code == "unknown_type" and "dossier.explode" in err.message and err.re == 7


def test_oversized_message() -> None:
    raw = json.dumps({"type": "dossier.note", "dossier_id": 1, "text": "x" * MAX_MESSAGE_BYTES})
    err = error_of(raw)
    assert err.code == "too_large" and str(MAX_MESSAGE_BYTES) in err.message


def test_wrong_types_name_the_field() -> None:
    err = error_of(
        json.dumps({"type": "dossier.qualify", "id": "a", "dossier_id": "douze", "priority": "P9"})
    )
    assert err.code == "invalid_message" and err.re == "a"
    fields = {d["field"] for d in err.details}
    assert fields == {"dossier_id", "priority"}


def test_unexpected_field_is_refused() -> None:
    err = error_of(
        json.dumps(
            {
                "type": "dossier.update",
                "dossier_id": 1,
                "fields": {"motif": "x", "role": "SUPERVISEUR"},
            }
        )
    )
    assert err.code == "invalid_message" and "fields.role" in err.message


def test_phone_numbers_and_insee_codes_are_checked() -> None:
    err = error_of(
        json.dumps(
            {
                "type": "dossier.update",
                "dossier_id": 1,
                "fields": {"callback_number": "06<script>", "commune_insee": "1"},
            }
        )
    )
    assert {d["field"] for d in err.details} == {"fields.callback_number", "fields.commune_insee"}


def test_corsican_insee_code_is_valid() -> None:
    intent = WIRE.parse(
        json.dumps(
            {"type": "dossier.update", "dossier_id": 1, "fields": {"commune_insee": "2A004"}}
        )
    )
    assert isinstance(intent, DossierUpdate)
    assert intent.fields.commune_insee == "2A004"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "type",
                "id",
                "dossier_id",
                "fields",
                "priority",
                "queue",
                "task_id",
                "call_ref",
                "line",
                "outcome",
            ]
        ),
        json_values,
        max_size=6,
    ),
    st.sampled_from(sorted(WIRE.names) + ["nope"]),
)
def test_any_json_object_is_either_an_intent_or_a_protocol_error(
    payload: dict[str, Any], kind: str
) -> None:
    payload = {**payload, "type": kind} if payload.get("type") is None else payload
    try:
        WIRE.parse(json.dumps(payload))
    except ProtocolError as exc:
        assert exc.code in {"invalid_message", "unknown_type", "invalid_json", "too_large"}
        assert exc.message


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_never_crash_the_parser(raw: bytes) -> None:
    try:
        WIRE.parse(raw)
    except ProtocolError:
        pass
