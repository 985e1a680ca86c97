from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.coldchain.rules import (
    BadHeader,
    SlotStatus,
    day_slots,
    default_range,
    extremes,
    missing,
    out_of_range,
    parse_logger_csv,
    parse_times,
    schedule,
    to_tenths,
)

TORONTO = ZoneInfo("America/Toronto")
TIMES = [time(9, 0), time(16, 0)]
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("value", "tenths"), [(2.0, 20), ("8.0", 80), ("1,9", 19), (-15.5, -155), ("8.1", 81), (0, 0)]
)
def test_temperatures_are_kept_to_the_tenth(value: float | str, tenths: int) -> None:
    assert to_tenths(value) == tenths


@pytest.mark.parametrize("value", ["5.25", "abc", "", "nan", "inf", 61.0, -91.0])
def test_finer_than_a_tenth_or_impossible_values_are_refused(value: float | str) -> None:
    with pytest.raises(ValueError):
        to_tenths(value)


@pytest.mark.parametrize(
    ("current", "minimum", "maximum", "out"),
    [
        (20, 20, 80, []),  # 2.0 and 8.0 are in range
        (19, 20, 50, ["current"]),
        (81, 20, 81, ["current", "max"]),
        (50, 19, 60, ["min"]),
        (50, 40, 81, ["max"]),
        (50, 20, 80, []),
        (50, None, None, []),
        (19, None, None, ["current"]),
    ],
)
def test_edge_values_on_current_min_and_max(
    current: int, minimum: int | None, maximum: int | None, out: list[str]
) -> None:
    assert out_of_range(current, minimum, maximum, 20, 80) == out


def test_default_ranges() -> None:
    assert default_range("fridge") == (20, 80)
    assert default_range("freezer") == (-500, -150)


def test_extremes_cover_min_and_max_values() -> None:
    assert extremes([50, None, 85, 12, 40]) == (12, 85)
    with pytest.raises(ValueError):
        extremes([None])


def test_reading_times_are_parsed_and_sorted() -> None:
    assert parse_times(" 16:00, 09:30 ") == [time(9, 30), time(16, 0)]
    for bad in ("", "9h", "25:00", "09:00,09:00"):
        with pytest.raises(ValueError):
            parse_times(bad)


def test_slots_follow_the_site_clock_across_both_dst_changes() -> None:
    # Toronto: EST is UTC-5, EDT UTC-4. 2026-03-08 springs forward, 2026-11-01 falls back.
    before, spring, fall = (
        day_slots(d, TIMES, TORONTO) for d in (date(2026, 3, 7), date(2026, 3, 8), date(2026, 11, 1))
    )
    assert [s.due_at for s in before] == [
        datetime(2026, 3, 7, 14, tzinfo=UTC),
        datetime(2026, 3, 7, 21, tzinfo=UTC),
    ]
    assert [s.due_at for s in spring] == [
        datetime(2026, 3, 8, 13, tzinfo=UTC),
        datetime(2026, 3, 8, 20, tzinfo=UTC),
    ]
    assert [s.due_at for s in fall] == [
        datetime(2026, 11, 1, 14, tzinfo=UTC),
        datetime(2026, 11, 1, 21, tzinfo=UTC),
    ]
    # The 23-hour day's windows start at local midnight (05:00 UTC) and end at the next (04:00 UTC).
    assert spring[0].window_start == datetime(2026, 3, 8, 5, tzinfo=UTC)
    assert spring[-1].window_end == datetime(2026, 3, 9, 4, tzinfo=UTC)
    assert fall[-1].window_end - fall[0].window_start == timedelta(hours=25)
    # Windows meet halfway between the two times (12:30 local).
    assert spring[0].window_end == spring[1].window_start == datetime(2026, 3, 8, 16, 30, tzinfo=UTC)


