"""Imports from the desk: a Latin-1 spreadsheet export goes up in chunks, the report
comes back; a broken file changes nothing; an OSNP may not import."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.directory.models import Effecteur, Structure
from tests.directory.rpps_files import at, person, write
from tests.ui.conftest import open_desk, until
from ui.desk import Desk
from ui.widgets.import_dialog import ImportDialog

DATA = Path(__file__).resolve().parents[1] / "directory" / "data"


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Effecteur)) or 0)


async def import_file(
    hub_url: str, tmp_path: Path, qtbot: QtBot, name: str, kind: str = "effecteurs"
) -> tuple[Desk, ImportDialog]:
    """The supervisor's desk imports a file of tests/directory/data from the dialog."""
    desk = await open_desk(hub_url, "sup", tmp_path)
    assert desk.window is not None and desk.window.import_dialog is not None
    qtbot.addWidget(desk.window)
    dialog = desk.window.import_dialog
    desk.window.trigger("open_import")
    dialog.path.setText(str(DATA / name))
    dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
    dialog.start.click()
    await until(
        lambda: dialog.progress.value() == 100 and dialog.start.isEnabled(),
        lambda: f"import done ({dialog.status.text()!r})",
    )
    return desk, dialog


def test_supervisor_imports_effecteurs_with_progress_and_report(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    broken = tmp_path / "casse.csv"
    broken.write_bytes(b"\x00\x01 pas un CSV \xff\xfe")

    async def scenario() -> None:
        desk, dialog = await import_file(hub_url, tmp_path, qtbot, "effecteurs_latin1.csv")
        text = dialog.report.toPlainText()
        assert "acceptée" in text and count(sessions) > 0
        if "rejetée" in dialog.status.text() and "0 rejetée" not in dialog.status.text():
            assert "Lignes rejetées" in text  # every rejected row is listed with its reason
        before = count(sessions)

        dialog.path.setText(str(broken))
        dialog.start.click()
        await until(
            lambda: (
                dialog.start.isEnabled()
                and "casse.csv" in dialog.report.toPlainText()
                or "Échec" in dialog.status.text()
            ),
            lambda: f"broken file handled ({dialog.status.text()!r})",
        )
        assert count(sessions) == before, "a broken file changes nothing"
        await desk.close()

        osnp = await open_desk(hub_url, "osnp", tmp_path / "o")
        assert osnp.window is not None and osnp.window.import_dialog is None
        try:
            await osnp.client.request("directory.upload", upload_id="abcdefgh12", seq=0, data="")
        except Exception as exc:  # HubError
            assert "réservés" in str(exc)
        else:
            raise AssertionError("an OSNP uploaded an import file")
        await osnp.close()

    qloop.run_until_complete(scenario())


def test_supervisor_imports_the_ror_zones_from_the_desk(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        desk, dialog = await import_file(hub_url, tmp_path, qtbot, "ror_cpts.ndjson", "ror")
        text = dialog.report.toPlainText()
        assert "HealthcareService/hs-badzone" in text and "17999" in text
        await desk.close()

    qloop.run_until_complete(scenario())
    with sessions() as s:
        zones = {x.national_id: list(x.communes) for x in s.scalars(select(Structure))}
    assert zones == {
        "170000001": ["17028", "17274", "17300"],
        "950047225": ["95018", "95127", "95500"],
    }


def test_national_rpps_file_from_the_desk_shows_progress(
    qloop: asyncio.AbstractEventLoop,
    qtbot: QtBot,
    hub_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    place = at("17300", "17000", "La Rochelle", "", "DU PALAIS")
    rows = [person(f"1{i:010d}", f"NOM{i}", "Anne", **place) for i in range(600)]
    rows.append(person("10000000999", "ROUX", "Paul", **{**place, "Code profession": "28",
                       "Libellé profession": "Opticien-Lunetier"}))  # fmt: skip
    path = write(tmp_path / "PS_LibreAcces_Personne_activite_202612010000.txt", rows)
    assert path.stat().st_size > 3 * 32 * 1024  # several chunks: the bar moves

    async def scenario() -> None:
        desk = await open_desk(hub_url, "sup", tmp_path)
        assert desk.window is not None and desk.window.import_dialog is not None
        qtbot.addWidget(desk.window)
        dialog = desk.window.import_dialog
        seen: list[int] = []
        dialog.progress.valueChanged.connect(seen.append)
        desk.window.trigger("open_import")
        dialog.path.setText(str(path))
        dialog.kind.setCurrentIndex(dialog.kind.findData("rpps"))
        before = count(sessions)
        dialog.start.click()
        await until(
            lambda: dialog.progress.value() == 100,
            lambda: f"import done ({dialog.status.text()!r})",
        )
        assert any(0 < v < 90 for v in seen) and seen[-1] == 100, seen
        # The hub's import itself moves the last tenth (progress messages), not only the
        # upload: the bar no longer waits at 90 % for the whole national import.
        assert any(90 < v < 100 for v in seen), seen
        assert "encodage utf-8" in dialog.status.text()
        text = dialog.report.toPlainText()
        assert "600 ligne(s) acceptée(s) (600 créée(s)" in text
        assert "Opticien-Lunetier (code 28)" in text  # not imported, and said so
        assert count(sessions) == before + 600
        await desk.close()

    qloop.run_until_complete(scenario())
