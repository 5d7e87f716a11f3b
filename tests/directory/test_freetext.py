"""The free-text availabilities of seed 003, read into weekly rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.directory.freetext import WeeklyRule, occurrences, parse_availability
from app.directory.vocab import PARIS

# The list CPTS La Rochelle sent to the SAMU on 8 January 2024 (seed 003).
SEED_003 = [
    "Vendredi 16h-18h",
    "Lundi 12h00-12h30 et 14h-14h30",
    "les lundi mardi jeudi et vendredi de 14h à 15h et le mercredi de 18h à 19h",
    "Du lundi au jeudi, de 11h45 à 12h15 (3 créneaux) et de 18h00 à 18h45 (4 créneaux)",
    "Mardi 15h30a16h30 et vendredi 14h30à15h30",
    "1creneau sur l'heure du dej le mardi et le jeudi",
    "Mercredi matin de 9 H à 12 H",
    "si il reste des plages disponibles le jour même sur mon agenda",
    "16-17h",
    "14h et 17h pour SNP pédiatrique principalement",
    "appeler le jour meme et organisation avec la secrétaire au courant",
    "1 à 2 consultations par jour dans l'après midi lundi mardi jeudi vendredi",
    "jeudi de 15h à 17h",
    "1 à 2 consultation par jour",
    "voir agenda doctolib",
]


def rules_of(line: str) -> list[tuple[tuple[int, ...], str, str, int, int]]:
    parsed = parse_availability([line])
    assert not parsed.unreadable, parsed.unreadable
    return [
        (
            r.weekdays,
            f"{r.start_minute // 60}:{r.start_minute % 60:02d}",
            f"{r.end_minute // 60}:{r.end_minute % 60:02d}",
            r.capacity,
            r.slot_minutes,
        )
        for r in parsed.rules
    ]


def test_simple_day_and_range() -> None:
    assert rules_of("Vendredi 16h-18h") == [((4,), "16:00", "18:00", 1, 15)]
    assert rules_of("Mercredi matin de 9 H à 12 H") == [((2,), "9:00", "12:00", 1, 15)]


def test_two_ranges_same_day_and_two_days_two_ranges() -> None:
    assert rules_of("Lundi 12h00-12h30 et 14h-14h30") == [
        ((0,), "12:00", "12:30", 1, 15),
        ((0,), "14:00", "14:30", 1, 15),
    ]
    assert rules_of("Mardi 15h30a16h30 et vendredi 14h30à15h30") == [
        ((1,), "15:30", "16:30", 1, 15),
        ((4,), "14:30", "15:30", 1, 15),
    ]


def test_day_lists_and_second_group() -> None:
    assert rules_of(
        "les lundi mardi jeudi et vendredi de 14h à 15h et le mercredi de 18h à 19h"
    ) == [((0, 1, 3, 4), "14:00", "15:00", 1, 15), ((2,), "18:00", "19:00", 1, 15)]


def test_day_span_with_slot_counts() -> None:
    assert rules_of(
        "Du lundi au jeudi, de 11h45 à 12h15 (3 créneaux) et de 18h00 à 18h45 (4 créneaux)"
    ) == [((0, 1, 2, 3), "11:45", "12:15", 1, 10), ((0, 1, 2, 3), "18:00", "18:45", 1, 11)]


def test_times_before_days_range_of_patients_type_and_alternate_weeks() -> None:
    assert rules_of("16h-17h du lundi au vendredi") == [((0, 1, 2, 3, 4), "16:00", "17:00", 1, 15)]
    assert rules_of("Mardi et jeudi 8h30-9h (plage de 3 patients)") == [
        ((1, 3), "8:30", "9:00", 3, 0)
    ]
    parsed = parse_availability(
        ["Téléconsultation le lundi soir 19h-20h", "Samedi matin 9h-11h, une semaine sur deux"]
    )
    assert parsed.rules[0].consultation_type == "teleconsultation"
    assert parsed.rules[1].every_other_week and parsed.warnings


def test_unreadable_lines_are_listed_with_a_reason_not_dropped() -> None:
    parsed = parse_availability(SEED_003)
    unreadable = dict(parsed.unreadable)
    assert set(unreadable) == {
        "1creneau sur l'heure du dej le mardi et le jeudi",
        "si il reste des plages disponibles le jour même sur mon agenda",
        "16-17h",
        "14h et 17h pour SNP pédiatrique principalement",
        "appeler le jour meme et organisation avec la secrétaire au courant",
        "1 à 2 consultations par jour dans l'après midi lundi mardi jeudi vendredi",
        "1 à 2 consultation par jour",
        "voir agenda doctolib",
    }
    assert unreadable["16-17h"] == "jour non précisé pour l'horaire"
    assert "isolée" in unreadable["14h et 17h pour SNP pédiatrique principalement"]
    read_lines = {r.source_text for r in parsed.rules}
    assert len(read_lines) + len(unreadable) == len(SEED_003)


def test_occurrences_keep_local_time_across_dst() -> None:
    rule = WeeklyRule((6,), 14 * 60, 15 * 60, slot_minutes=30)
    # Sunday 29 March 2026: clocks go forward at 2:00 in Paris.
    since = datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    occ = list(occurrences(rule, since, since + timedelta(days=2)))
    assert [o.start.astimezone(PARIS).strftime("%H:%M") for o in occ] == ["14:00", "14:30"]
    assert occ[0].start == datetime(2026, 3, 29, 12, 0, tzinfo=UTC)  # UTC+2 after the change


def test_range_rule_gives_one_multi_patient_range() -> None:
    rule = WeeklyRule((0,), 8 * 60 + 30, 9 * 60, capacity=3, slot_minutes=0)
    occ = list(
        occurrences(
            rule, datetime(2026, 11, 23, 0, 0, tzinfo=UTC), datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
        )
    )
    assert [(o.capacity, o.end - o.start) for o in occ] == [(3, timedelta(minutes=30))]
