"""The caller's history and the dossier search through the hub: counts over the period,
the frequent-caller mark, each dossier shown audited, a role that may not read refused
(and audited) without a word about the dossiers, and the "same patient" link."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config.settings import HistorySettings, HubSettings
from app.db.audit import AuditRead
from app.db.models import Dossier, User
from app.flow.service import FlowService
from app.history.hub import install as install_history
from app.history.models import DossierLink
from app.hub.auth import Principal, principal_of
from tests.flow.flow_helpers import Actor, answer_call
from tests.rows import stored

NOW = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
CALLER = "0639980101"


@pytest.fixture
def history(sessions: sessionmaker[Session]) -> FlowService:
    settings = HubSettings(history=HistorySettings(days=30, frequent_after=3))
    service = FlowService(sessions, clock=lambda: NOW, settings=settings)
    install_history(service)
    return service


def at_desk(service: FlowService, who: Principal) -> Actor:
    return Actor(service, dataclasses.replace(who, desk=f"poste-{who.username}"))


def earlier_dossiers(n1: Actor, sessions: sessionmaker[Session], ages_days: list[int]) -> list[int]:
    """Dossiers from CALLER answered ``ages_days`` days before NOW, closed as P3."""
    ids = []
    for n, age in enumerate(ages_days):
        d = answer_call(n1, ref=f"old-{n}", caller=CALLER)
        n1.send(
            "dossier.update",
            dossier_id=d["id"],
            fields={"patient_last_name": "Martin", "patient_first_name": "Jeanne"},
        )
        n1.send("dossier.qualify", dossier_id=d["id"], priority="P3")
        n1.send("dossier.close", dossier_id=d["id"], reason="conseil donné")
        with sessions.begin() as s:
            s.execute(
                update(Dossier)
                .where(Dossier.id == d["id"])
                .values(answered_at=NOW - timedelta(days=age))
            )
        ids.append(d["id"])
    return ids


def audit(sessions: sessionmaker[Session]) -> list[tuple[str, int | None, str, bool]]:
    with sessions() as s:
        return [
            (r.username, r.dossier_id, r.intent, r.granted)
            for r in s.scalars(select(AuditRead).order_by(AuditRead.id))
        ]


def test_the_ring_shows_the_count_of_30_days_and_the_last_dossier_each_read_audited(
    history: FlowService, people: dict[str, Principal], sessions: sessionmaker[Session]
) -> None:
    n1 = at_desk(history, people["n1"])
    old, recent, newest = earlier_dossiers(n1, sessions, [45, 10, 2])
    ring = at_desk(history, people["n1b"]).send("history.caller", number=CALLER, limit=1)
    assert ring["count"] == 2 and ring["days"] == 30  # 45 days ago is outside the period
    assert ring["frequent"] is False and ring["frequent_after"] == 3
    [last] = ring["dossiers"]
    assert (last["id"], last["priority"], last["status"]) == (newest, "P3", "CLOSED")
    assert last["answered_at"].startswith((NOW - timedelta(days=2)).date().isoformat())
    assert audit(sessions) == [("n1b", newest, "history.caller", True)]
    full = at_desk(history, people["mrl"]).send("history.caller", number=CALLER, limit=50)
    assert [d["id"] for d in full["dossiers"]] == [newest, recent]
    assert audit(sessions)[1:] == [
        ("mrl", newest, "history.caller", True),
        ("mrl", recent, "history.caller", True),
    ]
    assert old not in {d["id"] for d in full["dossiers"]}
    assert at_desk(history, people["n1b"]).send("history.caller", number="0500000000")["count"] == 0


def test_a_frequent_caller_is_marked_from_the_threshold_of_the_settings(
    history: FlowService, people: dict[str, Principal], sessions: sessionmaker[Session]
) -> None:
    n1 = at_desk(history, people["n1"])
    earlier_dossiers(n1, sessions, [20, 5, 1])
    reply = n1.send("history.caller", number=CALLER, limit=0)
    assert reply["count"] == 3 and reply["frequent"] is True and reply["dossiers"] == []


def test_a_role_that_does_not_read_dossiers_gets_nothing_and_the_refusal_is_audited(
    history: FlowService, people: dict[str, Principal], sessions: sessionmaker[Session]
) -> None:
    n1 = at_desk(history, people["n1"])
    [d] = earlier_dossiers(n1, sessions, [1])
    with sessions.begin() as s:
        s.add(
            User(username="cpts", display_name="CPTS", role="GESTIONNAIRE_CPTS", password_hash="x")
        )
    with sessions() as s:
        cpts = at_desk(
            history, principal_of(s.scalars(select(User).filter_by(username="cpts")).one())
        )
    for intent, payload in (
        ("history.caller", {"number": CALLER}),
        ("dossier.search", {"name": "martin"}),
        ("dossier.link", {"dossier_id": d, "same_patient_as": d + 1}),
    ):
        refusal = cpts.refused(intent, **payload)
        assert refusal.code == "forbidden"
        assert "Martin" not in refusal.message and CALLER not in refusal.message
    assert audit(sessions) == [
        ("cpts", None, "history.caller", False),
        ("cpts", None, "dossier.search", False),
        ("cpts", None, "dossier.link", False),
    ]


def test_search_by_name_number_drm_and_period_newest_first_audited(
    history: FlowService, people: dict[str, Principal], sessions: sessionmaker[Session]
) -> None:
    n1 = at_desk(history, people["n1"])
    ids = earlier_dossiers(n1, sessions, [40, 12, 3])
    mrl = at_desk(history, people["mrl"])
    by_name = mrl.send("dossier.search", name="MARt jEA")
    assert [d["id"] for d in by_name["dossiers"]] == ids[::-1] and by_name["more"] is False
    assert mrl.send("dossier.search", name="dupont")["dossiers"] == []
    with sessions() as s:
        number = stored(s, Dossier, ids[1]).number
    assert [d["id"] for d in mrl.send("dossier.search", number=number)["dossiers"]] == [ids[1]]
    period = mrl.send(
        "dossier.search",
        phone=CALLER,
        since=(NOW - timedelta(days=15)).date().isoformat(),
        until=(NOW - timedelta(days=3)).date().isoformat(),
    )
    assert [d["id"] for d in period["dossiers"]] == [ids[2], ids[1]]
    assert mrl.refused("dossier.search").code == "invalid"
    assert mrl.refused("dossier.search", since="2026-11-20", until="2026-11-01").code == "invalid"
    granted = [r for r in audit(sessions) if r[0] == "mrl"]
    assert len(granted) == 3 + 1 + 2 and all(r[2] == "dossier.search" and r[3] for r in granted)


def test_the_new_dossier_is_attached_to_the_same_patient_by_its_holder_only(
    history: FlowService, people: dict[str, Principal], sessions: sessionmaker[Session]
) -> None:
    n1 = at_desk(history, people["n1"])
    [earlier] = earlier_dossiers(n1, sessions, [4])
    with sessions.begin() as s:
        s.execute(
            update(Dossier).where(Dossier.id == earlier).values(patient_sex="F", patient_age=81)
        )
    new = answer_call(n1, ref="new", caller=CALLER)
    other = at_desk(history, people["n1b"])
    assert (
        other.refused("dossier.link", dossier_id=new["id"], same_patient_as=earlier).code
        == "not_found"
    )  # not visible to n1b
    reply = n1.send("dossier.link", dossier_id=new["id"], same_patient_as=earlier)
    assert reply["fields"] == {
        "patient_last_name": "Martin",
        "patient_first_name": "Jeanne",
        "patient_sex": "F",
        "patient_age": 81,
    }
    assert n1.events() == ["dossier.updated"]
    with sessions() as s:
        link = s.get(DossierLink, new["id"])
        assert link is not None and link.same_patient_as_id == earlier
    again = n1.send("history.caller", number=CALLER, limit=50)
    assert {d["id"]: d["same_patient_as"] for d in again["dossiers"]}[new["id"]] == earlier
    assert (
        n1.refused("dossier.link", dossier_id=new["id"], same_patient_as=new["id"]).code
        == "invalid"
    )
    assert (
        n1.refused("dossier.link", dossier_id=new["id"], same_patient_as=99999).code == "not_found"
    )


def test_the_history_settings_come_from_hub_toml(tmp_path: Path) -> None:
    from app.config.hubfile import load_hub_file

    path = tmp_path / "hub.toml"
    path.write_text("[anteriorites]\njours = 45\nappelant_frequent = 5\n", encoding="utf-8")
    assert load_hub_file(path).history == HistorySettings(days=45, frequent_after=5)
    path.write_text("[anteriorites]\nappelant_frequent = 0\n", encoding="utf-8")
    with pytest.raises(Exception, match="nombre entier de dossiers"):
        load_hub_file(path)
