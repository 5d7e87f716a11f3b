"""Benchmarks that print JSON (``sasdesk bench …``)."""
