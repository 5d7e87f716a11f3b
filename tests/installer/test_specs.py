"""The Linux and Windows PyInstaller specs are made from one list (installer/bundle.py)
and stay in step; that list bundles everything the program reads at run time."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPECS = {
    "linux": ROOT / "installer" / "linux" / "sasdesk.spec",
    "windows": ROOT / "installer" / "windows" / "sasdesk.spec",
}
#: What a spec may set differently from the other: the executables' icon.
PLATFORM_KEYS = {"icon"}


def load_bundle() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle", ROOT / "installer" / "bundle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundle = load_bundle()


def evaluate(spec: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run a spec with PyInstaller's build classes replaced by recorders."""
    seen: dict[str, Any] = {"exes": []}

    class Analysis:
        def __init__(self, scripts: list[str], **kwargs: Any) -> None:
            seen["analysis"] = {"scripts": scripts, **kwargs}
            self.pure: list[Any] = []
            self.scripts = [(Path(s).stem, s, "PYSOURCE") for s in scripts]
            self.binaries: list[Any] = []
            self.datas: list[Any] = []

    class PYZ:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

    class EXE:
        def __init__(
            self, pyz: PYZ, scripts: list[tuple[str, str, str]], *args: Any, **kwargs: Any
        ) -> None:
            seen["exes"].append({"scripts": [s[0] for s in scripts], **kwargs})

    class COLLECT:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen["collect"] = kwargs

    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec inserts installer/
    namespace = {
        "Analysis": Analysis,
        "PYZ": PYZ,
        "EXE": EXE,
        "COLLECT": COLLECT,
        "SPECPATH": str(spec.parent),
        "__name__": "__main__",
    }
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    return seen


@pytest.fixture
def specs(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    return {name: evaluate(path, monkeypatch) for name, path in SPECS.items()}


def test_linux_and_windows_specs_bundle_the_same_program(
    specs: dict[str, dict[str, Any]],
) -> None:
    linux, windows = specs["linux"], specs["windows"]
    assert linux["analysis"] == windows["analysis"]
    assert linux["collect"] == windows["collect"]
    strip = [{k: v for k, v in exe.items() if k not in PLATFORM_KEYS} for exe in linux["exes"]]
    assert strip == [
        {k: v for k, v in exe.items() if k not in PLATFORM_KEYS} for exe in windows["exes"]
    ]
    names = [(exe["name"], exe["console"]) for exe in linux["exes"]]
    assert names == [(name, console) for name, _script, console in bundle.ENTRY_POINTS]
    # Each executable runs its own entry script, not the other one too.
    for exe, (_name, script, _console) in zip(linux["exes"], bundle.ENTRY_POINTS, strict=True):
        assert exe["scripts"] == [Path(script).stem]
    assert Path(windows["exes"][0]["icon"]).is_file()


def test_specs_take_everything_from_the_shared_list(specs: dict[str, dict[str, Any]]) -> None:
    for spec in specs.values():
        analysis = spec["analysis"]
        assert analysis["scripts"] == bundle.scripts()
        assert analysis["hiddenimports"] == bundle.hidden_imports()
        assert analysis["excludes"] == list(bundle.EXCLUDES)
        assert set(bundle.datas()) <= set(analysis["datas"])
        assert set(bundle.metadata()) <= set(analysis["datas"])


def test_a_drifted_spec_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above fails when one spec adds an import the other lacks."""
    drifted = tmp_path / "installer" / "windows" / "sasdesk.spec"
    drifted.parent.mkdir(parents=True)
    text = SPECS["windows"].read_text(encoding="utf-8")
    text = text.replace(
        "sys.path.insert(0, str(Path(SPECPATH).parent))",
        f"sys.path.insert(0, {str(ROOT / 'installer')!r})",
    )
    text = text.replace(
        "hiddenimports=bundle.hidden_imports()",
        "hiddenimports=bundle.hidden_imports() + ['winreg']",
    )
    drifted.write_text(text, encoding="utf-8")
    linux = evaluate(SPECS["linux"], monkeypatch)
    assert evaluate(drifted, monkeypatch)["analysis"] != linux["analysis"]


def test_every_file_read_at_run_time_is_bundled() -> None:
    bundled = [(ROOT / src, dest) for src, dest in bundle.DATAS]
    for src, _dest in bundled:
        assert src.exists(), src

    def covered(path: Path) -> bool:
        return any(path == src or src in path.parents for src, _dest in bundled)

    # resources/ (resolved through app.resources) and the Alembic scripts.
    assert covered(ROOT / "resources" / "style" / "desk.qss")
    assert covered(ROOT / "app" / "db" / "migrations" / "versions")
    # Every file a module finds beside itself: Path(__file__).with_name("...").
    sibling = re.compile(r"Path\(__file__\)\.with_name\(\"([^\"]+)\"\)")
    for package in bundle.OWN_PACKAGES:
        for module in (ROOT / package).rglob("*.py"):
            for name in sibling.findall(module.read_text(encoding="utf-8")):
                assert covered(module.with_name(name)), f"{module}: {name} not in bundle.DATAS"
    # No module reaches resources/ by its own path any more: app.resources does.
    own_path = re.compile(r"__file__\)\.resolve\(\)\.parents\[\d\]\s*/\s*\"resources\"")
    for package in bundle.OWN_PACKAGES:
        for module in (ROOT / package).rglob("*.py"):
            if module.name == "resources.py" and module.parent.name == "app":
                continue
            assert not own_path.search(module.read_text(encoding="utf-8")), module


def test_modules_imported_by_name_are_bundled() -> None:
    from app.cli import BENCHES, COMMANDS

    hidden = set(bundle.hidden_imports())
    for name in (*COMMANDS, *BENCHES):
        path = ROOT.joinpath(*name.split("."))
        if path.with_suffix(".py").exists() or (path / "__init__.py").exists():
            assert name in hidden, name
    assert "tests" not in {name.split(".")[0] for name in hidden}


@pytest.mark.parametrize(
    ("dest", "kept"),
    [
        ("PySide6/Qt/plugins/platforms/libqxcb.so", True),
        ("PySide6/Qt/plugins/platforms/libqoffscreen.so", True),
        ("PySide6\\plugins\\platforms\\qwindows.dll", True),
        ("PySide6/Qt/plugins/platforms/libqwayland.so", False),
        ("PySide6/Qt/plugins/platforms/libqvnc.so", False),
        ("PySide6/Qt/plugins/wayland-shell-integration/libxdg-shell.so", False),
        ("PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so", True),
        ("PySide6/Qt/plugins/imageformats/libqsvg.so", True),
        ("PySide6/Qt/lib/libQt6WaylandClient.so.6", False),
        ("PySide6/Qt/lib/libQt6Widgets.so.6", True),
        ("PySide6/Qt/translations/qtbase_fr.qm", True),
        ("PySide6/Qt/translations/qtbase_de.qm", False),
        ("resources/training/angine.toml", True),
    ],
)
def test_qt_pruning_keeps_the_desk_platforms(dest: str, kept: bool) -> None:
    assert bundle.keep(dest) is kept
