"""Shared by the recordings tests: a hub with its own store, calls answered by a desk."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.client.hub_client import HubClient
from app.recordings.models import Recording
from tests.conftest import PASSWORD


async def logged(url: str, username: str, **kw: Any) -> HubClient:
    client = HubClient(url, desk=f"poste-{username}", **kw)
    await client.connect()
    await client.login(username, PASSWORD)
    return client


async def answered_call(n1: HubClient, call_ref: str) -> dict[str, Any]:
    await n1.request("call.offered", call_ref=call_ref, line="15", caller="0546000000")
    reply = await n1.request("call.answered", call_ref=call_ref)
    dossier: dict[str, Any] = reply["dossier"]
    return dossier


async def mrl_holding_a_dossier(url: str, ref: str) -> tuple[HubClient, HubClient, int]:
    """An incoming call qualified P2 and taken by the MRL (the doctor who searches)."""
    n1 = await logged(url, "n1")
    dossier = await answered_call(n1, ref)
    did = int(dossier["id"])
    await n1.request("dossier.qualify", dossier_id=did, priority="P2")
    mrl = await logged(url, "mrl")
    await mrl.request("dossier.take", dossier_id=did)
    return n1, mrl, did


def placed_row(sessions: sessionmaker[Session], call_ref: str) -> Recording | None:
    with sessions() as s:
        return s.scalar(select(Recording).where(Recording.placed_ref == call_ref))


def make_wav(path: Path, seconds: float, seed: int = 1) -> str:
    """A stereo 8 kHz WAV like the recorder's; returns its SHA-256."""
    rng = np.random.default_rng(seed)
    samples = rng.integers(-8000, 8000, size=(int(8000 * seconds), 2), dtype="<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(samples.tobytes())
    return hashlib.sha256(path.read_bytes()).hexdigest()
