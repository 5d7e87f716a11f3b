"""Ctrl+R (or the panel's button) asks the hub to pull the agenda editors now; a hub
without editors says so on the desk."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tests.ui.conftest import focus, open_desk, until


def test_ctrl_r_asks_the_hub_to_refresh_the_agendas(qloop, qtbot, hub_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        desk = await open_desk(hub_url, "osnp", tmp_path / "osnp", None)
        w = desk.window
        assert w is not None and w.search_panel is not None
        qtbot.addWidget(w)
        await focus(desk)
        qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        await until(lambda: "aucun agenda FHIR" in w.message_label.text(),
                    lambda: w.message_label.text())  # fmt: skip
        w.message_label.setText("")
        w.search_panel.refresh_button.click()
        await until(lambda: "aucun agenda FHIR" in w.message_label.text(), "button")
        await desk.close()

    Path(tmp_path / "osnp").mkdir()
    qloop.run_until_complete(scenario())
