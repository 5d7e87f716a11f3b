#!/bin/sh
# Install everything (including the real peers: Kamailio, SIPp, PostgreSQL, Xvfb),
# then run the whole test suite: the tests, then the package test (it builds the .deb
# from a clean clone, installs, runs and purges it: root, Debian), in its own run
# because it installs a machine-wide /etc/sasdesk for a while.
#   scripts/test.sh                 everything (what .ci/run runs)
#   scripts/test.sh --package       the package test alone
#   scripts/test.sh tests/ui -x     extra arguments: those tests only (no package test)
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh --test
export QT_QPA_PLATFORM=offscreen
pytest() {
    .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
}
if [ "${1:-}" = "--package" ]; then
    shift
    pytest -m package "$@"
elif [ $# -gt 0 ]; then
    pytest -m "not package" "$@"
else
    pytest -m "not package" --durations=25
    pytest -m package
fi