def test_a_time_skipped_by_the_spring_change_still_has_a_slot() -> None:
    (slot,) = day_slots(date(2026, 3, 8), [time(2, 30)], TORONTO)
    assert slot.due_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_missing_readings_with_grace_and_closed_days() -> None:
    day = date(2026, 3, 8)
    morning = datetime(2026, 3, 8, 13, tzinfo=UTC)  # 09:00 EDT
    afternoon = datetime(2026, 3, 8, 20, tzinfo=UTC)

    def statuses(taken: list[datetime], now: datetime, closed: list[date] | None = None) -> list[SlotStatus]:
        states = schedule([day], TIMES, TORONTO, taken, now, HOUR, closed or [])
        return [s.status for s in states]

    assert statuses([], morning - timedelta(minutes=1)) == [SlotStatus.UPCOMING, SlotStatus.UPCOMING]
    assert statuses([], morning) == [SlotStatus.DUE, SlotStatus.UPCOMING]
    assert statuses([], morning + HOUR - timedelta(seconds=1)) == [SlotStatus.DUE, SlotStatus.UPCOMING]
    assert statuses([], morning + HOUR) == [SlotStatus.OVERDUE, SlotStatus.UPCOMING]
    # A reading at 08:40 counts for the morning; one at 12:00 too; 13:00 counts for the afternoon.
    early = morning - timedelta(minutes=20)
    assert statuses([early], afternoon + HOUR) == [SlotStatus.DONE, SlotStatus.OVERDUE]
    assert statuses([morning + 3 * HOUR], afternoon) == [SlotStatus.DONE, SlotStatus.DUE]
    assert statuses([morning + 4 * HOUR], afternoon) == [SlotStatus.OVERDUE, SlotStatus.DONE]
    # The day before's late reading does not count for this morning.
    assert statuses([datetime(2026, 3, 8, 4, 59, tzinfo=UTC)], morning + HOUR)[0] == SlotStatus.OVERDUE
    # Closed days owe nothing, but a reading taken anyway is shown as done.
    assert statuses([], afternoon + 2 * HOUR, [day]) == [SlotStatus.CLOSED, SlotStatus.CLOSED]
    assert statuses([early], afternoon + 2 * HOUR, [day]) == [SlotStatus.DONE, SlotStatus.CLOSED]
    states = schedule([day], TIMES, TORONTO, [], afternoon, HOUR)
    assert [s.status for s in missing(states)] == [SlotStatus.OVERDUE, SlotStatus.DUE]


def test_logger_csv_reports_bad_rows_duplicates_and_gaps() -> None:
    text = (
        "Timestamp,Temperature\n"
        "2026-03-01T10:00:00-05:00,4.5\n"
        "2026-03-01 10:10,4.6\n"  # local time: the site's zone
        "2026-03-01T10:10:00-05:00,4.6\n"  # the same instant again
        "2026-03-01 10:20,warm\n"
        "not a date,5.0\n"
        "2026-03-01 10:20\n"
        "\n"
        "2026-03-01 11:20,8.4\n"
    )
    parsed = parse_logger_csv(text, TORONTO)
    assert [(r.row, r.tenths) for r in parsed.rows] == [(2, 45), (3, 46), (9, 84)]
    assert parsed.rows[1].taken_at == datetime(2026, 3, 1, 15, 10, tzinfo=UTC)
    assert [e["row"] for e in parsed.errors] == [5, 6, 7]
    assert parsed.duplicates == [{"row": 4, "first_row": 3, "taken_at": "2026-03-01T15:10:00+00:00"}]
    assert parsed.gaps == [
        {"from": "2026-03-01T15:10:00+00:00", "to": "2026-03-01T16:20:00+00:00", "minutes": 70}
    ]


def test_logger_csv_with_semicolons_and_decimal_commas() -> None:
    parsed = parse_logger_csv("horodatage;température\n2026-03-01 10:00;4,5\n", TORONTO)
    assert [r.tenths for r in parsed.rows] == [45]
    assert parsed.errors == []


@pytest.mark.parametrize("text", ["", "when,temp\n2026-03-01 10:00,4.5\n", "2026-03-01 10:00,4.5\n"])
def test_logger_csv_with_a_bad_header_is_refused(text: str) -> None:
    with pytest.raises(BadHeader):
        parse_logger_csv(text, TORONTO)
