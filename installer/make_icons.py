"""Render resources/icons/sasdesk.svg into the PNG (Linux desktop entry, window icon)
and the ICO (Windows executables and installer) the packages ship.

    QT_QPA_PLATFORM=offscreen python installer/make_icons.py [--out-dir DIR]

Run it after editing the SVG; the outputs are committed (resources/icons/sasdesk.png,
installer/windows/sasdesk.ico). ``--out-dir`` writes both into one directory instead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "sasdesk.svg"
SIZE = 256


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.out_dir is None:
        png, ico = SVG.with_suffix(".png"), ROOT / "installer" / "windows" / "sasdesk.ico"
    else:
        png, ico = args.out_dir / "sasdesk.png", args.out_dir / "sasdesk.ico"
    QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"{SVG}: SVG illisible", file=sys.stderr)
        return 1
    image = render(renderer, SIZE)
    for path in (png, ico):
        if not image.save(str(path)):
            print(f"{path}: écriture impossible", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
