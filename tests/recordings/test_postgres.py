"""The recordings of several calls of one dossier on the shared deployment (PostgreSQL):
a call placed from the search uploaded and linked, the incoming and placed recordings
listed and the chosen one played; migration 0014 on a real PostgreSQL."""

from __future__ import annotations

import pytest

from tests.recordings.test_placed_recording import (
    test_a_call_placed_from_the_search_goes_to_the_hub_linked_to_the_dossier,
)
from tests.recordings.test_playback import (
    test_a_dossier_with_several_recordings_lists_them_and_plays_the_chosen_one,
)

pytestmark = pytest.mark.peers

__all__ = [
    "test_a_call_placed_from_the_search_goes_to_the_hub_linked_to_the_dossier",
    "test_a_dossier_with_several_recordings_lists_them_and_plays_the_chosen_one",
]


@pytest.fixture
def db_url(pg_empty: str) -> str:
    """The same tests, on a fresh schema of the run's PostgreSQL cluster."""
    return pg_empty
