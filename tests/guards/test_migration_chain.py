"""The migrations form one chain, and each file is named after its own revision.

Several engineers add migrations at once; two files that both chain after the same
revision make two heads and the hub cannot start. This catches it before it lands.
"""

from __future__ import annotations

from alembic.script import ScriptDirectory

from app.db.migrate import MIGRATIONS, alembic_config


def test_one_head_and_files_named_after_their_revision() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    for rev in revisions:
        assert rev.path is not None
        name = rev.path.rsplit("/", 1)[-1]
        assert name.startswith(f"{rev.revision}_"), f"{name} holds revision {rev.revision}"
    files = sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py"))
    assert len(files) == len(revisions), "a migration file is outside the chain"
