"""F12 on the supervisor's desk plays the open dossier's recording, streamed from the hub:
the desk's audio port receives exactly the recording's samples (both sides mixed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.client.recordings import RecordingUploader
from app.db.models import Event, User
from app.recordings.models import Recording
from app.recordings.player import mono_frames
from tests.recordings.helpers import answered_call, logged, make_wav, mrl_holding_a_dossier
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


def test_f12_on_a_dossier_with_several_recordings_lets_the_listener_choose(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    incoming, placed = tmp_path / "desk" / "in.wav", tmp_path / "desk" / "f7.wav"
    make_wav(incoming, 1.0, seed=1)
    make_wav(placed, 2.0, seed=2)
    expected = {"in": mono_frames(incoming), "f7": mono_frames(placed)}
    capture = Capture()
    heard: dict[str, np.ndarray] = {}
    with sessions() as s:
        names = {u.username: u.display_name for u in s.scalars(select(User))}

    async def scenario() -> None:
        n1, mrl, did = await mrl_holding_a_dossier(hub_url, "qt-several@room")
        await RecordingUploader(n1, tmp_path / "desk" / "n1.json", None).upload(
            "qt-several@room", incoming
        )
        call = {"dossier_id": did, "number": "0546123456", "callee": "Dr Claire Vasseur"}
        await RecordingUploader(mrl, tmp_path / "desk" / "mrl.json", None).upload(
            "f7-qt@desk", placed, placed=call
        )
        for client in (n1, mrl):
            await client.close()
        desk = await open_desk(hub_url, "sup", tmp_path / "sup", None)
        w, controller = desk.window, desk.controller
        assert w is not None and controller is not None
        qtbot.addWidget(w)
        playback = controller.playback
        playback._audio = lambda: capture
        controller.dossier.open(did, fetch=True)
        await until(lambda: w.dossier_form.dossier is not None, "dossier open")

        async def choose(row: int, name: str) -> None:
            await focus(desk)
            qtbot.keyClick(w, Qt.Key.Key_F12)
            chooser = await until(
                lambda: playback.chooser if playback.chooser and playback.chooser.isVisible()
                else None, "the list of recordings")  # fmt: skip
            model = chooser.model
            cells = [[model.index(r, c).data() for c in range(5)] for r in range(2)]
            assert [c[1:] for c in cells] == [
                ["Entrant · 15", "0546000000", names["n1"], "1 s"],  # the ARM who took it
                [
                    "Sortant · recherche de créneaux",
                    "Dr Claire Vasseur · 0546123456",
                    names["mrl"],
                    "2 s",
                ],  # the doctor who called  # fmt: skip
            ]
            chooser.table.setFocus()
            for _ in range(row):
                qtbot.keyClick(chooser.table, Qt.Key.Key_Down)
            capture.frames.clear()
            qtbot.keyClick(chooser.table, Qt.Key.Key_Return)
            await until(lambda: not chooser.isVisible(), "chooser closed")
            await until(lambda: "Lecture de l'enregistrement" in w.message_label.text(), "play")
            player = playback.player
            assert player is not None
            await until(player.finished.is_set, "played to the end", timeout=10)
            heard[name] = np.concatenate(capture.frames)

        await choose(1, "f7")  # the doctor's call to the colleague, not the incoming one
        assert "recherche de créneaux" in w.message_label.text()
        await choose(0, "in")
        await desk.close()

    Path(tmp_path / "sup").mkdir()
    qloop.run_until_complete(scenario())
    for name, samples in expected.items():
        played = heard[name]
        assert np.array_equal(played[: len(samples)], samples), name
        assert not played[len(samples) :].any()
    with sessions() as s:  # each listening in the dossier's log, with the recording heard
        opened = s.scalars(select(Event).where(Event.type == "recording.opened")).all()
        rows = {r.placed_ref: r.id for r in s.scalars(select(Recording))}
        assert [e.data["recording_id"] for e in opened] == [rows["f7-qt@desk"], rows[None]]
        assert {e.actor_id for e in opened} == {
            s.scalar(select(User.id).where(User.username == "sup"))
        }
