"""The catalogue's declarations, its shipped texts and their SMS budgets."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

import pytest

from messages import catalogue, render
from messages.catalogue import PLACEHOLDERS, CatalogueDataError, PlaceholderType, _parse_language_file
from messages.errors import UnknownKeyError

SHIPPED = ("sv", "en", "ar", "so", "fa", "ti", "bs", "tr", "pl", "uk", "fi")
REQUIRED_KEYS = (
    "arrears_first_reminder", "arrears_help_offer", "notice_served", "recovery_reminder",
    "recovery_final_reminder", "kronofogden_notice", "menu", "consent_request",
    "consent_explanation", "consent_recorded", "consent_refused", "consent_withdrawn",
    "meeting_offer", "meeting_booked", "meeting_reminder", "help_acknowledged",
    "payment_acknowledged", "urgent_acknowledged", "unknown_reply_acknowledged", "opted_out",
    "opted_in", "telegram_invitation",
)  # fmt: skip
KEYS = catalogue.keys()
ALL = [(key, lang) for lang in SHIPPED for key in KEYS]


def test_the_required_keys_and_languages_are_there() -> None:
    assert set(REQUIRED_KEYS) <= set(KEYS)
    assert set(SHIPPED) <= set(catalogue.languages())


@pytest.mark.parametrize("lang", SHIPPED)
def test_every_language_has_every_key(lang: str) -> None:
    missing = [key for key in KEYS if catalogue.default_text(key, lang) is None]
    assert missing == []


def test_key_declarations() -> None:
    notice = catalogue.spec("notice_served")
    assert notice.placeholders == {
        "landlord": PlaceholderType.TEXT,
        "amount": PlaceholderType.MONEY,
        "deadline": PlaceholderType.DEADLINE,
    }
    assert notice.sms_budget == 2
    assert catalogue.spec("meeting_offer").placeholders == {"slots": PlaceholderType.SLOTS}
    assert catalogue.spec("telegram_invitation").placeholders["link"] is PlaceholderType.LINK
    assert catalogue.spec("menu").placeholders == {}
    with pytest.raises(UnknownKeyError):
        catalogue.spec("nope")


_SAMPLE_TYPES: dict[PlaceholderType, type] = {
    PlaceholderType.MONEY: int,
    PlaceholderType.DATE: date,
    PlaceholderType.DEADLINE: datetime,
    PlaceholderType.DATETIME: datetime,
    PlaceholderType.SLOTS: tuple,
    PlaceholderType.LINK: str,
    PlaceholderType.TEXT: str,
}


def test_samples_match_their_declared_types() -> None:
    for placeholder in PLACEHOLDERS.values():
        assert isinstance(placeholder.sample, _SAMPLE_TYPES[placeholder.type]), placeholder.name
    assert len(catalogue.sample_values("meeting_offer")["slots"]) == 3  # type: ignore[arg-type]


def test_no_personal_identity_number_anywhere() -> None:
    names = set(PLACEHOLDERS)
    assert not any(re.search("personnummer|ssn|identity", n) for n in names)


# --- review metadata -------------------------------------------------------------------------


def test_review_status_is_honest() -> None:
    for code, info in catalogue.languages().items():
        assert info.reviewed is False, code  # nobody has reviewed any text yet
        if code not in ("sv", "en"):
            assert "needs review by a qualified translator" in info.review_status, code


def test_review_notes_stay_out_of_the_messages() -> None:
    for key, lang in ALL:
        text = catalogue.default_text(key, lang) or ""
        assert "draft" not in text.lower() and "machine" not in text.lower()


def test_language_metadata() -> None:
    assert catalogue.language("sv").locale == "sv_SE"
    assert catalogue.language("ar").direction == "rtl"
    assert catalogue.language("fa").direction == "rtl"
    assert catalogue.language("ti").direction == "ltr"
    assert catalogue.language("SV-se").code == "sv"


@pytest.mark.parametrize(
    ("lang", "script"),
    [("ti", "ETHIOPIC"), ("uk", "CYRILLIC"), ("ar", "ARABIC"), ("fa", "ARABIC")],
)
def test_non_latin_languages_are_written_in_their_script(lang: str, script: str) -> None:
    for key in KEYS:
        text = catalogue.default_text(key, lang) or ""
        letters = [ch for ch in re.sub(r"\{\{.*?\}\}|STOP|START|Kronofogden|Mind|Telegram|Start|SMS", "", text)
                   if ch.isalpha()]
        in_script = sum(script in unicodedata.name(ch, "") for ch in letters)
        assert in_script / len(letters) > 0.9, (lang, key)


def test_persian_uses_persian_letters_not_arabic_ones() -> None:
    text = " ".join(catalogue.default_text(k, "fa") or "" for k in KEYS)
    assert "ی" in text and "ک" in text  # Persian yeh and keheh
    assert "ي" not in text and "ك" not in text  # Arabic yeh and kaf


# --- content rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", SHIPPED)
def test_menu_offers_help_meeting_paid_and_stop(lang: str) -> None:
    lines = (catalogue.default_text("menu", lang) or "").splitlines()
    for option in ("1 ", "2 ", "3 ", "STOP "):
        assert any(line.startswith(option) for line in lines), (lang, option)


@pytest.mark.parametrize("lang", SHIPPED)
def test_consent_request_says_what_whom_how_long_and_how_to_answer(lang: str) -> None:
    words = catalogue.language(lang).reply_words
    text = catalogue.default_text("consent_request", lang) or ""
    assert "{{ municipality }}" in text
    assert "12" in text
    for word in ("yes", "no", "withdraw"):
        assert words[word] in text, (lang, word)


@pytest.mark.parametrize("lang", SHIPPED)
def test_consent_confirmations_say_how_to_withdraw(lang: str) -> None:
    withdraw = catalogue.language(lang).reply_words["withdraw"]
    assert withdraw in (catalogue.default_text("consent_recorded", lang) or "")
    assert withdraw in (catalogue.default_text("consent_explanation", lang) or "")


@pytest.mark.parametrize("lang", SHIPPED)
def test_urgent_acknowledgement_gives_the_emergency_numbers(lang: str) -> None:
    text = catalogue.default_text("urgent_acknowledged", lang) or ""
    for number in ("112", "1177", "90101"):
        assert number in text, (lang, number)


@pytest.mark.parametrize("lang", SHIPPED)
def test_opt_out_and_in_name_the_words_that_reverse_them(lang: str) -> None:
    assert "START" in (catalogue.default_text("opted_out", lang) or "")
    assert "STOP" in (catalogue.default_text("opted_in", lang) or "")


# --- budgets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "lang"), ALL)
def test_every_text_fits_its_budget_with_sample_values(key: str, lang: str) -> None:
    message = render.preview(key, lang)
    expected = catalogue.language(lang).expected_encoding
    if expected == "GSM-7":
        assert message.encoding == "GSM-7", f"{lang}/{key} needs UCS-2 because of a stray character"
    assert message.segments <= catalogue.spec(key).budget(message.encoding), (
        f"{lang}/{key}: {message.segments} {message.encoding} segments"
    )


@pytest.mark.parametrize("key", KEYS)
def test_swedish_stays_within_two_gsm7_segments(key: str) -> None:
    message = render.preview(key, "sv")
    assert (message.encoding, message.segments <= 2) == ("GSM-7", True)


# --- data file checks ------------------------------------------------------------------------

_GOOD_META = """
[meta]
name = "x"
english_name = "X"
locale = "sv_SE"
direction = "ltr"
expected_encoding = "GSM-7"
reviewed = false
review_status = "draft"
[reply_words]
yes = "J"
no = "N"
withdraw = "W"
stop = "STOP"
start = "START"
"""


def test_a_well_formed_file_parses_and_strips_text() -> None:
    parsed = _parse_language_file("xx", _GOOD_META + '[texts]\nmenu = """\n1 a\n"""\n')
    assert parsed.texts["menu"] == "1 a"
    assert parsed.info.reply_words["withdraw"] == "W"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (_GOOD_META + "[texts]\nmenuu = 'x'\n", "undeclared keys menuu"),
        (_GOOD_META.replace('locale = "sv_SE"\n', ""), "lacks locale"),
        (_GOOD_META.replace('withdraw = "W"\n', ""), "lacks withdraw"),
        ("[meta\n", "xx.toml"),
    ],
)
def test_malformed_files_fail_loudly(raw: str, fragment: str) -> None:
    with pytest.raises(CatalogueDataError, match=fragment):
        _parse_language_file("xx", raw)
