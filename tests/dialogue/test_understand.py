"""Understanding single replies: the contract of ``architecture.md`` and the tricky cases."""

from __future__ import annotations

import pytest

from bot.dialogue import Intent, understand
from bot.dialogue.vocabulary import LANGUAGES
from messages.catalogue import language as catalogue_language


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_reply_word_the_texts_ask_for_is_understood(code: str) -> None:
    words = catalogue_language(code).reply_words
    assert understand(words["yes"], "consent", code).intent is Intent.YES
    assert understand(words["no"], "consent", code).intent is Intent.NO
    withdraw = understand(words["withdraw"], "nothing", code)
    assert withdraw.intent is Intent.NO and withdraw.withdraw
    assert understand(words["stop"], "menu", code).intent is Intent.OPT_OUT
    assert understand(words["start"], "nothing", code).intent is Intent.OPT_IN


@pytest.mark.parametrize(
    ("text", "awaiting", "intent", "choice"),
    [
        ("1", "menu", Intent.HELP, 1),
        ("2", "menu", Intent.MEETING, 2),
        ("3", "menu", Intent.PAID, 3),
        ("٢", "menu", Intent.MEETING, 2),
        ("۳", "menu", Intent.PAID, 3),
        ("2", "slot", Intent.CHOICE, 2),
        ("tid 2", "slot", Intent.CHOICE, 2),
        ("den andra", "slot", Intent.CHOICE, 2),
        ("the second one", "slot", Intent.CHOICE, 2),
        ("٢", "slot", Intent.CHOICE, 2),
        ("۲", "slot", Intent.CHOICE, 2),
        ("nej", "menu", Intent.NO, None),
        ("ja", "menu", Intent.YES, None),
        ("no", "menu", Intent.NO, None),
        ("tack", "nothing", Intent.ACK, None),
        ("👍", "menu", Intent.ACK, None),
        ("börja igen", "nothing", Intent.OPT_IN, None),
        ("jag har inte betalat än", "menu", Intent.OTHER, None),
        ("jag har betalat", "nothing", Intent.PAID, None),
        ("vad betyder det?", "consent", Intent.OTHER, None),
    ],
)
def test_contract_examples(text: str, awaiting: str, intent: Intent, choice: int | None) -> None:
    result = understand(text, awaiting, "sv")
    assert (result.intent, result.choice) == (intent, choice)
    assert 0.0 <= result.confidence <= 1.0


@pytest.mark.parametrize(
    "text",
    [
        "jag samtycker inte",
        "ja, eller nej",
        "kanske",
        "maybe",
        "?",
        "ja?",
        "ja men jag vill veta mer först",
        "jag vet inte",
        "inte ja",
        "ok",
        "✅",
        "yes but not now",
        "I don't consent",
        "jaaa kanske",
    ],
)
def test_short_of_an_explicit_yes_is_not_consent(text: str) -> None:
    assert understand(text, "consent", "sv").intent is not Intent.YES


@pytest.mark.parametrize("text", ["ja jag samtycker", "JA!", "jaaaa", "Ja, det går bra 😊", "japp"])
def test_an_explicit_yes_is_consent(text: str) -> None:
    assert understand(text, "consent", "sv").intent is Intent.YES


def test_a_question_is_flagged() -> None:
    assert understand("vad betyder det?", "consent", "sv").question
    assert understand("what does it mean", "consent", "en").question


def test_withdrawal_in_several_words() -> None:
    for text, code in [("jag återkallar mitt samtycke", "sv"), ("I withdraw my consent", "en")]:
        result = understand(text, "nothing", code)
        assert result.intent is Intent.NO and result.withdraw
        assert result.as_json()["withdraw"] is True


def test_urgent_wins_over_everything() -> None:
    assert understand("STOP vräkning imorgon", "menu", "sv").intent is Intent.URGENT
    assert understand("ja, han slår mig", "consent", "sv").intent is Intent.URGENT


def test_opt_out_wins_over_everything_but_urgent() -> None:
    assert understand("jag har betalat, sluta skicka sms", "menu", "sv").intent is Intent.OPT_OUT
    assert understand("ja STOP", "consent", "sv").intent is Intent.OPT_OUT


def test_stop_is_not_always_an_opt_out() -> None:
    assert understand("please stop the eviction", "nothing", "en").intent is not Intent.OPT_OUT
    assert understand("don't stop helping me", "nothing", "en").intent is Intent.HELP


def test_tenant_language_decides_between_readings() -> None:
    # "ja" is the pronoun "I" in Polish and Bosnian.
    assert understand("ja sam platio", "menu", "bs").intent is Intent.PAID
    assert understand("ja", "consent", "sv").intent is Intent.YES


def test_typos_and_missing_diacritics() -> None:
    assert understand("betlat", "menu", "sv").intent is Intent.PAID
    assert understand("kylla", "consent", "fi").intent is Intent.YES
    assert understand("tesekkurler", "nothing", "tr").intent is Intent.ACK
    assert understand("dziekuje", "nothing", "pl").intent is Intent.ACK


def test_a_typo_is_never_a_consent() -> None:
    assert understand("smatycker", "consent", "sv").intent is not Intent.YES


def test_language_is_reported() -> None:
    assert understand("ja jag samtycker", "consent", "sv").language == "sv"
    assert understand("نعم", "consent", None).language == "ar"
    assert understand("1", "menu", "sv").language == "und"
