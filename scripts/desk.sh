#!/bin/sh
# Install what is needed, then start the desk on the embedded default: hub in-process
# on a SQLite file in the user's data directory, demo territory, training line.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
exec .venv/bin/sasdesk "$@"
