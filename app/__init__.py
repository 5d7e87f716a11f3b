"""sasdesk domain core and hub. Never imports Qt."""

__version__ = "0.1.0"
