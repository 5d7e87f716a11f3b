"""Tests wait for a condition, not for a fixed time (tests/waits.py).

A sleep is a poll when it is inside a ``while`` loop that re-checks something (the
helpers of tests/waits.py, a process's port, a log line) or a bounded retry that breaks
out once it worked (``for _ in range(n): ... break``). Any other sleep in tests/ must
be the behaviour under test (RTP pacing, an observation window in which something must
NOT happen, a timeout being tested) and is listed here with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"

#: (path, function) → why that function sleeps a fixed time. A new entry needs a reason a
#: reviewer accepts; a stale one (no fixed sleep there any more) fails the test too.
ALLOWED: dict[tuple[str, str], str] = {
    (
        "tests/ui/test_search_panel.py",
        "test_osnp_searches_books_with_enter_and_the_other_desk_refreshes.scenario",
    ): (
        "after the booking, past the 300 ms merge window: what is asserted is that no "
        "second search comes, which no condition can wait for"
    ),  # fmt: skip
    (
        "tests/stats/test_catch_up.py",
        "test_the_running_hub_folds_after_enough_events_and_on_its_stop.scenario",
    ): (
        "six ticks of a hub with too few events written: what is asserted is that no "
        "catch-up runs before enough were, which no condition can wait for"
    ),  # fmt: skip
    # -- pacing: the rate is the behaviour ------------------------------------------------
    ("tests/telephony/test_fuzz.py", "test_a_storm_of_mutated_messages_leaves_the_line_working"): (
        "the storm is paced like a network (10 ms every 50 datagrams), then its tail "
        "drains: UDP tells nothing of what is still queued before the line is checked"
    ),
    ("tests/hub/test_sessions.py", "test_a_flood_of_wrong_passwords_does_not_stall_other_desks"): (
        "the honest desk's intents are paced (50 ms apart) through the flood they are timed in"
    ),
    ("tests/recordings/killed_desk.py", "main"): (
        "writes 20 ms frames in a loop until it is killed"
    ),
    ("tests/backup/load.py", "under_load"): (
        "the backup is taken while the flow writes: a warm-up of load before it, and half"
        " a second of writes after the snapshot"
    ),
    ("tests/ui/editor_booking_shot.py", "drive"): (
        "half a second for the desk to paint before each screen grab: no state to poll "
        "says the frame reached the X screen"
    ),
    ("tests/ui/platform_board_shot.py", "drive"): (
        "a moment for the desk to paint before each screen grab: no state to poll "
        "says the frame reached the X screen"
    ),
    ("tests/interop/fhir_server.py", "answer"): ("the slow editor being slow is what is tested"),
    ("tests/interop/fhir_server.py", "ror"): ("the slow ROR being slow is what is tested"),
    # -- durations: how long something lasts is the behaviour -----------------------------
    ("tests/telephony/test_long_call.py", "test_outgoing_calls_over_60_s_hung_up_by_either_side"): (
        "the calls must last over a minute"
    ),
    # -- observation windows: something must NOT happen during them -----------------------
    ("tests/telephony/test_call_control.py", "test_hold_and_resume"): (
        "packets already on the wire land (0.1 s), then for 0.5 s the held desk must send nothing"
    ),
    ("tests/telephony/test_registration.py", "test_wrong_password_fails_clearly_without_hanging"): (
        "1.5 s in which no retry and no second state may come (the failure is final)"
    ),
    ("tests/telephony/test_sip_tls.py", "test_a_certificate_that_does_not_verify_is_refused"): (
        "1 s in which no retry and no registration may come behind the user's back"
    ),
    ("tests/telephony/test_registration.py", "test_proxy_down_is_noticed_between_refreshes"): (
        "0.5 s of answered keep-alives (every 0.3 s; the line shows no count of them) "
        "before the proxy goes, so the loss is noticed by a keep-alive"
    ),
    (
        "tests/hub/test_sessions.py",
        "test_sessions_end_after_idle_time_and_shift_and_the_desk_logs_in_again",
    ): (
        "0.3 s (six rounds of the 50 ms session check) in which a session still active must not end"
    ),
    (
        "tests/ui/test_desk_command.py",
        "test_sip_desk_with_recordings_reaches_its_login_window_and_stays_up",
    ): ("the connected desk must keep running for STAY_UP s: staying up is what is tested"),
    # -- talk: a call stays up as a user's would, nothing observable ends it sooner --------
    ("tests/telephony/test_call_control.py", "test_outgoing_call_through_a_407_challenge"): (
        "the call talks 0.5 s before the desk hangs up, as a user's would: nothing the "
        "line exposes tells that SIPp's scenario has taken our ACK and waits for the BYE"
    ),
    ("tests/telephony/test_incoming.py", "test_desk_hangs_up"): (
        "the call talks 0.3 s before the desk hangs up, as a user's would: nothing the "
        "line exposes tells that SIPp's caller scenario waits for the BYE"
    ),
    ("tests/installer/test_package.py", "test_deb_builds_installs_runs_and_purges"): (
        "the login window is on screen; 1 s for Qt to paint it before the screenshot a "
        "person looks at"
    ),
}


def _stops_early(loop: ast.For | ast.AsyncFor) -> bool:
    """A bounded retry (``for _ in range(n): ... break``) polls too: it ends on a condition."""
    stack: list[ast.AST] = list(loop.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Break):
            return True
        if not isinstance(
            node, ast.For | ast.AsyncFor | ast.While | ast.FunctionDef | ast.AsyncFunctionDef
        ):
            stack.extend(ast.iter_child_nodes(node))
    return False


def fixed_sleeps(path: Path) -> list[tuple[str, int]]:
    """(function, line) of every sleep call outside a ``while`` loop; the function is
    named with the functions around it (``test_x.scenario``)."""
    found: list[tuple[str, int]] = []

    def walk(node: ast.AST, function: str, polling: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner, poll = function, polling
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name if function == "<module>" else f"{function}.{child.name}"
                poll = False
            elif isinstance(child, ast.Lambda):
                poll = False
            elif isinstance(child, ast.While) or (
                isinstance(child, ast.For | ast.AsyncFor) and _stops_early(child)
            ):
                poll = True
            if isinstance(child, ast.Call) and not polling:
                callee = child.func
                name = callee.attr if isinstance(callee, ast.Attribute) else None
                name = callee.id if isinstance(callee, ast.Name) else name
                if name == "sleep":
                    found.append((function, child.lineno))
            walk(child, inner, poll)

    walk(ast.parse(path.read_text(encoding="utf-8")), "<module>", False)
    return found


def test_the_scan_tells_a_poll_from_a_fixed_sleep(tmp_path: Path) -> None:
    """The check can fail: a bare sleep is found, a polling one is not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import asyncio, time\n"
        "from time import sleep\n"
        "async def polls(ready):\n"
        "    while not ready():\n"
        "        await asyncio.sleep(0.02)\n"
        "def waits():\n"
        "    time.sleep(1)\n"
        "    for _ in range(3):\n"
        "        sleep(0.1)\n"
        "    for _ in range(3):\n"
        "        if ready():\n"
        "            break\n"
        "        sleep(0.1)\n"
        "    while True:\n"
        "        def inner():\n"
        "            time.sleep(2)\n",
        encoding="utf-8",
    )
    assert fixed_sleeps(sample) == [("waits", 7), ("waits", 9), ("waits.inner", 16)]


def test_no_fixed_sleep_in_the_tests_outside_the_allow_list() -> None:
    seen: dict[tuple[str, str], list[int]] = {}
    for path in sorted(TESTS.rglob("*.py")):
        for function, line in fixed_sleeps(path):
            key = (str(path.relative_to(ROOT)), function)
            seen.setdefault(key, []).append(line)
    new = {k: v for k, v in seen.items() if k not in ALLOWED}
    assert not new, (
        "fixed sleeps in tests: wait for the condition instead (tests/waits.py), or, if "
        f"the sleep is the behaviour under test, list it in ALLOWED with why: {new}"
    )
    stale = sorted(set(ALLOWED) - set(seen))
    assert not stale, f"ALLOWED lists functions that no longer sleep: {stale}"
    assert all(reason.strip() for reason in ALLOWED.values())
