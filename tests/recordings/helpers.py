"""Shared by the recordings tests: a hub with its own store, calls answered by a desk."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path
from typing import Any

import numpy as np

from app.client.hub_client import HubClient
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
