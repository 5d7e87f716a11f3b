"""A dossier's timeline fetched before an event was written, whose reply comes after
that event (reads run beside the single writer), keeps the event: the timeline used to
be replaced by the older reply, and an appointment attached from the board vanished
from it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session, sessionmaker

from app.flow.protocol import DossierGet, DossierGetReply
from app.hub.payloads import as_reply
from tests.ui.conftest import open_desk, seed_territory, until


def test_an_older_timeline_reply_keeps_the_live_events(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    seed_territory(sessions, directory=False)

    async def scenario() -> None:
        n1 = await open_desk(hub_url, "n1", tmp_path)
        w = n1.window
        assert w is not None and n1.controller is not None
        qtbot.addWidget(w)
        await n1.client.request("call.offered", call_ref="ovt-1", line="15", caller="0639980102")
        d = (await n1.client.request("call.answered", call_ref="ovt-1"))["dossier"]
        dossiers = n1.controller.dossier
        dossiers.open(d["id"], fetch=True)
        await until(lambda: dossiers.current_id == d["id"], "the answered dossier open")
        await until(lambda: w.timeline.count() > 0, "its timeline")
        # The read made now, its reply held back until after the next event.
        older = await n1.client.request(
            str(DossierGet.model_fields["type"].default), dossier_id=d["id"]
        )
        await n1.client.request("dossier.note", dossier_id=d["id"], text="Rappeler la mère")
        note = "Rappeler la mère"
        texts = lambda: [w.timeline.item(i).text() for i in range(w.timeline.count())]  # noqa: E731
        await until(lambda: any(note in t for t in texts()), "the note, live")
        dossiers.apply_fetched(d["id"], as_reply(older, DossierGetReply))
        assert any(note in t for t in texts()), texts()
        assert len(texts()) == len(older["timeline"]) + 1  # nothing twice
        await n1.close()

    qloop.run_until_complete(scenario())
