"""Language identification of tenants' short replies (``messages.language.detect``).

The examples are written for these tests (typical tenant replies), not taken from the benchmark
data in ``../shared/langid/``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messages.language import OUTCOMES, UNDETERMINED, Detection, detect
from messages.languages import SUPPORTED_LANGUAGES


def test_outcomes_are_the_catalogue_plus_russian() -> None:
    assert set(OUTCOMES) == SUPPORTED_LANGUAGES | {"ru"}


# --- script rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["ሓገዝ", "እወ", "የቐንየለይ", "ጽቡቕ እዩ ክኸፍል እየ"])
def test_ethiopic_script_is_tigrinya(text: str) -> None:
    detection = detect(text)
    assert detection.language == "ti"
    assert detection.confidence >= 0.9


def test_ethiopic_is_tigrinya_whatever_the_prior() -> None:
    assert detect("ሓገዝ", prior="sv").language == "ti"


@pytest.mark.parametrize("text", ["پول", "چطوری", "گرفتم", "ژانویه", "پرداخت می‌کنم"])
def test_persian_letters_mean_persian(text: str) -> None:
    assert detect(text).language == "fa"
    # even against an Arabic prior: Arabic does not write these letters
    assert detect(text, prior="ar").language == "fa"


@pytest.mark.parametrize("text", ["نعم", "شكرا جزيلا", "سأدفع الإيجار غدا", "مساعدة"])
def test_arabic(text: str) -> None:
    assert detect(text).language == "ar"


@pytest.mark.parametrize("text", ["дякую", "привіт", "я не розумію", "їжа", "завтра заплачу, вибачте"])
def test_ukrainian_letters_mean_ukrainian(text: str) -> None:
    assert detect(text).language == "uk"
    assert detect(text, prior="ru").language == "uk"


@pytest.mark.parametrize("text", ["я не понимаю", "объявление", "вы здесь", "спасибо, заплачу завтра"])
def test_russian_stays_distinct_from_ukrainian(text: str) -> None:
    assert detect(text).language == "ru"


@pytest.mark.parametrize("text", ["ћао", "хвала", "hvala", "Platit ću kiriju sutra"])
def test_bosnian_croatian_serbian_in_both_scripts(text: str) -> None:
    assert detect(text).language == "bs"


# --- short replies and the prior -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("tack", "sv"),
        ("thanks", "en"),
        ("haa", "so"),
        ("mahadsanid", "so"),
        ("evet", "tr"),
        ("tesekkurler", "tr"),  # no diacritics
        ("dziekuje", "pl"),  # no diacritics
        ("kiitos", "fi"),
        ("kylla", "fi"),  # no diacritics
    ],
)
def test_one_word_replies(text: str, language: str) -> None:
    assert detect(text).language == language


@pytest.mark.parametrize("prior", ["sv", "pl", "bs", "fi"])
def test_prior_decides_an_ambiguous_short_word(prior: str) -> None:
    # "ja" is yes in Swedish, I in Polish and Bosnian, and in Finnish
    assert detect("ja", prior=prior).language == prior


def test_prior_raises_confidence_without_forcing_it() -> None:
    without = detect("ja")
    with_prior = detect("ja", prior="sv")
    assert with_prior.language == "sv"
    assert with_prior.confidence > (without.confidence if without.language == "sv" else 0.0)
    assert with_prior.confidence < 0.99


@pytest.mark.parametrize(
    ("text", "prior", "language"),
    [
        ("Jag kan inte betala hyran den här månaden", "fi", "sv"),
        ("I will pay the rent next week", "sv", "en"),
        ("Nie mogę zapłacić czynszu w tym miesiącu", "sv", "pl"),
        ("Waan bixin doonaa lacagta berri", "sv", "so"),
        ("Kirayı yarın ödeyeceğim", "ar", "tr"),
        ("Maksan vuokran huomenna", "sv", "fi"),
        ("evet", "sv", "tr"),
        ("kiitos", "sv", "fi"),
    ],
)
def test_a_clear_reply_in_another_language_overrides_the_prior(text: str, prior: str, language: str) -> None:
    detection = detect(text, prior=prior)
    assert detection.language == language
    assert detection.confidence >= 0.5


def test_croatian_and_serbian_priors_count_as_bosnian() -> None:
    assert detect("ja", prior="hr").language == "bs"
    assert detect("ja", prior="sr").language == "bs"


def test_unknown_prior_is_ignored() -> None:
    assert detect("Jag betalar imorgon", prior="de") == detect("Jag betalar imorgon")


# --- no language --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["", "   ", "👍", "🙏🙏", "123", "12:30", "?!", "https://example.org/x", "OK", "ok 👍"]
)
def test_no_language_is_undetermined(text: str) -> None:
    assert detect(text) == Detection(UNDETERMINED, 0.0)
    assert detect(text, prior="sv") == Detection(UNDETERMINED, 0.0)


def test_other_scripts_are_undetermined() -> None:
    assert detect("谢谢").language == UNDETERMINED
    assert detect("ευχαριστώ").language == UNDETERMINED


def test_digits_and_emoji_around_words_are_ignored() -> None:
    assert detect("Tack!! 👍 500 kr").language == "sv"


# --- properties ---------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), st.sampled_from([None, *sorted(SUPPORTED_LANGUAGES), "ru", "xx"]))
def test_any_text_gives_an_outcome_with_a_probability(text: str, prior: str | None) -> None:
    detection = detect(text, prior=prior)
    assert detection.language in (*OUTCOMES, UNDETERMINED)
    assert 0.0 <= detection.confidence <= 1.0
    if detection.language == UNDETERMINED:
        assert detection.confidence == 0.0


def test_detection_is_frozen_and_deterministic() -> None:
    first = detect("jutro zapłacę")
    assert first == detect("jutro zapłacę")
    with pytest.raises(AttributeError):
        first.language = "sv"  # type: ignore[misc]


def test_concurrent_callers_agree() -> None:
    texts = ["tack", "evet", "нет", "نعم", "ሓገዝ", "kiitos", "hvala"] * 20
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(detect, texts))
    assert results == [detect(text) for text in texts]


@pytest.mark.parametrize(
    ("text", "prior", "not_language"),
    [("päivää", "en", "en"), ("håller", "so", "so"), ("ещё", "bs", "bs"), ("быстро", "uk", "uk")],
)
def test_a_letter_the_language_does_not_write_counts_against_it(text: str, prior: str, not_language: str) -> None:
    assert detect(text, prior=prior).language != not_language
