"""Doctors and supervisors play a dossier's recording from the desk, streamed from the
hub, hash checked; each opening is in the dossier's log; other roles are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.client.hub_client import HubError
from app.hub.server import Hub
from app.recordings.desk import RecordingUploader, fetch_recording
from tests.recordings.helpers import answered_call, logged, make_wav


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
