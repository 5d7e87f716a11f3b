"""docs/deploy.md gives the package's command lines the package test runs, and no other
in its ```bash blocks (commands that cannot run here are in ```text blocks, said so)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.installer.test_package import DOC_LINES

ROOT = Path(__file__).resolve().parents[2]


def bash_lines() -> list[str]:
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_deploy_doc_gives_what_the_package_test_runs() -> None:
    assert sorted(bash_lines()) == sorted(DOC_LINES)
