"""The call-back panel docked in the OSNP's desk: plan, dial through the line, outcome."""

from __future__ import annotations

from app.db.models import Commune
from app.db.types import utcnow
from app.demo.seed import load_territory
from app.directory.demo import seed_directory_demo
from telephony.training import TrainingLine
from tests.core.flow_helpers import ORIENT_48H, Actor, answer_call
from tests.ui.conftest import open_desk, until


def test_osnp_takes_a_task_dials_the_treating_doctor_and_records_no_answer(  # type: ignore[no-untyped-def]
    qloop, qtbot, hub_url, sessions, service, people, tmp_path
) -> None:
    territory = load_territory()
    with sessions.begin() as s:
        for c in territory["communes"]:
            s.add(
                Commune(
                    insee=c["insee"],
                    name=c["name"],
                    sector=c["sector"],
                    postal_codes=" ".join(c["postal_codes"]),
                    lat=c["lat"],
                    lon=c["lon"],
                )
            )
        seed_directory_demo(s, territory, utcnow())
    mt = next(e for e in territory["effecteurs"] if e["practice"]["commune_insee"] == "17300")
    n1, mrl = Actor(service, people["n1"]), Actor(service, people["mrl"])
    d = answer_call(n1)
    n1.send(
        "dossier.update",
        dossier_id=d["id"],
        fields={
            "patient_first_name": "Zoé",
            "patient_age": 3,
            "commune_insee": "17300",
            "motif": "Fièvre 39,5",
            "treating_doctor": f"Dr {mt['first_name']} {mt['last_name']}",
        },
    )
    n1.send("dossier.qualify", dossier_id=d["id"], priority="P2")
    mrl.send("dossier.take", dossier_id=d["id"])
    mrl.send("dossier.decide", dossier_id=d["id"], **ORIENT_48H)
    line = TrainingLine([], interval=0, answer_delay=0.2)

    async def scenario() -> None:
        desk = await open_desk(hub_url, "osnp", tmp_path, line)
        w = desk.window
        assert w is not None and w.callback_panel is not None and w.task_panel is not None
        qtbot.addWidget(w)
        panel = w.callback_panel
        await until(lambda: w.tasks_model.rowCount() == 1, "task listed")  # type: ignore[union-attr]
        w.task_panel.table.setCurrentIndex(w.tasks_model.index(0, 0))  # type: ignore[union-attr]
        w.task_panel.request_take()
        await until(lambda: panel.model.rowCount() > 0, "the plan is shown")
        first = panel.model.row_at(0)
        assert first is not None and mt["last_name"] in first["name"], "the MT comes first"
        assert panel.current_target() is not None

        panel.call_direct.click()  # dials through the desk's line
        await until(lambda: w.call_bar.hangup_button.isEnabled(), "outgoing call")
        await until(lambda: "En ligne" in w.call_bar.timer_label.text(), "the doctor answers")
        w.hangup()
        await until(lambda: not w.call_bar.hangup_button.isEnabled(), "hung up")
        target = panel.current_target()
        assert target is not None and panel.call_facts.get(target["id"]), "call attached"
        panel.result_buttons[next(r for r in panel.result_buttons if r == "NO_ANSWER")].click()

        def status_changed() -> bool:
            row = panel.model.row_at(panel.model.position(target["id"]) or 0)
            return row is not None and row["status"] != "TO_CALL"

        await until(status_changed, "the plan shows the attempt and its retry")
        await desk.close()

    qloop.run_until_complete(scenario())
