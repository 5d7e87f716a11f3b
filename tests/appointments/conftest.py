"""The room of tests/appointments/test_hub_feedback.py (a hub with its appointment
endpoint, an editor's certificates, logged-in desks), for the other tests here."""

from tests.appointments.test_hub_feedback import room  # noqa: F401 - a fixture
