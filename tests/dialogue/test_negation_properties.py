"""Properties of understanding that must hold for any wording, checked with hypothesis.

* A negation word of a language, before or after one of its yes-words (with or without filler
  between), is never ``yes`` in consent context: "jag samtycker inte" is never a consent.
* Punctuation (other than a question mark, which asks), case and emoji around a yes or no do
  not change what it means.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dialogue import understand
from bot.dialogue.vocabulary import LANGUAGES
from messages.catalogue import language as catalogue_language

WORDS = Path(__file__).resolve().parents[2] / "bot" / "dialogue" / "words"


@cache
def concept(code: str, name: str) -> tuple[str, ...]:
    data = tomllib.loads((WORDS / f"{code}.toml").read_text(encoding="utf-8"))
    return tuple(w for w in data["concepts"].get(name, []) if "*" not in w and "+" not in w)


@st.composite
def negated_yes(draw: st.DrawFn) -> tuple[str, str]:
    code = draw(st.sampled_from(LANGUAGES))
    yes = draw(st.sampled_from(concept(code, "yes")))
    negation = draw(st.sampled_from(concept(code, "negation") + concept(code, "no")))
    filler = draw(st.lists(st.sampled_from(concept(code, "filler")), max_size=2))
    parts = [yes, *filler, negation] if draw(st.booleans()) else [negation, *filler, yes]
    return code, " ".join(parts)


@settings(max_examples=600, deadline=None)
@given(negated_yes())
def test_a_negated_yes_is_never_a_consent(case: tuple[str, str]) -> None:
    code, text = case
    result = understand(text, "consent", code)
    assert result.intent.value != "yes", (code, text, result)


DECORATIONS = st.sampled_from(["", "!", "!!!", ".", ",", " :)", " 😊", " 🙂", " ❤️", "…", " !!"])
CASES = st.sampled_from([str.lower, str.upper, str.title, str.capitalize, lambda s: s])


@st.composite
def decorated_reply(draw: st.DrawFn) -> tuple[str, str, str]:
    code = draw(st.sampled_from(LANGUAGES))
    kind = draw(st.sampled_from(["yes", "no"]))
    word = catalogue_language(code).reply_words[kind]
    before = draw(st.sampled_from(["", "", " ", "😊 ", "¡"]))
    text = before + draw(CASES)(word) + draw(DECORATIONS)
    return code, word, text


@settings(max_examples=600, deadline=None)
@given(decorated_reply(), st.sampled_from(["consent", "nothing", "menu"]))
def test_punctuation_case_and_emoji_do_not_change_a_yes_or_no(case: tuple[str, str, str], awaiting: str) -> None:
    code, word, text = case
    plain = understand(word, awaiting, code).intent
    assert understand(text, awaiting, code).intent == plain, (code, text)
    assert plain.value in ("yes", "no")
