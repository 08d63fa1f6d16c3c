"""Readers for single CSV cells. Each returns a clean value or raises ``FieldError`` with a reason.

Phone numbers go through phonenumbers (default region SE) and come out in E.164; amounts through
Babel's Swedish number parser, so "1 234,50" and "1234,50" both mean 123 450 öre.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal

import phonenumbers
from babel.numbers import NumberFormatError, parse_decimal

from storage.imports.errors import FieldError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY_SUFFIX = re.compile(r"\s*(kr|sek|:-)\.?$", re.IGNORECASE)
_QUIET_HOURS = re.compile(r"(\d{1,2})[:.](\d{2})\s*[-–]\s*(\d{1,2})[:.](\d{2})")
NBSP = "\u00a0"


def phone_e164(raw: str, default_region: str = "SE") -> str:
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise FieldError(f"{raw!r} is not a valid phone number (write e.g. 070-123 45 67 or +46701234567)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def amount_ore(raw: str) -> int:
    """Kronor in Swedish notation ("1 234,50", "1234,50 kr", "1234") as whole öre."""
    text = _CURRENCY_SUFFIX.sub("", raw.strip())
    text = text.replace(" ", NBSP).replace("\u202f", NBSP)
    try:
        kronor = parse_decimal(text, locale="sv_SE", strict=True)
    except NumberFormatError:
        raise FieldError(f"{raw!r} is not an amount in kronor (write e.g. 1 234,50)") from None
    if kronor < 0:
        raise FieldError(f"{raw!r} is negative; write the amount overdue as a positive number")
    ore = kronor * 100
    if ore != ore.to_integral_value():
        raise FieldError(f"{raw!r} has more than two decimals (öre)")
    return int(ore.quantize(Decimal(1)))


def iso_date(raw: str) -> date:
    text = raw.strip()
    if not _ISO_DATE.fullmatch(text):
        raise FieldError(f"{raw!r} is not a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"{raw!r} is not a date in the calendar") from None


def language_code(raw: str, accepted: Mapping[str, str]) -> str:
    code = raw.strip().lower()
    if code not in accepted:
        supported = ", ".join(sorted(set(accepted.values())))
        raise FieldError(f"{raw!r} is not a supported language code (supported: {supported})")
    return accepted[code]


def birth_year(raw: str, this_year: int) -> int:
    text = raw.strip()
    if not text.isdigit() or not 1900 <= int(text) <= this_year:
        raise FieldError(f"{raw!r} is not a birth year between 1900 and {this_year}")
    return int(text)


def choice(raw: str, allowed: list[str]) -> str:
    value = raw.strip().lower()
    if value not in allowed:
        raise FieldError(f"{raw!r} is not one of: {', '.join(allowed)}")
    return value


def quiet_hours(raw: str) -> tuple[time, time]:
    """A tenant's own quiet hours, "22:00-09:00" (may wrap past midnight)."""
    match = _QUIET_HOURS.fullmatch(raw.strip())
    try:
        if match is None:
            raise ValueError
        start = time(int(match[1]), int(match[2]))
        end = time(int(match[3]), int(match[4]))
    except ValueError:
        raise FieldError(f"{raw!r} is not a time range like 22:00-09:00") from None
    if start == end:
        raise FieldError(f"{raw!r} starts and ends at the same time")
    return start, end
