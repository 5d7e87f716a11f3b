"""Frozen build entry point without a console (Windows shortcut): ``sasdesk desk``."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main(["desk", *sys.argv[1:]]))
