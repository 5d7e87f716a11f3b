"""installer/make_icons.py renders the SVG into the PNG and ICO the packages ship."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def test_make_icons_renders_what_is_committed(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "installer" / "make_icons.py"), "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert out.returncode == 0, out.stderr
    for made, shipped in (
        (tmp_path / "sasdesk.png", ROOT / "resources/icons/sasdesk.png"),
        (tmp_path / "sasdesk.ico", ROOT / "installer/windows/sasdesk.ico"),
    ):
        image, committed = QImage(str(made)), QImage(str(shipped))
        assert (image.width(), image.height()) == (256, 256)
        # The committed icon is the render of the committed SVG (re-run after an edit).
        assert image == committed, f"{shipped} is stale: run installer/make_icons.py"
    assert (tmp_path / "sasdesk.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"  # ICO header
