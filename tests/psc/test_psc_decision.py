"""A medical decision says who took it: the deciding doctor's national identifier and
how their session was proven travel in the event, the dossier, its timeline, the RS-EDA
message, and ``sasdesk audit --decisions`` / ``--logins``."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.cli import main
from app.db.models import User
from app.db.types import utcnow
from app.hub.auth import Principal, open_session
from app.hub.service import HubService
from app.interop.hubsante import messages
from app.room import install_all
from tests.flow.flow_helpers import ORIENT_48H, Actor, snp_dossier
from tests.interop.envelopes import message
from tests.psc.room import MRL_ID


def test_the_decision_carries_the_proven_identity_everywhere(
    sessions: sessionmaker[Session],
    people: dict[str, Principal],
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with sessions.begin() as s:
        s.execute(update(User).where(User.username == "mrl").values(national_id=MRL_ID))
        mrl_user = s.query(User).filter_by(username="mrl").one()
        open_session(s, mrl_user, "poste-7", utcnow(), timedelta(hours=13), auth="psc")
    service = HubService(sessions)
    install_all(service)
    # As the hub builds it after a PSC login (app.hub.auth.principal_of).
    mrl = Actor(service, replace(people["mrl"], national_id=MRL_ID, auth="psc"))
    amu = Actor(service, people["amu"])  # password login, no identifier
    n1 = Actor(service, people["n1"])
    first = snp_dossier(n1, mrl)
    reply = mrl.send("dossier.decide", dossier_id=first, **ORIENT_48H)
    decided = next(e.message for e in mrl.emitted if e.message["event"] == "dossier.decided")
    assert decided["data"]["decided_by"] == {"national_id": MRL_ID, "auth": "psc"}
    assert reply["dossier"]["decided_by"] == {"national_id": MRL_ID, "auth": "psc"}
    timeline = mrl.send("dossier.get", dossier_id=first)["timeline"]
    entry = next(e for e in timeline if e["type"] == "dossier.decided")
    assert entry["data"]["decided_by"]["national_id"] == MRL_ID
    export = mrl.send("dossier.export", dossier_id=first, format="rs-eda")["export"]
    assert messages.problems(export) == []  # still valid against the official schema
    operator = message(export)["createCaseHealth"]["decision"][0]["operator"]
    assert operator == {"role": "MEDECIN", "label": MRL_ID}
    # A doctor without identifier, logged in with a password: said as such.
    n1.send("call.offered", call_ref="call-2", line="15", caller="0639980102")
    second = n1.send("call.answered", call_ref="call-2")["dossier"]["id"]
    n1.send("dossier.qualify", dossier_id=second, priority="P0")
    amu.send("dossier.take", dossier_id=second)
    amu.send("dossier.decide", dossier_id=second, decision="CONSEIL", care_level="R4",
             filiere="AMU")  # fmt: skip
    assert amu.last is not None
    assert amu.last.reply["dossier"]["decided_by"] == {"national_id": "", "auth": "password"}
    export = amu.send("dossier.export", dossier_id=second, format="rs-eda")["export"]
    assert message(export)["createCaseHealth"]["decision"][0]["operator"] == {"role": "MEDECIN"}

    assert main(["audit", "--db", db_url, "--decisions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["decisions"]
    assert [(r["username"], r["national_id"], r["auth"]) for r in rows] == [
        ("amu", "", "password"),
        ("mrl", MRL_ID, "psc"),
    ]
    assert main(["audit", "--db", db_url, "--decisions", "--user", "mrl"]) == 0
    text = capsys.readouterr().out
    assert MRL_ID in text and "Pro Santé Connect" in text and "ORIENT CONSULTATION_48H" in text
    assert main(["audit", "--db", db_url, "--logins"]) == 0
    text = capsys.readouterr().out
    assert "poste-7" in text and MRL_ID in text and "Pro Santé Connect" in text


def test_audit_logins_shows_the_fallback_reason(
    sessions: sessionmaker[Session], db_url: str, capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:  # fmt: skip
    with sessions.begin() as s:
        user = s.query(User).filter_by(username="mrl2").one()
        open_session(s, user, "poste-2", utcnow(), auth="password_fallback",
                     fallback_reason="PSC en panne depuis 9 h")  # fmt: skip
    assert main(["audit", "--db", db_url, "--logins", "--user", "mrl2"]) == 0
    out = capsys.readouterr().out
    assert "mot de passe de secours (PSC injoignable) : PSC en panne depuis 9 h" in out
    assert main(["audit", "--db", db_url, "--logins", "--user", "n1"]) == 0
    assert "Aucune connexion" in capsys.readouterr().out
