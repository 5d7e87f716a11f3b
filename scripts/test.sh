#!/bin/sh
# Install everything (including the real peers: Kamailio, SIPp, PostgreSQL, Xvfb),
# then run the whole test suite: the tests, then the package test (it builds the .deb
# from a clean clone, installs, runs and purges it: root, Debian), in its own run
# because it installs a machine-wide /etc/sasdesk for a while. The tests marked
# beside_package (at most one core, no pace a busy machine breaks: a minute of calls in
# real time, mypy; they start no hub, so never read /etc/sasdesk) run at the same time
# as the package test, whose build (pip, PyInstaller, dpkg-shlibdeps) keeps one core
# busy: their output follows the package test's; either failing fails the whole.
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
    pytest -m "not package and not beside_package" --durations=25
    side_log=$(mktemp)
    pytest -m "beside_package and not package" --durations=5 >"$side_log" 2>&1 &
    side=$!
    status=0
    pytest -m package tests/installer || status=$?
    side_status=0
    wait "$side" || side_status=$?
    echo "--- beside the package test: pytest -m beside_package"
    cat "$side_log"
    rm -f "$side_log"
    [ "$status" -ne 0 ] && exit "$status"
    exit "$side_status"
fi
