#!/bin/sh
# Install everything (including the real peers: Kamailio, SIPp, PostgreSQL, Xvfb),
# then run the whole test suite. Extra arguments go to pytest.
#   scripts/test.sh             the suite, without the package test
#   scripts/test.sh --package   the package test alone: builds the .deb from a clean
#                               clone, installs, runs and purges it (root, Debian)
set -eu
cd "$(dirname "$0")/.."
marker="not package"
if [ "${1:-}" = "--package" ]; then
    shift
    marker="package"
fi
sh scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -q -p no:cacheprovider -m "$marker" "$@"
