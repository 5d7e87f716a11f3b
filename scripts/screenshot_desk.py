"""Run the embedded desk on the current X display, drive it like a user, grab the screen.

    DISPLAY=:99 python scripts/screenshot_desk.py --out desk.png [--user arm1]
        [--fit-json fit.json] [--night-out night.png --night-fit-json night.json]
        [--db demo.sqlite3]

Uses the real pieces of ``sasdesk``: an embedded hub with the demo territory, the
login dialog with the demo accounts, the training line. The screenshot is a grab of
the X root window, not a widget rendering.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.client.hub_client import HubClient  # noqa: E402
from app.demo.seed import Demo  # noqa: E402
from app.room.embedded import EmbeddedHub  # noqa: E402
from telephony.training import TrainingLine  # noqa: E402
from ui.desk import Desk  # noqa: E402
from ui.launch import make_app  # noqa: E402
from ui.login import LoginDialog  # noqa: E402
from ui.screen_fit import fit_report  # noqa: E402

#: Where to write the geometry report (ui.screen_fit) next to the screenshot, if asked,
#: and the night theme's screenshot and report (same desk, switched from the menu).
FIT_REPORT: list[Path] = []
NIGHT: dict[str, Path] = {}
#: How many times to press Ctrl+plus before the screenshot (--bigger).
TEXT_STEPS: list[int] = []


#: Docks that share a tab with another one at 1366 px: with the other in front for the
#: scene, each is then brought to the front in turn, screenshot <out>-<dock>.png, and its
#: buttons checked too (the OSNP's call-back outcome, behind the slot search).
TURNS = ("callbackDock",)


async def grab(window: QMainWindow, out: Path, report: Path | None) -> None:
    QGuiApplication.primaryScreen().grabWindow(0).save(str(out))
    fit = fit_report(window)
    for name in TURNS:
        dock = window.findChild(QDockWidget, name)
        if dock is None or not dock.visibleRegion().isEmpty():
            continue  # absent, or already in view (checked above)
        front = [d for d in window.tabifiedDockWidgets(dock) if not d.visibleRegion().isEmpty()]
        dock.raise_()
        await pause(0.5)
        QGuiApplication.primaryScreen().grabWindow(0).save(
            str(out.with_name(f"{out.stem}-{name}{out.suffix}"))
        )
        turn = fit_report(window)
        fit["problems"] += [p for p in turn["problems"] if p not in fit["problems"]]
        fit["key_buttons"] = {**turn["key_buttons"], **fit["key_buttons"]}
        for other in front:  # the scene as it was
            other.raise_()
        await pause(0.3)
    if report is not None:
        report.write_text(json.dumps(fit, ensure_ascii=False, indent=1))


async def shoot(window: QMainWindow, out: Path) -> None:
    bigger = window.findChild(QAction, "action_text_bigger")
    for _ in range(TEXT_STEPS[0] if TEXT_STEPS else 0):  # Ctrl+plus, as a user would
        assert bigger is not None, "no text size in the menu"
        bigger.trigger()
    if TEXT_STEPS:
        await pause(1.0)
    await grab(window, out, FIT_REPORT[0] if FIT_REPORT else None)
    if "out" in NIGHT:
        night = window.findChild(QAction, "action_night")
        assert night is not None, "no night theme in the menu"
        night.trigger()  # as the menu "Affichage > Thème de nuit" does
        await pause(1.0)
        await grab(window, NIGHT["out"], NIGHT.get("fit"))


async def pause(seconds: float) -> None:
    await asyncio.sleep(seconds)


async def until_active(window: QMainWindow, timeout: float = 20.0) -> None:
    """The window on the screen and the active one (its shortcuts take the keys)."""
    deadline = time.monotonic() + timeout
    while not (window.windowHandle().isExposed() and window.isActiveWindow()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the desk's window not shown and active within {timeout} s")
        await pause(0.05)


async def prepare(url: str, until: str) -> None:
    """Bring a dossier to where the shown desk takes over, through the protocol."""
    n1 = HubClient(url, reconnect=False)
    await n1.connect()
    await n1.login("arm1", "demo")
    await n1.request("call.offered", call_ref="demo-prep", line="116117", caller="0639980177")
    d = (await n1.request("call.answered", call_ref="demo-prep"))["dossier"]
    await n1.request(
        "dossier.update",
        dossier_id=d["id"],
        fields={
            "patient_last_name": "Girard",
            "patient_first_name": "Lucas",
            "patient_sex": "M",
            "patient_age": 34,
            "commune_insee": "17300",
            "address": "4 rue Chaudrier",
            "motif": "Entorse de cheville droite en jouant au football, appui possible",
            "treating_doctor": "Dr Aubert",
        },
    )
    # P2 goes to the liberal regulation (SNP), P1 to the ARM of level 2, P0 to the AMU doctor.
    priority = {"armn2": "P1", "amu": "P0"}.get(until, "P2")
    await n1.request("dossier.qualify", dossier_id=d["id"], priority=priority)
    if until == "osnp":
        mrl = HubClient(url, reconnect=False)
        await mrl.connect()
        await mrl.login("mrl", "demo")
        await mrl.request("dossier.take", dossier_id=d["id"])
        await mrl.request(
            "dossier.decide",
            dossier_id=d["id"],
            decision="ORIENT",
            care_level="R3",
            filiere="SNP",
            orientation="CONSULTATION_48H",
            consultation_type="cabinet",
            comment="Radio si douleur osseuse",
        )
        await mrl.close()
    await n1.close()


async def drive(url: str, user: str, out: Path, login_shot: Path | None) -> None:
    if user in ("mrl", "osnp", "superviseur", "armn2", "amu"):
        await prepare(url, user)
    line = TrainingLine(interval=0, give_up_after=0, seed=3)
    desk = await Desk.connect(url, line=line, journal=Path(tempfile.mkdtemp()) / "o.json")
    dialog = LoginDialog(desk.client)
    dialog.show()
    accounts = dialog.accounts  # listed from the welcome as the dialog was built
    for row in range(accounts.count()):
        if accounts.item(row).text().startswith(user + " "):
            accounts.setCurrentRow(row)
    if login_shot is not None:
        await pause(0.5)  # painted
        QGuiApplication.primaryScreen().grabWindow(0).save(str(login_shot))
    dialog.submit()
    while desk.client.user is None:
        await pause(0.05)
    dialog.close()
    window = desk.build()
    window.show()
    window.windowHandle().requestActivate()
    await until_active(window)
    if user == "superviseur" and out.stem.endswith("stats"):
        window.trigger("open_statistics")
        stats = window.statistics
        assert stats is not None, "the supervisor's desk has a statistics tab"
        while stats.list.count() == 0:
            await pause(0.05)
        stats.list.setCurrentRow(0)
        stats.move(0, 0)
        await pause(1.0)
        await shoot(window, out)
        await desk.close()
        return
    if user == "cpts":  # the CPTS manager: agendas and statistics, no calls
        await pause(1.0)
        await shoot(window, out)
        await desk.close()
        return
    if user == "superviseur":
        line.ring("douleur-thoracique")
        await pause(2.5)
        await shoot(window, out)
        await desk.close()
        return
    if user in ("armn2", "amu"):  # level 2 and the AMU doctor take from their queue
        QTest.keyClick(window, Qt.Key.Key_F5)
        while not window.decision_form.isEnabled():
            await pause(0.05)
        await pause(1.0)
        await shoot(window, out)
        await desk.close()
        return
    if user == "mrl":
        QTest.keyClick(window, Qt.Key.Key_F5)
        while not window.decision_form.isEnabled():
            await pause(0.05)
        df = window.decision_form
        df.decision.setCurrentIndex(df.decision.findData("ORIENT"))
        df.care_level.setCurrentIndex(df.care_level.findData("R3"))
        df.orientation.setCurrentIndex(df.orientation.findData("CONSULTATION_48H"))
        df.consultation.setCurrentIndex(df.consultation.findData("cabinet"))
        await pause(1.0)
        await shoot(window, out)
        await desk.close()
        return
    if user == "osnp":
        panel, tasks, search = window.task_panel, window.tasks_model, window.search_panel
        assert panel is not None and tasks is not None and search is not None
        panel.table.setCurrentIndex(tasks.index(0, 0))
        panel.request_take()
        while not panel.close_button.isEnabled():
            await pause(0.05)
        panel.with_whom.setText("Dr Aubert (médecin traitant)")
        panel.place.setText("Cabinet du Port, 2 quai Duperré, La Rochelle")
        window.trigger("search_slots")
        while search.model.rowCount() == 0:
            await pause(0.05)
        tree = search.tree
        tree.expand(search.model.index(0, 0))
        tree.setCurrentIndex(search.model.index(0, 0, search.model.index(0, 0)))
        await pause(1.0)
        await shoot(window, out)
        await desk.close()
        return
    line.ring("fievre-enfant")
    while not window.call_bar.answer_button.isEnabled():  # ringing at the desk
        await pause(0.05)
    QTest.keyClick(window, Qt.Key.Key_F2)
    while window.dossier_form.dossier is None:
        await pause(0.05)
    form = window.dossier_form
    form.edits["patient_last_name"].setText("Morin")
    form.edits["patient_last_name"].textEdited.emit("Morin")
    form.edits["patient_first_name"].setText("Zoé")
    form.edits["patient_first_name"].textEdited.emit("Zoé")
    form.age.setText("3")
    form.age.textEdited.emit("3")
    form.motif.setPlainText("Fièvre à 39,5 depuis hier soir, enfant tonique, boit bien")
    form._commune_typed("La Rochelle")
    form._commune_chosen(next(iter(form._commune_codes)))
    form.choose_priority("P2")
    await pause(2.5)
    await shoot(window, out)
    await desk.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--login-out", type=Path)
    parser.add_argument("--user", default="arm1")
    parser.add_argument("--fit-json", type=Path, help="écrire le contrôle de géométrie (JSON)")
    parser.add_argument("--night-out", type=Path, help="puis la même vue en thème de nuit")
    parser.add_argument("--night-fit-json", type=Path, help="contrôle de géométrie de nuit")
    parser.add_argument("--bigger", type=int, default=0, help="Ctrl+plus N fois avant")
    parser.add_argument(
        "--db",
        type=Path,
        help="base SQLite du hub (défaut : une neuve, remplie de la démo) ; les tests passent "
        "la copie d'une base de démo remplie une fois par session",
    )
    args = parser.parse_args()
    if args.bigger:
        TEXT_STEPS.append(args.bigger)
    if args.fit_json:
        FIT_REPORT.append(args.fit_json)
    if args.night_out:
        NIGHT["out"] = args.night_out
    if args.night_fit_json:
        NIGHT["fit"] = args.night_fit_json
    # A screenshot starts from the defaults, not from the arrangement a person saved.
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp()
    db = args.db or Path(tempfile.mkdtemp()) / "demo.sqlite3"
    hub = EmbeddedHub(f"sqlite:///{db}", demo=Demo())
    url = hub.start()
    app: QApplication = make_app()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            runner.run(drive(url, args.user, args.out, args.login_out))
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
