"""Swedish days off and the recovery deadline (Jordabalken 12:44 with Lag 1930:173)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from scheduler.calendar import (
    at_local,
    day_off_reason,
    holiday_name,
    is_business_day,
    is_holiday,
    legal_deadline,
    local_date,
    next_business_day,
    previous_business_day,
    recovery_deadline,
)


@pytest.mark.parametrize(
    ("served", "deadline", "why"),
    [
        (date(2026, 3, 2), date(2026, 3, 23), "a Monday three weeks later is an ordinary weekday"),
        (date(2026, 5, 29), date(2026, 6, 22), "Friday before midsummer: ends on midsummer eve"),
        (date(2025, 5, 30), date(2025, 6, 23), "the same in 2025 (midsummer eve 20 June)"),
        (date(2026, 12, 3), date(2026, 12, 28), "Christmas eve, Christmas day, Boxing day, Sunday"),
        (date(2026, 12, 10), date(2027, 1, 4), "New Year's eve, New Year's day and a weekend"),
        (date(2026, 3, 13), date(2026, 4, 7), "Good Friday, the Easter weekend and Easter Monday"),
        (date(2025, 5, 16), date(2025, 6, 9), "National day on a Friday"),
        (date(2026, 4, 23), date(2026, 5, 15), "Ascension Thursday"),
        (date(2026, 10, 10), date(2026, 11, 2), "a Saturday (All Saints' Day) moves to Monday"),
        (date(2026, 2, 28), date(2026, 3, 23), "a Sunday moves to Monday"),
    ],
)
def test_recovery_deadline_moves_past_days_off(served: date, deadline: date, why: str) -> None:
    assert recovery_deadline(served) == deadline, why
    assert is_business_day(recovery_deadline(served))


def test_the_three_eves_are_days_off_though_not_public_holidays() -> None:
    assert holiday_name(date(2026, 6, 19)) == "Midsommarafton"
    assert holiday_name(date(2026, 12, 24)) == "Julafton"
    assert holiday_name(date(2026, 12, 31)) == "Nyårsafton"
    assert holiday_name(date(2030, 6, 21)) == "Midsommarafton"  # midsummer eve follows the calendar
    for eve in (date(2026, 6, 19), date(2026, 12, 24), date(2026, 12, 31)):
        assert eve.weekday() < 5 and not is_business_day(eve)


def test_ordinary_days_and_weekends() -> None:
    assert is_business_day(date(2026, 6, 18))  # the Thursday before midsummer
    assert not is_holiday(date(2026, 6, 18))
    assert day_off_reason(date(2026, 6, 18)) is None
    assert day_off_reason(date(2026, 11, 28)) == "Saturday"
    assert day_off_reason(date(2026, 11, 29)) == "Sunday"
    assert day_off_reason(date(2026, 5, 1)) == "Första maj"
    assert not is_holiday(date(2026, 11, 29))  # Sundays are weekend, not listed holidays


def test_next_and_previous_business_day() -> None:
    assert next_business_day(date(2026, 6, 19)) == date(2026, 6, 22)
    assert previous_business_day(date(2026, 6, 19)) == date(2026, 6, 18)
    assert previous_business_day(date(2026, 12, 27)) == date(2026, 12, 23)
    assert next_business_day(date(2026, 6, 18)) == date(2026, 6, 18)
    assert legal_deadline(date(2026, 12, 24)) == date(2026, 12, 28)


def test_local_time_follows_daylight_saving() -> None:
    winter = at_local(date(2026, 3, 27), time(9, 0))
    summer = at_local(date(2026, 3, 30), time(9, 0))
    assert winter == datetime(2026, 3, 27, 8, 0, tzinfo=UTC)
    assert summer == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    assert local_date(datetime(2026, 6, 21, 22, 30, tzinfo=UTC)) == date(2026, 6, 22)
    with pytest.raises(ValueError):
        local_date(datetime(2026, 6, 21, 22, 30))
