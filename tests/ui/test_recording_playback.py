"""F12 on the supervisor's desk plays the open dossier's recording, streamed from the hub:
the desk's audio port receives exactly the recording's samples (both sides mixed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.recordings.desk import RecordingUploader
from app.recordings.player import mono_frames
from tests.recordings.helpers import answered_call, logged, make_wav
from tests.ui.conftest import focus, open_desk, until


class Capture:
    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []

    def write(self, pcm: np.ndarray) -> None:
        self.frames.append(pcm.copy())


def test_f12_plays_the_dossier_recording_from_the_hub(
    qloop: asyncio.AbstractEventLoop, qtbot: QtBot, hub_url: str, tmp_path: Path
) -> None:
    wav = tmp_path / "desk" / "call.wav"
    make_wav(wav, 1.0)
    expected = mono_frames(wav)
    capture = Capture()

    async def scenario() -> None:
        n1 = await logged(hub_url, "n1")
        dossier = await answered_call(n1, "qt-play@room")
        await RecordingUploader(n1, tmp_path / "desk" / "j.json", None).upload("qt-play@room", wav)
        await n1.close()
        desk = await open_desk(hub_url, "sup", tmp_path / "sup", None)
        w = desk.window
        assert w is not None and desk.controller is not None
        qtbot.addWidget(w)
        desk.controller.playback._audio = lambda: capture
        await focus(desk)
        qtbot.keyClick(w, Qt.Key.Key_F12)
        assert "Ouvrez d'abord" in w.message_label.text()
        controller = desk.controller
        controller.dossier.open(int(dossier["id"]), fetch=True)
        await until(lambda: controller.dossier.current_id is not None, "dossier open")
        qtbot.keyClick(w, Qt.Key.Key_F12)
        await until(lambda: "Lecture de l'enregistrement" in w.message_label.text(), "playing")
        player = desk.controller.playback.player
        assert player is not None
        await until(player.finished.is_set, "played to the end", timeout=10)
        await desk.close()

    Path(tmp_path / "sup").mkdir()
    qloop.run_until_complete(scenario())
    played = np.concatenate(capture.frames)
    assert np.array_equal(played[: len(expected)], expected)
    assert not played[len(expected) :].any()
