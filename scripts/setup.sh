#!/bin/sh
# Install what sasdesk needs on a fresh Debian machine: the system libraries Qt
# needs to open a window (and Xvfb for headless screenshots), then a virtual
# environment in .venv with the project and its dependencies.
#   scripts/setup.sh          the desk
#   scripts/setup.sh --test   the desk, the test tools and the real peers (Kamailio,
#                             SIPp, PostgreSQL, RabbitMQ) the test suite starts itself
# Idempotent: apt-get runs only when a package is missing; pip only when the
# project or its dependencies changed.
set -eu
cd "$(dirname "$0")/.."
WITH_TESTS=0
[ "${1:-}" = "--test" ] && WITH_TESTS=1

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

# Qt's xcb platform and fonts (PySide6 wheels bundle Qt, not these system libraries).
packages="libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core
libportaudio2 python3-venv"
if [ "$WITH_TESTS" = 1 ]; then
    # x11-utils, dpkg-dev, desktop-file-utils: the package test (build-linux.sh,
    # xwininfo, desktop-file-validate); x11-xserver-utils: xrandr, the two-screen test
    packages="$packages xvfb postgresql poppler-utils rabbitmq-server x11-utils dpkg-dev
    desktop-file-utils x11-xserver-utils"
fi
missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing system packages:$missing"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        $missing >/dev/null
fi
if [ "$WITH_TESTS" = 1 ]; then
    sh scripts/install-peers.sh
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
extras=""
[ "$WITH_TESTS" = 1 ] && extras="[test]"
stamp=".venv/.installed$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".$extras"
    touch "$stamp"
fi
