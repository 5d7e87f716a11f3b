"""Desk tests: offscreen Qt on a qasync loop, against a real hub on a real websocket."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtWidgets import QWidget
from sqlalchemy.orm import Session, sessionmaker

from app.db.engine import make_engine, make_sessionmaker
from app.flow.service import FlowService
from app.hub.auth import Principal

if TYPE_CHECKING:
    from app.bench.psc_double import PscDouble

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.client.hub_client import HubClient  # noqa: E402
from app.room.embedded import EmbeddedHub  # noqa: E402
from telephony.line import PhoneLine  # noqa: E402
from tests.conftest import PASSWORD  # noqa: E402
from tests.sip_room import room_factory, sipp_factory  # noqa: E402, F401  (fixtures)
from tests.waits import until  # noqa: E402  (re-exported: the desk tests import it here)
from tests.xvfb import x_display  # noqa: E402
from ui.desk import Desk  # noqa: E402

#: A desk scenario still awaiting after this long fails, under pytest-timeout's 300 s.
SCENARIO_SECONDS = 240.0


class GuardedLoop(qasync.QEventLoop):
    """The desk tests' loop: a scenario that awaits forever fails, naming what each task
    awaits, instead of holding the run until CI's hard limit. pytest-timeout's alarm
    cannot stop it: Python runs a signal's handler only between bytecodes, and a loop
    with nothing scheduled sleeps in Qt's poll without running any (a fresh-clone run
    hung so in tests/ui/test_sip_desk_audio.py)."""

    def run_until_complete(self, future: Any) -> Any:
        if asyncio.iscoroutine(future):
            future = _guarded(future)
        return super().run_until_complete(future)


async def _guarded(scenario: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await asyncio.wait_for(scenario, SCENARIO_SECONDS)
    except TimeoutError:
        stacks = io.StringIO()
        for task in asyncio.all_tasks():
            task.print_stack(file=stacks)
        raise AssertionError(
            f"the scenario still awaited after {SCENARIO_SECONDS:.0f} s; the tasks:\n"
            + stacks.getvalue()
        ) from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "psc_room(**settings): the psc_url room's PSC settings")


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    qapp.setQuitOnLastWindowClosed(False)  # as ui.launch does: closing a desk ≠ quitting
    loop = GuardedLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()  # now, while Qt objects live: qasync cannot close after they are gone
    asyncio.set_event_loop(None)


@pytest.fixture
def screen_size() -> str:
    """The Xvfb screen's size ("WxH"): parametrise ``screen_size`` to change it."""
    return "1600x1000"


@pytest.fixture
def monitors() -> tuple[str, ...]:
    """RandR monitors on the Xvfb screen (``xrandr --setmonitor`` arguments, one a
    monitor): none unless parametrised, then Qt sees one screen a monitor."""
    return ()


@pytest.fixture
def xvfb_display(screen_size: str, monitors: tuple[str, ...]) -> Iterator[str]:
    """A real X display (Xvfb) for the test; its DISPLAY (":N"), stopped after it."""
    with x_display(screen_size, monitors) as display:
        yield display


