"""Single-cell readers: what the landlord's spreadsheets actually contain."""

from __future__ import annotations

from datetime import date, time

import pytest

from messages.languages import accepted_language_codes
from storage.imports import fields
from storage.imports.errors import FieldError


@pytest.mark.parametrize(
    ("raw", "ore"),
    [
        ("1 234,50", 123_450),
        ("1\u00a0234,50", 123_450),
        ("1\u202f234,50", 123_450),
        ("1234,50", 123_450),
        ("1234,5", 123_450),
        ("1234", 123_400),
        ("12 300,00 kr", 1_230_000),
        ("850 SEK", 85_000),
        ("0,01", 1),
        ("0", 0),
    ],
)
def test_swedish_amounts(raw: str, ore: int) -> None:
    assert fields.amount_ore(raw) == ore


@pytest.mark.parametrize("raw", ["12,345", "-100", "abc", "1 23,50", "1.234,50", "12,3,4", ""])
def test_bad_amounts(raw: str) -> None:
    with pytest.raises(FieldError):
        fields.amount_ore(raw)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("070-174 06 05", "+46701740605"),
        ("0701740605", "+46701740605"),
        ("+46 70 174 06 05", "+46701740605"),
        ("0046701740605", "+46701740605"),
        ("08-123 456 78", "+46812345678"),
        ("+358 40 1234567", "+358401234567"),
    ],
)
def test_phone_numbers_become_e164(raw: str, e164: str) -> None:
    assert fields.phone_e164(raw) == e164


@pytest.mark.parametrize("raw", ["070-12", "hello", "+46", "123"])
def test_bad_phone_numbers(raw: str) -> None:
    with pytest.raises(FieldError, match="not a valid phone number"):
        fields.phone_e164(raw)


def test_dates_are_strict_iso() -> None:
    assert fields.iso_date("2026-12-01") == date(2026, 12, 1)
    for raw in ("2026-1-5", "01/12/2026", "20261201", "2026-13-01"):
        with pytest.raises(FieldError):
            fields.iso_date(raw)


def test_language_codes_and_aliases() -> None:
    accepted = accepted_language_codes()
    assert fields.language_code("SV", accepted) == "sv"
    assert fields.language_code("sr", accepted) == "bs"
    assert fields.language_code("prs", accepted) == "fa"
    with pytest.raises(FieldError, match="supported: ar, bs, en"):
        fields.language_code("de", accepted)


def test_quiet_hours() -> None:
    assert fields.quiet_hours("22:00-09:00") == (time(22), time(9))
    assert fields.quiet_hours("21.30 – 07.00") == (time(21, 30), time(7))
    for raw in ("22-09", "25:00-09:00", "09:00-09:00"):
        with pytest.raises(FieldError):
            fields.quiet_hours(raw)
