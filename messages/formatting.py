"""Turning typed placeholder values into text in the tenant's language.

Amounts and dates in a message must match the legal notice exactly (a wrong figure has voided
evictions in court), so values arrive typed — öre as ``int``, ``date``, aware ``datetime`` — and
are formatted here, once, by Babel with the language's locale. Templates then only insert
ready-made strings and cannot get a number format wrong.

All moments are shown in Europe/Stockholm, whatever zone the caller used: the tenant, the landlord
and the law all count days in Swedish time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton
from babel.numbers import format_currency

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CURRENCY = "SEK"

# Babel (CLDR) separates digit groups and units with no-break spaces. Those are not in GSM-7 and
# would turn a Swedish SMS into UCS-2 (70 instead of 160 characters a part), so every rendered
# text has them replaced by an ordinary space.
_SPACE_LIKE = {
    "\u00a0": " ",  # no-break space
    "\u202f": " ",  # narrow no-break space
    "\u2007": " ",  # figure space
    "\u2009": " ",  # thin space
}
_SPACE_TABLE = str.maketrans(_SPACE_LIKE)


def normalise_spaces(text: str) -> str:
    """Replace the no-break and thin spaces that CLDR formats use with a plain space."""
    return text.translate(_SPACE_TABLE)


def _locale(locale: str | Locale) -> Locale:
    return locale if isinstance(locale, Locale) else Locale.parse(locale)


def _in_stockholm(moment: datetime) -> datetime:
    """The wall-clock time in Stockholm, as a naive datetime so Babel does not shift it again."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime is ambiguous; pass an aware datetime")
    return moment.astimezone(STOCKHOLM).replace(tzinfo=None)


def format_money(amount_ore: int, locale: str | Locale) -> str:
    """``123450`` öre → ``"1 234,50 kr"`` in Swedish; other locales follow their CLDR pattern.

    Digits are always Latin (0–9) so the figure can be compared with the Swedish notice and
    typed into a bank app as it stands.
    """
    if isinstance(amount_ore, bool) or not isinstance(amount_ore, int):
        raise TypeError(f"money must be an int number of öre, got {type(amount_ore).__name__}")
    kronor = Decimal(amount_ore).scaleb(-2)
    text = format_currency(kronor, CURRENCY, locale=_locale(locale), numbering_system="latn")
    return normalise_spaces(text)


def format_date(day: date, locale: str | Locale) -> str:
    """A calendar date in the locale's long form, e.g. ``"22 december 2025"``."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"a date must be a datetime.date, got {type(day).__name__}")
    return normalise_spaces(babel_format_date(day, "long", locale=_locale(locale)))


def _date_and_time(moment: datetime, date_skeleton: str, glue: str, locale: Locale) -> str:
    local = _in_stockholm(moment)
    day = format_skeleton(date_skeleton, local, locale=locale)
    clock = format_skeleton("Hm", local, locale=locale)
    pattern = locale.datetime_formats.get(glue, "{1} {0}")
    return normalise_spaces(str(pattern).replace("{1}", day).replace("{0}", clock))


def format_moment(moment: datetime, locale: str | Locale) -> str:
    """A deadline or appointment: weekday, date and 24-hour time in Stockholm.

    The weekday is there because people plan by it ("on Monday"), the year because a deadline
    in January is often announced in December.
    """
    if not isinstance(moment, datetime):
        raise TypeError(f"a moment must be an aware datetime, got {type(moment).__name__}")
    return _date_and_time(moment, "yMMMEd", "medium", _locale(locale))


def format_slots(slots: Sequence[datetime], locale: str | Locale) -> str:
    """Meeting options as a numbered list, one per line: ``"1) tis 2 dec. 10:00"``.

    The numbers are what the tenant replies with, so they start at 1 and follow the given order.
    """
    if isinstance(slots, str | bytes) or not isinstance(slots, Sequence) or not slots:
        raise TypeError("slots must be a non-empty list of aware datetimes")
    loc = _locale(locale)
    lines = []
    for number, slot in enumerate(slots, start=1):
        if not isinstance(slot, datetime):
            raise TypeError(f"slot {number} must be an aware datetime, got {type(slot).__name__}")
        lines.append(f"{number}) {_date_and_time(slot, 'MMMEd', 'short', loc)}")
    return "\n".join(lines)


def format_link(url: str) -> str:
    """A link is inserted as it is; it must be a single https URL so phones make it clickable."""
    if not isinstance(url, str):
        raise TypeError(f"a link must be a str, got {type(url).__name__}")
    if not url.startswith("https://") or any(ch.isspace() for ch in url):
        raise ValueError(f"a link must be an https:// URL without spaces, got {url!r}")
    return url


def format_text(value: str) -> str:
    """Free text (a name, a phone number) is inserted as it is, with its spaces normalised."""
    if not isinstance(value, str):
        raise TypeError(f"text must be a str, got {type(value).__name__}")
    if not value.strip():
        raise ValueError("text must not be empty")
    return normalise_spaces(value)
