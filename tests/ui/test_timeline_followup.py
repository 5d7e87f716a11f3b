"""The dossier's timeline says what became of the appointment, and who said it."""

from __future__ import annotations

from ui.widgets.timeline import describe

AT = "2026-11-24T16:05:12+00:00"


def test_the_appointments_fate_reads_with_its_source() -> None:
    by_agenda = {
        "type": "callback.appointment_status",
        "at": AT,
        "actor": None,
        "data": {
            "from_status": "BOOKED",
            "status": "HONOURED",
            "note": "retour de l'agenda (agenda-a)",
        },
    }
    by_osnp = {
        "type": "callback.appointment_status",
        "at": AT,
        "actor": "Léa Roche",
        "data": {"from_status": "BOOKED", "status": "NO_SHOW", "note": ""},
    }
    assert describe(by_agenda)[10:] == "Suivi du RDV : Honoré (retour de l'agenda (agenda-a))"
    assert describe(by_osnp)[10:] == "Suivi du RDV : Patient non venu — Léa Roche"
