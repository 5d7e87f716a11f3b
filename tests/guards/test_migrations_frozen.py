"""Migrations are frozen: they import no live application code (app/db/migrations/
frozen/__init__.py says why), so an old database upgrades with the code of each
revision, whatever the models have become since."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "app/db/migrations"
#: The column types (their storage is part of the schema) and the frozen copies.
ALLOWED = ("app.db.types", "app.db.migrations.frozen")


def app_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name == "app" or name.startswith("app."):
                found.append(name)
    return found


def forbidden_imports(path: Path) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for name in app_imports(path)
        if not any(name == a or name.startswith(a + ".") for a in ALLOWED)
    ]


def test_no_migration_imports_live_application_code() -> None:
    files = sorted((MIGRATIONS / "versions").glob("*.py")) + sorted(
        (MIGRATIONS / "frozen").glob("*.py")
    )
    assert len(files) >= 7
    bad = [line for path in files for line in forbidden_imports(path)]
    assert not bad, "\n".join(bad)


def test_the_check_sees_a_live_import(tmp_path: Path) -> None:
    sample = MIGRATIONS / "frozen" / "_sample_check.py"
    sample.write_text(
        "import app.db.types\nfrom app.db.migrations.frozen import stats_0004\n"
        "def upgrade():\n    from app.stats.projection import rebuild\n",
        encoding="utf-8",
    )
    try:
        assert forbidden_imports(sample) == [
            "app/db/migrations/frozen/_sample_check.py imports app.stats.projection"
        ]
    finally:
        sample.unlink()
