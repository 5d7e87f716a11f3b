"""``sasdesk desk`` with no flags: the saved settings take it to its hub; without any,
the wizard waits for the user (and nothing connects); the desk's menu reopens it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.config.desk import DeskSettings, load_desk_settings, save_user_settings
from app.room.embedded import EmbeddedHub
from tests.ui.conftest import open_desk, until
from tests.waits import wait_until
from ui.launch import WIZARD_SHOWN, run_window
from ui.wizard import SetupWizard

ROOT = Path(__file__).resolve().parents[2]


def desk_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CONFIG_DIRS": str(tmp_path / "etc"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


def start_desk(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "desk", *args],
        cwd=ROOT,
        env=desk_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        return proc.communicate(timeout=10)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0]


def test_saved_settings_take_the_desk_to_its_hub_and_none_open_the_wizard(
    embedded: EmbeddedHub, tmp_path: Path
) -> None:
    proc = start_desk(tmp_path)  # nothing saved: the wizard, and no connection by itself
    log = tmp_path / "state" / "sasdesk" / "log" / "desk.log"
    wait_until(
        lambda: proc.poll() is not None or (log.exists() and WIZARD_SHOWN in log.read_text()),
        "the wizard shown",
        timeout=30,
    )
    assert proc.poll() is None and not embedded.hub.connections
    assert "Traceback" not in stop(proc)
    (tmp_path / "etc" / "sasdesk").mkdir(parents=True)
    (tmp_path / "etc" / "sasdesk" / "desk.toml").write_text(  # the machine's layer (IT)
        'hub_url = "ws://127.0.0.1:1"\nsip_port = 5070\n'
    )
    save_user_settings(
        DeskSettings(hub_url=embedded.hub.url, sip_port=5070),
        tmp_path / "config" / "sasdesk" / "desk.json",
    )
    proc = start_desk(tmp_path)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not embedded.hub.connections:
            assert proc.poll() is None, proc.communicate()[0]
            time.sleep(0.1)
        assert embedded.hub.connections, "the desk did not use its saved hub address"
    finally:
        out = stop(proc)
    assert "Traceback" not in out, out
    assert "desk starting" in log.read_text(encoding="utf-8")  # the desk's own rotating log file


def test_the_machine_layer_under_the_user_layer(tmp_path: Path) -> None:
    machine, user = tmp_path / "desk.toml", tmp_path / "desk.json"
    machine.write_text('hub_url = "wss://hub.salle:8765"\nsip_server = "10.0.0.5"\n')
    assert load_desk_settings(machine, user) == DeskSettings(
        hub_url="wss://hub.salle:8765", sip_server="10.0.0.5"
    )
    save_user_settings(DeskSettings(hub_url="wss://autre:8765", sip_user="poste3"), user)
    assert load_desk_settings(machine, user).hub_url == "wss://autre:8765"
    machine.write_text('hub = "x"\n')
    from app.config.tomlfile import FileError

    with pytest.raises(FileError) as caught:
        load_desk_settings(machine, user)
    assert "desk.toml, ligne 1 : clé inconnue « hub »" in str(caught.value)


def test_the_menu_reopens_the_wizard_without_the_login_step(
    qloop: asyncio.AbstractEventLoop, hub_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))

    async def scenario() -> None:
        desk = await open_desk(hub_url, "n1", tmp_path)
        assert desk.window is not None
        desk.window.close()  # open_desk showed it; run_window binds the menu and shows it
        running = asyncio.ensure_future(run_window(desk))
        await until(lambda: desk.window is not None and desk.window.isVisible(), "the desk")
        window = desk.window
        assert window is not None
        QTest.keyClick(
            window,
            Qt.Key.Key_A,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
        )
        await until(lambda: window.findChild(SetupWizard) is not None, "the wizard")
        wizard = window.findChild(SetupWizard)
        assert wizard is not None and wizard.login_page is None and wizard.isVisible()
        wizard.reject()
        window.close()
        await running

    qloop.run_until_complete(scenario())
