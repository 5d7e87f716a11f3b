#!/bin/sh
# Install everything (including the real peers: Kamailio, SIPp, PostgreSQL, Xvfb),
# then run the whole test suite. Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
