"""sasdesk domain core and hub. Never imports Qt."""

from importlib.metadata import PackageNotFoundError, version

try:
    # One source: pyproject.toml's version, read from the installed package's metadata
    # (the frozen builds carry that metadata too).
    __version__ = version("sasdesk")
except PackageNotFoundError:  # a bare checkout that was never installed
    __version__ = "0+unknown"
