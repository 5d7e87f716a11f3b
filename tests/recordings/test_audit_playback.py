"""Listening to a recording is in the audit of reads: one row per listening (not per
streamed chunk), and refused listenings as refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubError
from app.client.recordings import RecordingUploader, fetch_recording
from app.db.audit import AuditRead
from app.room import Hub
from tests.recordings.helpers import answered_call, logged, make_wav


def trail(sessions: sessionmaker[Session]) -> list[tuple[str, str, bool]]:
    with sessions() as s:
        rows = s.scalars(select(AuditRead).order_by(AuditRead.id))
        return [(r.username, r.intent, r.granted) for r in rows]


async def test_each_listening_is_audited_once(
    rec_hub: Hub, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    n1 = await logged(rec_hub.url, "n1")
    dossier = await answered_call(n1, "audit@room")
    wav = tmp_path / "desk" / "a.wav"
    make_wav(wav, 20.0)  # three playback chunks
    await RecordingUploader(n1, tmp_path / "desk" / "j.json", None).upload("audit@room", wav)
    did = int(dossier["id"])
    await n1.request("dossier.qualify", dossier_id=did, priority="P2")

    mrl = await logged(rec_hub.url, "mrl")
    await fetch_recording(mrl, did, tmp_path / "mrl.wav")  # open, then three reads
    sup = await logged(rec_hub.url, "sup")
    for offset in (0, 256 * 1024, 512 * 1024):  # streamed without opening first
        await sup.request("recording.read", dossier_id=did, offset=offset)
    osnp = await logged(rec_hub.url, "osnp")
    with pytest.raises(HubError):
        await osnp.request("recording.open", dossier_id=did)
    assert trail(sessions) == [
        ("mrl", "recording.open", True),
        ("sup", "recording.read", True),
        ("osnp", "recording.open", False),
    ]
    for client in (n1, mrl, sup, osnp):
        await client.close()
