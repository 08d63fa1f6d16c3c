"""Swedish days off and the legal deadlines that move past them.

Two rules in Bokvar depend on the Swedish calendar:

* **Deadlines.** Under Lag (1930:173) om beräkning av lagstadgad tid, a legal time limit that ends
  on a Saturday, a Sunday, a public holiday (Lag 1989:253), midsummer eve, Christmas eve or New
  Year's eve ends on the next weekday that is none of those. The recovery period of Jordabalken
  12:44 (three weeks from the day the notice was served) is such a time limit, and the tenant is
  told the date, so it must be right: a wrong date in a notice has voided evictions in court.
* **Contact days.** Planned outreach goes out only on working days (see ``send_rules``), which
  are the same days: not weekends, not holidays, not the three eves.

Holidays come from the ``holidays`` package (categories *public* and *de facto*; the latter holds
the three eves, which the law treats like Sundays). The eves are also added here by rule, so an
older or newer ``holidays`` release that files them differently cannot silently drop them.

All "days" are calendar days in Europe/Stockholm: the tenant, the landlord and the court count
days in Swedish time, whatever zone the server runs in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

STOCKHOLM = ZoneInfo("Europe/Stockholm")

RECOVERY_PERIOD = timedelta(weeks=3)
"""Jordabalken 12:44: the tenant keeps the home if the debt is paid within three weeks of notice."""

SATURDAY, SUNDAY = 5, 6


def _midsummer_eve(year: int) -> date:
    """The Friday between 19 and 25 June (Midsommarafton)."""
    day = date(year, 6, 19)
    return day + timedelta(days=(4 - day.weekday()) % 7)


@lru_cache(maxsize=64)
def _days_off(year: int) -> Mapping[date, str]:
    found: dict[date, str] = {}
    try:
        calendar = holidays.Sweden(years=year, categories=("public", "de_facto"), language="sv")
    except (TypeError, ValueError, NotImplementedError):  # a release without these categories
        calendar = holidays.Sweden(years=year, language="sv")
    found.update({day: str(name) for day, name in calendar.items() if name != "Söndag"})
    found.setdefault(_midsummer_eve(year), "Midsommarafton")
    found.setdefault(date(year, 12, 24), "Julafton")
    found.setdefault(date(year, 12, 31), "Nyårsafton")
    return MappingProxyType(found)


def holiday_name(day: date) -> str | None:
    """The Swedish name of the holiday or eve on ``day`` ("Midsommarafton"), or None."""
    return _days_off(day.year).get(day)


def is_holiday(day: date) -> bool:
    """A public holiday or one of the eves that Swedish law treats like a Sunday."""
    return day in _days_off(day.year)


def is_business_day(day: date) -> bool:
    """Monday to Friday and neither a public holiday nor midsummer, Christmas or New Year's eve."""
    return day.weekday() < SATURDAY and not is_holiday(day)


def day_off_reason(day: date) -> str | None:
    """Why ``day`` is not a business day ("Sunday", "Midsommarafton", …), or None if it is one."""
    name = holiday_name(day)
    if name is not None:
        return name
    if day.weekday() == SATURDAY:
        return "Saturday"
    if day.weekday() == SUNDAY:
        return "Sunday"
    return None


def next_business_day(day: date) -> date:
    """``day`` itself if it is a business day, else the first business day after it."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def previous_business_day(day: date) -> date:
    """``day`` itself if it is a business day, else the last business day before it."""
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


@lru_cache(maxsize=4096)
def legal_deadline(last_day: date) -> date:
    """A time limit ending on ``last_day``, moved as Lag (1930:173) moves it."""
    return next_business_day(last_day)


def recovery_deadline(notice_served_on: date) -> date:
    """The last day of the recovery period (återvinningsfrist) for a notice served on that day.

    Three weeks after service, moved to the next weekday past weekends, holidays and the eves. A
    notice served on Friday 29 May 2026 ends on Midsommarafton (19 June), so the deadline becomes
    Monday 22 June.
    """
    return legal_deadline(notice_served_on + RECOVERY_PERIOD)


def local_date(moment: datetime, tz: ZoneInfo = STOCKHOLM) -> date:
    """The calendar day ``moment`` falls on in ``tz`` (Stockholm by default)."""
    if moment.tzinfo is None:
        raise ValueError("a naive datetime is ambiguous; pass an aware datetime")
    return moment.astimezone(tz).date()


@lru_cache(maxsize=16384)
def at_local(day: date, clock: time, tz: ZoneInfo = STOCKHOLM) -> datetime:
    """The instant (aware, UTC) when the wall clock in ``tz`` shows ``clock`` on ``day``.

    Wall-clock arithmetic in ``zoneinfo`` resolves daylight-saving gaps and folds for us; the
    times Bokvar uses (08:00–20:00, 23:59) never fall into them anyway. Cached: the planner asks
    for the same few days and times for thousands of cases.
    """
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)
