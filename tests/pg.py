"""A throwaway PostgreSQL cluster for the tests (the benches use it too)."""

from app.bench.pgtemp import postgres_cluster

__all__ = ["postgres_cluster"]
