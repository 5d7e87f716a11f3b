"""The docked slot search: from the OSNP's dossier, book with Enter, other desks refresh."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import select

from app.db.models import Commune
from app.db.types import utcnow
from app.demo.seed import load_territory
from app.directory.demo import seed_directory_demo
from app.directory.models import Booking
from tests.core.flow_helpers import ORIENT_48H, Actor, answer_call
from tests.ui.conftest import focus, open_desk, until
from ui.widgets.search_panel import KIND, PAYLOAD


def test_osnp_searches_books_with_enter_and_the_other_desk_refreshes(  # type: ignore[no-untyped-def]
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
            "treating_doctor": f"Dr {mt['last_name']}",
        },
    )
    n1.send("dossier.qualify", dossier_id=d["id"], priority="P2")
    mrl.send("dossier.take", dossier_id=d["id"])
    task = mrl.send("dossier.decide", dossier_id=d["id"], **ORIENT_48H)["task"]

    async def scenario() -> int:
        osnp = await open_desk(hub_url, "osnp", tmp_path)
        other = await open_desk(hub_url, "osnp2", tmp_path)
        w, w2 = osnp.window, other.window
        assert w and w2 and w.search_panel and w2.search_panel and w.tasks_model
        for x in (w, w2):
            qtbot.addWidget(x)
        await until(lambda: w.tasks_model.rowCount() == 1, "task listed")
        w.task_panel.table.setCurrentIndex(w.tasks_model.index(0, 0))  # type: ignore[union-attr]
        w.task_panel.request_take()  # type: ignore[union-attr]
        await until(lambda: w.dossier_form.dossier is not None, "dossier shown")

        await focus(osnp)
        qtbot.keyClick(w, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        panel = w.search_panel
        await until(
            lambda: panel.model.rowCount() > 0,
            lambda: f"search results ({w.message_label.text()!r}, {panel.summary.text()!r})",
        )
        first = panel.model.item(0)
        assert first.text().startswith("★") and mt["last_name"] in first.text(), (
            "the patient's own doctor comes first"
        )
        assert panel.model.item(0, 1).text() == "Médecin traitant"
        assert "médecin(s)" in panel.summary.text()
        # The first bookable slot of the list, reached from the keyboard.
        target = next(
            panel.model.item(r)
            for r in range(panel.model.rowCount())
            if panel.model.item(r).data(KIND) == "doctor" and panel.model.item(r).rowCount()
        )
        slot_item = target.child(0)
        slot = slot_item.data(PAYLOAD)
        panel.tree.setCurrentIndex(slot_item.index())

        w2.search_panel.search_requested.emit({})  # the other OSNP has a list open
        await until(lambda: w2.search_panel.model.rowCount() > 0, "other desk results")
        before = w2.search_panel.summary.text()
        assert before

        qtbot.keyClick(panel.tree, Qt.Key.Key_Return)
        await until(lambda: "Réservé" in w.message_label.text(), "booking confirmed")

        def other_sees_it() -> bool:
            stack = [w2.search_panel.model.item(r) for r in range(w2.search_panel.model.rowCount())]
            while stack:
                item = stack.pop()
                payload = item.data(PAYLOAD) or {}
                if item.data(KIND) == "slot" and payload.get("id") == slot["id"]:
                    return payload["booked"] == slot["booked"] + 1  # a range: one more taken
                stack.extend(item.child(r) for r in range(item.rowCount()))
            return True  # a single slot, or a full range: gone from the list

        await until(other_sees_it, "the other desk's list refreshed")
        for desk in (osnp, other):
            await desk.close()
        return int(slot["id"])

    slot_id = qloop.run_until_complete(scenario())
    with sessions() as s:
        booking = s.scalar(select(Booking).where(Booking.slot_id == slot_id))
        assert booking is not None and booking.dossier_id == d["id"]
    assert task["id"]
