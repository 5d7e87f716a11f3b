"""app/ (and telephony/) must run without Qt: import everything with Qt blocked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_app_and_telephony_import_without_qt() -> None:
    script = textwrap.dedent("""
        import importlib, pkgutil, sys

        class BlockQt:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('PySide6', 'shiboken6', 'qasync', 'PyQt5', 'PyQt6'):
                    raise ImportError(f'Qt is blocked: {name}')
                return None

        sys.meta_path.insert(0, BlockQt())
        import app, telephony
        count = 0
        for pkg in (app, telephony):
            for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):
                if '.migrations' in info.name or info.name.endswith('__main__'):
                    continue
                importlib.import_module(info.name)
                count += 1
        assert not any(m.split('.')[0] in ('PySide6', 'qasync') for m in sys.modules)
        print(count)
    """)
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) >= 10  # it really walked the packages
