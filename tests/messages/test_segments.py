"""SMS encoding and segment counts against a table of known cases."""

from __future__ import annotations

import pytest

from messages.segments import analyse, is_gsm7, non_gsm_characters

ARABIC = "مرحبا"
ETHIOPIC = "ሰላም"
EMOJI = "\U0001f600"


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "units"),
    [
        ("", "GSM-7", 0, 0),
        ("a", "GSM-7", 1, 1),
        ("a" * 160, "GSM-7", 1, 160),
        ("a" * 161, "GSM-7", 2, 161),
        ("a" * 306, "GSM-7", 2, 306),
        ("a" * 307, "GSM-7", 3, 307),
        ("å ä ö Å Ä Ö é É ü Ü", "GSM-7", 1, 19),
        ("€", "GSM-7", 1, 2),
        ("[]", "GSM-7", 1, 4),
        ("{}^~|\\", "GSM-7", 1, 12),
        ("€" * 80, "GSM-7", 1, 160),
        ("€" * 81, "GSM-7", 2, 162),
        # The escape pair may not be split: the euro moves to part 2 and pushes one "a" to part 3.
        ("a" * 152 + "€" + "a" * 152, "GSM-7", 3, 306),
        ("Ç", "GSM-7", 1, 1),
        ("ç", "UCS-2", 1, 1),  # only the capital is in the GSM 03.38 alphabet
        ("’", "UCS-2", 1, 1),
        ("don’t", "UCS-2", 1, 5),
        ("–", "UCS-2", 1, 1),
        ("·", "UCS-2", 1, 1),
        ("\u00a0", "UCS-2", 1, 1),
        (EMOJI, "UCS-2", 1, 2),
        (ARABIC, "UCS-2", 1, 5),
        (ETHIOPIC, "UCS-2", 1, 3),
        ("Привіт", "UCS-2", 1, 6),
        ("ł" + "a" * 69, "UCS-2", 1, 70),
        ("ł" + "a" * 70, "UCS-2", 2, 71),
        ("ł" + "a" * 133, "UCS-2", 2, 134),
        ("ł" + "a" * 200, "UCS-2", 3, 201),
        ("ł" + "a" * 201, "UCS-2", 4, 202),
        (EMOJI * 35, "UCS-2", 1, 70),
        # A surrogate pair may not be split either.
        ("’" + "a" * 65 + EMOJI + "a" * 66, "UCS-2", 3, 134),
    ],
)
def test_known_cases(text: str, encoding: str, segments: int, units: int) -> None:
    info = analyse(text)
    assert (info.encoding, info.segments, info.units) == (encoding, segments, units)


def test_one_stray_character_switches_a_swedish_text_to_ucs2() -> None:
    text = "Hej! Vi har inte fått hyran. Svara 1 för hjälp. " * 3
    spoiled = text.replace("Vi har", "Vi’ har", 1)
    assert analyse(text).encoding == "GSM-7"
    assert analyse(spoiled).encoding == "UCS-2"
    assert analyse(spoiled).segments > analyse(text).segments


def test_reports_the_characters_that_forced_ucs2_in_order() -> None:
    info = analyse("Hej – don’t – ok ’")
    assert info.non_gsm == ("–", "’")
    assert non_gsm_characters("plain text") == ()
    assert analyse("plain").non_gsm == ()


def test_characters_count_code_points_not_units() -> None:
    info = analyse(EMOJI + "a")
    assert info.characters == 2
    assert info.units == 3


def test_per_segment_room() -> None:
    assert analyse("a").per_segment == 160
    assert analyse("a" * 200).per_segment == 153
    assert analyse(ARABIC).per_segment == 70
    assert analyse(ARABIC * 20).per_segment == 67


def test_is_gsm7() -> None:
    assert is_gsm7("Å ä ö € [ ]")
    assert not is_gsm7("Å ä ö ’")
