"""Dependencies point down: the import contracts of pyproject.toml hold (import-linter).

docs/architecture.md draws the layers. Each contract's ``ignore_imports`` is the list of
edges still to remove; an edge removed from the code must leave the list too (the
linter refuses an ignore that matches no import), and a new edge up the layers breaks
the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from app.bench.architecture import import_edges, is_upward, strongly_connected

ROOT = Path(__file__).resolve().parents[2]


def contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def app_packages() -> set[str]:
    packages = {f"app.{path.parent.name}" for path in (ROOT / "app").glob("*/__init__.py")}
    modules = {f"app.{path.stem}" for path in (ROOT / "app").glob("*.py")}
    return packages | modules - {"app.__init__"}


def ignored(contract: dict[str, Any]) -> set[tuple[str, str]]:
    pairs = (entry.split(" -> ") for entry in contract.get("ignore_imports", []))
    return {(a, b) for a, b in pairs}


def test_import_contracts_are_kept() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True, no_logo=True))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
    assert "6 kept, 0 broken" in out.stdout, out.stdout[-3000:]


def test_contracts_name_every_app_package() -> None:
    """A new package under app/ must be placed: in the layers, and in the rules that list
    packages one by one (import-linter has no "all but")."""
    every = app_packages()
    c = contracts()
    placed = {name.strip() for layer in c["layers"]["layers"] for name in layer.split(":")} & every
    assert placed == every, f"packages in no layer: {sorted(every - placed)}"
    assert set(c["app-no-ui"]["source_modules"]) == every - {"app.cli"}
    assert set(c["telephony-independent"]["forbidden_modules"]) == every - {"app.resources"}


def test_upward_imports_are_the_to_do_list() -> None:
    """What ``sasdesk bench architecture`` counts as running up the layers is exactly
    what the layers contract still ignores: the figure and the contract agree."""
    upward = {(a, b) for a, b in import_edges() if is_upward(a, b)}
    assert upward == ignored(contracts()["layers"])


def test_the_only_module_cycles_are_ignored_edges() -> None:
    """grimp's graph, circles counted module by module (as the bench does): none left once
    the no-cycles contract's to-do edges are set aside."""
    edges = import_edges()
    allowed = ignored(contracts()["no-cycles"])
    assert strongly_connected([e for e in edges if e not in allowed]) == []


def test_strongly_connected_finds_a_circle_and_only_it() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "d"), ("f", "a")]
    assert strongly_connected(edges) == [["a", "b", "c"], ["d", "e"]]
    assert strongly_connected([("a", "b"), ("b", "c")]) == []
