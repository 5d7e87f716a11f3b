"""The national identifier is remembered in the user's desk.json without touching the rest;
a desk.json that cannot be read is left as it is (never overwritten), and the login
dialog then simply starts with an empty identifier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config.desk import load_desk_settings, remember
from app.config.tomlfile import FileError
from ui.login import remembered_national_id


def test_remember_sets_one_key_and_keeps_the_others(tmp_path: Path) -> None:
    user = tmp_path / "desk.json"
    user.write_text(json.dumps({"hub_url": "wss://hub:8765", "use_headset": False}))
    remember(user, last_national_id="810001234567")
    assert json.loads(user.read_text()) == {
        "hub_url": "wss://hub:8765",
        "use_headset": False,
        "last_national_id": "810001234567",
    }
    assert load_desk_settings(tmp_path / "none.toml", user).last_national_id == "810001234567"
    assert remembered_national_id(user) == "810001234567"
    fresh = tmp_path / "new" / "desk.json"  # no file yet: created with that key only
    remember(fresh, last_national_id="810009876543")
    assert json.loads(fresh.read_text()) == {"last_national_id": "810009876543"}


def test_an_unreadable_file_is_not_overwritten(tmp_path: Path) -> None:
    user = tmp_path / "desk.json"
    user.write_text('{"hub_url": "wss://hub:8765",', encoding="utf-8")  # cut short
    with pytest.raises(FileError) as refused:
        remember(user, last_national_id="810001234567")
    assert "illisible" in str(refused.value)
    assert user.read_text(encoding="utf-8") == '{"hub_url": "wss://hub:8765",'
    assert remembered_national_id(user) == ""
    with pytest.raises(FileError):  # a key the desk does not know is refused, not written
        remember(tmp_path / "other.json", nickname="x")
    assert not (tmp_path / "other.json").exists()
