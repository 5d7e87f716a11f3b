"""Doctors and supervisors play a dossier's recording from the desk, streamed from the
hub, hash checked; each opening is in the dossier's log; other roles are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubError
from app.client.recordings import RecordingUploader, fetch_recording, list_recordings
from app.db.audit import AuditRead
from app.db.models import User
from app.room import Hub
from tests.recordings.helpers import answered_call, logged, make_wav, mrl_holding_a_dossier


async def test_doctor_and_supervisor_play_the_recording(rec_hub: Hub, tmp_path: Path) -> None:
    n1 = await logged(rec_hub.url, "n1")
    dossier = await answered_call(n1, "play@room")
    wav = tmp_path / "desk" / "play.wav"
    make_wav(wav, 20.0)  # 640 kB: three playback chunks
    original = wav.read_bytes()
    await RecordingUploader(n1, tmp_path / "desk" / "j.json", None).upload("play@room", wav)
    did = int(dossier["id"])
    await n1.request("dossier.qualify", dossier_id=did, priority="P2")  # to the MRL queue

    for who in ("mrl", "sup"):
        client = await logged(rec_hub.url, who)
        meta = await fetch_recording(client, did, tmp_path / who / "played.wav")
        assert (tmp_path / who / "played.wav").read_bytes() == original
        assert meta["size"] == len(original)
        await client.close()

    sup = await logged(rec_hub.url, "sup")
    timeline = (await sup.request("dossier.get", dossier_id=did))["timeline"]
    opened = [e["actor"] for e in timeline if e["type"] == "recording.opened"]
    assert opened == ["mrl (Médecin régulateur libéral)", "sup (Superviseur)"]
    await sup.close()

    for who, code in (("osnp", "forbidden"), ("n1", "forbidden"), ("amu", "not_found")):
        client = await logged(rec_hub.url, who)
        for intent in ("recording.open", "recording.read"):
            with pytest.raises(HubError) as refused:
                await client.request(intent, dossier_id=did)
            assert refused.value.code == code, (who, intent)
            assert "play" not in refused.value.message
        await client.close()
    await n1.close()


async def test_no_recording_yet_is_not_found(rec_hub: Hub) -> None:
    n1 = await logged(rec_hub.url, "n1")
    dossier = await answered_call(n1, "silent@room")
    sup = await logged(rec_hub.url, "sup")
    with pytest.raises(HubError) as missing:
        await sup.request("recording.open", dossier_id=dossier["id"])
    assert missing.value.code == "not_found"
    await sup.close()
    await n1.close()


async def test_a_dossier_with_several_recordings_lists_them_and_plays_the_chosen_one(
    rec_hub: Hub, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    n1, mrl, did = await mrl_holding_a_dossier(rec_hub.url, "several@room")
    incoming = tmp_path / "desk" / "in.wav"
    make_wav(incoming, 2.0, seed=1)
    in_bytes = incoming.read_bytes()
    await RecordingUploader(n1, tmp_path / "desk" / "j.json", None).upload("several@room", incoming)
    outgoing = tmp_path / "desk" / "out.wav"
    make_wav(outgoing, 5.0, seed=2)
    out_bytes = outgoing.read_bytes()
    placed = {"dossier_id": did, "number": "0546123456", "callee": "Dr Claire Vasseur"}
    await RecordingUploader(mrl, tmp_path / "desk" / "m.json", None).upload(
        "f7-several@desk", outgoing, placed=placed
    )

    items = await list_recordings(mrl, did)
    assert [(i["kind"], i["line"], i["number"], i["callee"]) for i in items] == [
        ("incoming", "15", "0546000000", ""),
        ("placed", "", "0546123456", "Dr Claire Vasseur"),
    ]
    assert [i["seconds"] for i in items] == [2.0, 5.0]
    assert [i["by"] for i in items] == [display_name(sessions, "n1"), display_name(sessions, "mrl")]

    # The chosen one is played, not the incoming call's; no choice: the incoming call's.
    meta = await fetch_recording(mrl, did, tmp_path / "chosen.wav", items[1]["id"])
    assert (tmp_path / "chosen.wav").read_bytes() == out_bytes and meta["id"] == items[1]["id"]
    await fetch_recording(mrl, did, tmp_path / "default.wav")
    assert (tmp_path / "default.wav").read_bytes() == in_bytes
    # Each listening in the dossier's log, with the recording heard.
    timeline = (await mrl.request("dossier.get", dossier_id=did))["timeline"]
    heard = [e["data"]["recording_id"] for e in timeline if e["type"] == "recording.opened"]
    assert heard == [items[1]["id"], items[0]["id"]]

    # A recording of another dossier is not reachable through this one.
    _n1b, _mrlb, other = await mrl_holding_a_dossier(rec_hub.url, "other@room")
    for intent in ("recording.open", "recording.read"):
        with pytest.raises(HubError) as missing:
            await mrl.request(intent, dossier_id=other, recording_id=items[1]["id"])
        assert missing.value.code == "not_found", intent
    # Roles that do not listen cannot list either, and say nothing of the dossier.
    osnp = await logged(rec_hub.url, "osnp")
    with pytest.raises(HubError) as refused:
        await osnp.request("recording.list", dossier_id=did)
    assert refused.value.code == "forbidden" and "Vasseur" not in refused.value.message
    with sessions() as s:
        listed = s.scalars(
            select(AuditRead.username).where(
                AuditRead.intent == "recording.list", AuditRead.dossier_id == did
            )
        ).all()
        assert listed == ["mrl", "osnp"]  # the listing granted, the refusal audited too
    for client in (n1, mrl, osnp, _n1b, _mrlb):
        await client.close()


def display_name(sessions: sessionmaker[Session], username: str) -> str:
    with sessions() as s:
        name = s.scalar(select(User.display_name).where(User.username == username))
        assert name is not None
        return name
