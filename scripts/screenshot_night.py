"""Grab, in the night theme, the windows a night shift meets besides the desk itself.

    DISPLAY=:99 python scripts/screenshot_night.py --out-dir shots/

An embedded hub with the demo territory answers: the login dialog lists its accounts,
the statistics window shows the hub's report for the month, the audit view the hub's
trail of reads (a refused one among them), the dossier list a search through the hub.
The import dialog shows a report worded as the hub's import words it (a rejected line,
a warning). Each window is grabbed from the X screen over its frame only
(night-<name>.png), not rendered from the widget, so the test measures the window and
not the empty screen around it.
The first-run wizard pages are walked by scripts/screenshot_wizard.py --night.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import qasync
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.audit.protocol import AuditReply  # noqa: E402
from app.client.hub_client import HubClient  # noqa: E402
from app.demo.seed import Demo  # noqa: E402
from app.hub.payloads import as_reply  # noqa: E402
from app.room.embedded import EmbeddedHub  # noqa: E402
from ui.launch import make_app  # noqa: E402
from ui.login import LoginDialog  # noqa: E402
from ui.password_dialog import PasswordDialog  # noqa: E402
from ui.room_view import apply_theme  # noqa: E402
from ui.widgets.audit_view import AuditView  # noqa: E402
from ui.widgets.dossier_list import DossierListDialog  # noqa: E402
from ui.widgets.import_dialog import ImportDialog  # noqa: E402
from ui.widgets.statistics import StatisticsView  # noqa: E402

NAMES = ("login", "password", "statistics", "import", "audit", "history", "search")


async def until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(str(condition))
        await asyncio.sleep(0.05)


def grab_frame(widget: QWidget, path: Path) -> None:
    """The X screen where the window is, frame included: what is measured is the window."""
    frame = widget.frameGeometry()
    shot = QGuiApplication.primaryScreen().grabWindow(
        0, frame.x(), frame.y(), frame.width(), frame.height()
    )
    shot.save(str(path))


async def show(widget: QWidget, out: Path, name: str) -> None:
    widget.move(20, 20)
    widget.show()
    widget.raise_()
    await asyncio.sleep(0.6)
    path = out / f"night-{name}.png"
    grab_frame(widget, path)
    print(path)
    widget.close()
    await asyncio.sleep(0.1)


async def drive(url: str, out: Path) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, True)
    arm = HubClient(url, reconnect=False)
    await arm.connect()
    login = LoginDialog(arm)
    await asyncio.sleep(0.5)
    login.accounts.setCurrentRow(0)
    login.message.setText("Identifiant ou mot de passe incorrect.")
    await show(login, out, "login")
    await arm.login("arm1", "demo")
    await arm.request("call.offered", call_ref="night-1", line="116117", caller="0639980177")
    dossier = (await arm.request("call.answered", call_ref="night-1"))["dossier"]
    await arm.request(
        "dossier.update",
        dossier_id=dossier["id"],
        fields={"patient_last_name": "Girard", "patient_first_name": "Lucas",
                "motif": "Entorse de cheville droite"},
    )  # fmt: skip
    await arm.request("dossier.qualify", dossier_id=dossier["id"], priority="P2")

    password = PasswordDialog(arm, "arm1")
    password.old.setText("demo")
    password.new.setText("court")
    password.message.setText("Le mot de passe est trop court (au moins 12 caractères).")
    await show(password, out, "password")

    found = await arm.request("dossier.search", phone="0639980177")
    rows = found["dossiers"]
    history = DossierListDialog("Antériorités du 06 39 98 01 77")
    history.show_rows(f"{len(rows)} dossier(s) de ce numéro sur 30 jours", rows)
    await show(history, out, "history")
    search = DossierListDialog("Rechercher un dossier", search=True)
    search.phone.setText("0639980177")
    search.show_rows(f"{len(rows)} dossier(s) trouvé(s)", rows)
    await show(search, out, "search")

    boss = HubClient(url, reconnect=False)
    await boss.connect()
    await boss.login("superviseur", "demo")
    stats = StatisticsView(datetime.now(UTC).date())
    stats.resize(1200, 760)
    month = datetime.now(UTC).strftime("%Y-%m")
    stats.show_report((await boss.request("stats.report", 60, month=month))["report"])
    await until(lambda: stats.list.count() > 0)
    stats.list.setCurrentRow(0)
    table = stats.current_table()
    assert table is not None
    weeks = [r for r, e in enumerate(table.get("emphasis") or []) if e]
    stats.move(20, 20)
    stats.show()  # laid out first: a hidden view does not scroll
    await asyncio.sleep(0.3)
    if weeks:  # a week's subtotal row in view: its tint must stay readable
        stats.view.scrollTo(stats.model.index(weeks[0], 0), stats.view.ScrollHint.PositionAtTop)
    await show(stats, out, "statistics")

    audit = AuditView()
    audit.resize(1100, 560)
    audit.show_reads(as_reply(await boss.request("audit.list", limit=50), AuditReply))
    await show(audit, out, "audit")

    imports = ImportDialog()
    imports.path.setText("/srv/import/annuaire-cpts.csv")
    imports.show_report({
        "source": "annuaire-cpts.csv",
        "summary": "12 lignes lues : 11 importées, 1 rejetée",
        "encoding": "cp1252",
        "rejected": [{"where": "ligne 7", "why": "RPPS invalide (10 chiffres au lieu de 11)"}],
        "warnings": [{"where": "ligne 9", "why": "téléphone sans indicatif, 05 supposé"}],
    })  # fmt: skip
    await show(imports, out, "import")
    await boss.close()
    await arm.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument(
        "--db",
        type=Path,
        help="base SQLite du hub (défaut : une neuve, remplie de la démo) ; les tests passent "
        "la copie d'une base de démo remplie une fois par session",
    )
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    db = args.db or Path(tempfile.mkdtemp()) / "demo.sqlite3"
    hub = EmbeddedHub(f"sqlite:///{db}", demo=Demo())
    url = hub.start()
    app: QApplication = make_app()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            runner.run(drive(url, args.out_dir))
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
