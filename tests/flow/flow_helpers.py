"""Drive the flow service the way a desk does: JSON intents in, replies and events out."""

from __future__ import annotations

import json
from typing import Any

from app.domain.rules import FlowError
from app.hub.auth import Principal
from app.hub.service import HubService, Outcome, Outgoing
from app.room import hub_wire

WIRE = hub_wire()  # every extension's intents, as a hub with all of them speaks


class Actor:
    def __init__(self, service: HubService, principal: Principal):
        self.service = service
        self.principal = principal
        self.last: Outcome | None = None

    def send(self, type_: str, **payload: Any) -> dict[str, Any]:
        intent = WIRE.parse(json.dumps({"type": type_, **payload}, default=str))
        self.last = self.service.handle(self.principal, intent)
        return self.last.reply

    def refused(self, type_: str, **payload: Any) -> FlowError:
        try:
            self.send(type_, **payload)
        except FlowError as exc:
            return exc
        raise AssertionError(f"{type_} by {self.principal.role} was accepted")

    def events(self) -> list[str]:
        return [e.message["event"] for e in self.emitted]

    @property
    def emitted(self) -> list[Outgoing]:
        """The events of this desk's last intent."""
        assert self.last is not None, "no intent sent yet"
        return self.last.events


def answer_call(
    n1: Actor, ref: str = "call-1", line: str = "15", caller: str = "0639980101"
) -> dict[str, Any]:
    n1.send("call.offered", call_ref=ref, line=line, caller=caller)
    dossier: dict[str, Any] = n1.send("call.answered", call_ref=ref)["dossier"]
    return dossier


def snp_dossier(n1: Actor, mrl: Actor, ref: str = "call-1") -> int:
    """A P2 dossier qualified by N1 and taken by the MRL; returns its id."""
    d = answer_call(n1, ref)
    n1.send(
        "dossier.update",
        dossier_id=d["id"],
        fields={
            "patient_last_name": "Morin",
            "patient_first_name": "Zoé",
            "patient_sex": "F",
            "patient_age": 3,
            "commune_insee": "17300",
            "motif": "Fièvre 39,5 depuis hier",
        },
    )
    n1.send("dossier.qualify", dossier_id=d["id"], priority="P2")
    mrl.send("dossier.take", dossier_id=d["id"])
    return int(d["id"])


ORIENT_48H: dict[str, Any] = {  # an intent payload (JSON fields)
    "decision": "ORIENT",
    "care_level": "R3",
    "filiere": "SNP",
    "orientation": "CONSULTATION_48H",
    "consultation_type": "cabinet",
}
