"""A real X display for the tests that start the desk or the wizard under Xvfb.

Xvfb picks a free display number itself (``-displayfd``) and writes it once it accepts
connections: no guessed number that another run may take first, no polling for its
socket. Without Qt, so the package test (tests/installer) uses it as tests/ui does.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

#: How long Xvfb may take to start before the test fails saying so.
START_SECONDS = 10


@contextmanager
def x_display(size: str = "1600x1000", monitors: Sequence[str] = ()) -> Iterator[str]:
    """An Xvfb screen of ``size`` ("WxH", 24 bits); yields its DISPLAY (":N").

    ``monitors``: each one the arguments of ``xrandr --setmonitor``, a RandR 1.5 monitor
    on the one frame buffer, which Qt's xcb platform reads as a QScreen of its own (a
    room's desk with two screens); -noreset keeps them once xrandr disconnects."""
    # -noreset always: a server that resets when its last client leaves refuses a
    # client that connects during the reset ("could not connect to display", and Qt
    # aborts), which a test that starts a program after a probe or another program meets.
    xvfb = shutil.which("Xvfb")
    assert xvfb, "Xvfb is missing: run scripts/setup.sh (it installs xvfb)"
    xrandr = shutil.which("xrandr")
    assert xrandr or not monitors, "xrandr is missing: run scripts/setup.sh (x11-xserver-utils)"
    read, write = os.pipe()
    command = [xvfb, "-displayfd", str(write), "-screen", "0", f"{size}x24"]
    command += ["-noreset", "-nolisten", "tcp"]
    proc = subprocess.Popen(
        command, pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            ready, _, _ = select.select([pipe], [], [], START_SECONDS)
            number = pipe.readline().strip() if ready else ""
        assert number.isdigit(), f"Xvfb did not start within {START_SECONDS} s"
        display = f":{number}"
        for monitor in monitors:
            assert xrandr
            subprocess.run(
                [xrandr, "--setmonitor", *monitor.split()],
                env={**os.environ, "DISPLAY": display},
                check=True,
                capture_output=True,
                timeout=30,
            )
        yield display
    finally:
        proc.terminate()
        proc.wait(10)
