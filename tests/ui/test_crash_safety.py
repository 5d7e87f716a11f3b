"""Nothing typed is lost: saved within a second, and shown again after a desk crash."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Dossier
from telephony.scenarios import parse_scenario
from telephony.training import TrainingLine
from tests.ui.conftest import open_desk, type_text, until

SCENARIO = Path(__file__).resolve().parents[2] / "resources" / "training" / "cystite.toml"


def test_typed_field_is_persisted_within_a_second_and_survives_a_desk_crash(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    line = TrainingLine([parse_scenario(SCENARIO)], interval=0, give_up_after=0)

    def stored_motif(dossier_id: int) -> str:
        with sessions() as s:
            d = s.scalar(select(Dossier).where(Dossier.id == dossier_id))
            return d.motif if d else ""

    async def scenario() -> None:
        desk = await open_desk(hub_url, "n1", tmp_path, line)
        window = desk.window
        assert window is not None
        qtbot.addWidget(window)
        call_id = line.ring()
        line.answer(call_id)  # as F2 would
        dossier = await until(lambda: window.dossier_form.dossier, "dossier opened")
        dossier_id = dossier["id"]
        typed_at = time.monotonic()
        type_text(window.dossier_form.motif, "Brûlures mictionnelles depuis 2 jours")
        await until(
            lambda: "Brûlures" in stored_motif(dossier_id), "motif stored by the hub", timeout=5
        )
        assert time.monotonic() - typed_at < 1.0, "a typed field must be stored within 1 s"

        # The desk dies: no flush, no goodbye, the socket just drops.
        desk.client.reconnect = False
        ws = desk.client._ws
        assert ws is not None
        ws.transport.abort()
        window.hide()
        await until(lambda: desk.client.state.value == "disconnected", "link dropped")

        restarted = await open_desk(hub_url, "n1", tmp_path / "again")
        assert restarted.window is not None
        qtbot.addWidget(restarted.window)
        form = restarted.window.dossier_form
        await until(
            lambda: form.dossier is not None and form.dossier["id"] == dossier_id,
            "the restarted desk reopens the dossier it held",
        )
        await until(lambda: "Brûlures" in form.motif.toPlainText(), "typed motif shown")
        assert form.edits["callback_number"].text() == line.scenarios[0].caller
        await restarted.close()

    qloop.run_until_complete(scenario())
