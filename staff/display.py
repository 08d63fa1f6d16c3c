"""How the console shows money, dates and times: Babel, in the staff member's locale, in Stockholm.

Everything is stored in UTC and in öre; staff read Swedish time and kronor, so formatting happens
here, once, instead of in each template. Unlike SMS texts, console pages keep CLDR's no-break
spaces: they stop "1 234,50 kr" from wrapping between the digits.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency

STOCKHOLM = ZoneInfo("Europe/Stockholm")
LOCALES = {"sv": "sv_SE", "en": "en_GB"}


def locale_of(lang: str) -> str:
    return LOCALES.get(lang, "sv_SE")


def money(amount_ore: int | None, lang: str) -> str:
    """``123450`` öre → ``"1 234,50 kr"`` (Swedish) or ``"SEK 1,234.50"`` (English)."""
    if amount_ore is None:
        return "–"
    return format_currency(Decimal(amount_ore).scaleb(-2), "SEK", locale=locale_of(lang), numbering_system="latn")


def day(value: date | datetime | None, lang: str, form: str = "medium") -> str:
    """A calendar date; a moment is first moved to Stockholm so the day is the Swedish one."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        value = value.astimezone(STOCKHOLM).date()
    return format_date(value, form, locale=locale_of(lang))


def moment(value: datetime | None, lang: str) -> str:
    """Date and 24-hour time in Stockholm, e.g. ``"3 dec. 2026 14:05"``."""
    if value is None:
        return "–"
    return format_datetime(value, "d MMM y HH:mm", tzinfo=STOCKHOLM, locale=locale_of(lang))


def clock(value: datetime | None, lang: str) -> str:
    if value is None:
        return "–"
    return format_time(value, "HH:mm", tzinfo=STOCKHOLM, locale=locale_of(lang))


def weekday_day(value: date, lang: str) -> str:
    """A heading for a day of meetings: ``"Tisdag 2 december"`` (only the first letter capitalised:
    Swedish writes month names in lower case)."""
    text = format_date(value, "EEEE d MMMM", locale=locale_of(lang))
    return text[:1].upper() + text[1:]


def local(value: datetime) -> datetime:
    return value.astimezone(STOCKHOLM)