@pytest.fixture
def xvfb_env(xvfb_display: str) -> dict[str, str]:
    """The environment of a process that draws on the test's Xvfb display (Qt's xcb)."""
    return {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb"}


@pytest.fixture(scope="session")
def demo_template(schema_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database seeded with the demo room once per run, as a hub started with
    --demo seeds an empty one (accounts, territory, care offer and its slots for 72 h):
    seeding costs seconds (argon2 on purpose, the directory), a copy ~1 ms."""
    from app.demo.seed import Demo

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copyfile(schema_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with make_sessionmaker(engine).begin() as s:
        assert Demo().seed(s, None), "the demo seeds an empty database"
    engine.dispose()
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> Path:
    """The test's own copy of the seeded demo database (scripts/screenshot_desk.py --db)."""
    return Path(shutil.copyfile(demo_template, tmp_path / "demo.sqlite3"))


@pytest.fixture
def embedded(db_url: str, sessions: sessionmaker[Session]) -> Iterator[EmbeddedHub]:
    """A real hub on the test database (its accounts in), in a thread of its own."""
    hub = EmbeddedHub(db_url)
    hub.start()
    yield hub
    hub.stop()


@pytest.fixture
def hub_url(embedded: EmbeddedHub) -> str:
    """The ``embedded`` hub's websocket address, where the desks connect."""
    return embedded.hub.url


@pytest.fixture
def psc() -> Iterator[PscDouble]:
    """The PSC double on loopback, knowing the room's professionals (tests/ui/psc_room.py)."""
    from tests.ui.psc_room import psc_double

    double = psc_double()
    yield double
    double.stop()


@pytest.fixture
def psc_url(
    request: pytest.FixtureRequest, db_url: str, sessions: sessionmaker[Session], psc: PscDouble
) -> Iterator[str]:
    """An embedded hub whose room uses the PSC double (MRLs must, AMU doctors may), with
    the accounts' national identifiers; ``@pytest.mark.psc_room(pkce=True)`` (or
    ``fallback=…``) passes the room's other PSC settings."""
    from tests.ui.psc_room import psc_hub

    marker = request.node.get_closest_marker("psc_room")
    with psc_hub(db_url, sessions, psc, **(marker.kwargs if marker else {})) as url:
        yield url


async def open_desk(url: str, username: str, tmp_path: Path, line: PhoneLine | None = None) -> Desk:
    desk = Desk(HubClient(url, desk=username, journal=tmp_path / f"{username}.json"), line)
    await desk.client.connect()
    await desk.client.login(username, PASSWORD)
    window = desk.build()
    window.show()
    return desk


async def focus(desk: Desk) -> None:
    assert desk.window is not None
    handle = desk.window.windowHandle()
    assert handle is not None
    handle.requestActivate()
    await until(desk.window.isActiveWindow, f"{desk.window.windowTitle()} active")


def type_text(widget: QWidget, text: str) -> None:
    """Type like a French keyboard would, accents included (QTest only knows ASCII)."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeyEvent

    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(
                widget, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch)
            )


def seed_territory(sessions: sessionmaker[Session], *, directory: bool = True) -> dict:
    """The demo territory's communes (and its care offer) in the test database."""
    from app.db.models import Commune
    from app.db.types import utcnow
    from app.demo.seed import load_territory
    from app.directory.demo import seed_directory_demo

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
        if directory:
            seed_directory_demo(s, territory, utcnow())
    return territory


@pytest.fixture
def territory(sessions: sessionmaker[Session]) -> dict:
    """The demo territory seeded (``seed_territory``): communes, GPs, paediatricians.
    A test asks for it after ``hub_url``, so that the hub is up before the territory
    comes, as it was when the tests seeded it in their bodies."""
    return seed_territory(sessions)


@pytest.fixture
def mt(territory: dict) -> dict:
    """The patient's médecin traitant in the desk tests: a GP practising in La Rochelle
    (17300), the commune of ``child_fever``'s patient."""
    return next(e for e in territory["effecteurs"] if e["practice"]["commune_insee"] == "17300")


@pytest.fixture
def cpts_manager(sessions: sessionmaker[Session], password_hash: str) -> str:
    """A CPTS's agenda manager's account, who edits its doctors' agendas: its username."""
    from app.db.models import User

    with sessions.begin() as s:
        s.add(
            User(
                username="cpts",
                display_name="Gestionnaire CPTS",
                role="GESTIONNAIRE_CPTS",
                password_hash=password_hash,
            )
        )
    return "cpts"


def oriented_task(
    service: FlowService, people: dict[str, Principal], treating_doctor: str
) -> tuple[dict, dict]:
    """A child's fever in La Rochelle, regulated by the MRL to a consultation < 48 h."""
    from tests.flow.flow_helpers import ORIENT_48H, Actor

    d = child_fever(service, people, treating_doctor)
    mrl = Actor(service, people["mrl"])
    mrl.send("dossier.take", dossier_id=d["id"])
    task = mrl.send("dossier.decide", dossier_id=d["id"], **ORIENT_48H)["task"]
    return d, task


def child_fever(service: FlowService, people: dict[str, Principal], treating_doctor: str) -> dict:
    """A child's fever in La Rochelle, qualified P2 by N1: in the MRL's queue."""
    from tests.flow.flow_helpers import Actor, answer_call

    n1 = Actor(service, people["n1"])
    d = answer_call(n1)
    n1.send(
        "dossier.update",
        dossier_id=d["id"],
        fields={
            "patient_first_name": "Zoé",
            "patient_age": 3,
            "commune_insee": "17300",
            "motif": "Fièvre 39,5",
            "treating_doctor": treating_doctor,
        },
    )
    n1.send("dossier.qualify", dossier_id=d["id"], priority="P2")
    return d
