"""From a tenant's raw reply to the tokens the vocabulary is matched against.

Tenants write on cheap phones, stressed, in eleven languages: "JAAA!!", "kylla", "tesekkurler",
"نعم 👍", "۲", "ja,men vad betyder det?". Matching works on a *folded* form of each word, and the
vocabulary files are folded the same way, so the two always meet:

* NFKC and case-folding ("ＪＡ" and "Ja" are "ja").
* Digits of every script become ASCII: Arabic-Indic "٢", Persian "۲", Ethiopic "፪" are "2".
* Diacritics are dropped ("kyllä" → "kylla", "hayır" → "hayir", "dziękuję" → "dziekuje"); Arabic
  harakat, tatweel and hamza forms are dropped and the Arabic/Persian yeh, kaf and teh marbuta are
  folded to one letter each, so Arabic and Persian spellings of a word meet.
* Apostrophes inside words are removed ("don't" → "dont"), because tenants type them either way.
* The Persian zero-width non-joiner splits a word ("پرداخت‌کرده‌ام" is three tokens), like the
  space many phones put there instead; the vocabulary lists such words split the same way.
* Emoji are dropped, except those the vocabulary gives a meaning (👍 👌 🙏 ✅ ❌ …): they stay as
  tokens of their own, without skin-tone or variation selectors.
* Runs of a repeated letter are read three ways when looking a word up (see :func:`spellings`):
  as written, with runs of three or more cut to two ("haaaa" → "haa"), and squeezed to one
  ("jaaa" → "ja", "kyllää" → "kyla"), so stretched words still meet their entry without losing
  real double letters ("haa" is Somali yes, "ha" is not).

Punctuation is not a token, but it is kept as structure: a question mark is noted, and clause
marks (``. , ; : ! ?`` and their Arabic and Ethiopic forms, and line breaks) separate clauses, so
that a "not" in one clause does not negate a word in the next ("nej, jag har betalat").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

__all__ = ["Token", "Tokens", "fold", "spellings", "squeeze", "tokenise"]

_DIGITS: Final = {
    **{0x0660 + i: str(i) for i in range(10)},  # Arabic-Indic
    **{0x06F0 + i: str(i) for i in range(10)},  # Persian (extended Arabic-Indic)
    **{0x1369 + i: str(i + 1) for i in range(9)},  # Ethiopic ፩-፱
}

_LETTER_FOLD: Final = {
    ord("ı"): "i",
    ord("ł"): "l",
    ord("đ"): "d",
    ord("ø"): "o",
    ord("æ"): "ae",
    ord("ß"): "ss",
    # Arabic script: one yeh, one kaf, heh for teh marbuta; hamza carriers lose the hamza
    ord("ي"): "ی",
    ord("ى"): "ی",
    ord("ئ"): "ی",
    ord("ك"): "ک",
    ord("ة"): "ه",
    ord("ؤ"): "و",
    ord("ء"): None,
    ord("\u0640"): None,  # tatweel
    # apostrophes and look-alikes vanish inside words
    ord("'"): None,
    ord("’"): None,
    ord("‘"): None,
    ord("`"): None,
    ord("´"): None,
    ord("ʼ"): None,
}

_QUESTION_MARKS: Final = frozenset("?؟፧¿")
_CLAUSE_MARKS: Final = frozenset(".,;:!?¡¿؟،؛።፣፤፥፦፧\n\r…")
_SKIN_AND_SELECTORS: Final = frozenset(
    [chr(c) for c in range(0x1F3FB, 0x1F400)] + ["\ufe0f", "\ufe0e", "\u200d", "\u20e3"]
)

_WORD: Final = re.compile(r"[^\W\d_]+|\d+")
_RUN3: Final = re.compile(r"(.)\1{2,}")
_RUN2: Final = re.compile(r"(.)\1+")


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", kept)


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """The matching form of a word or phrase: case-folded, ASCII digits, no diacritics."""
    text = unicodedata.normalize("NFKC", word).casefold().translate(_DIGITS).translate(_LETTER_FOLD)
    return _strip_marks(text).replace("\u200c", " ")


def squeeze(word: str) -> str:
    """Every run of a repeated letter cut to one: "jaaa" → "ja", "kylla" → "kyla"."""
    return _RUN2.sub(r"\1", word)


def spellings(word: str) -> tuple[str, str, str]:
    """A folded word as written, with runs of 3+ cut to two, and fully squeezed."""
    return word, _RUN3.sub(r"\1\1", word), squeeze(word)


@dataclass(frozen=True, slots=True)
class Token:
    """One word, number or meaningful emoji of a reply.

    ``text`` is the folded form; ``original`` what the tenant typed (for all-caps STOP);
    ``clause`` counts the clause marks before it; ``number`` is set for digit tokens.
    """

    text: str
    original: str
    clause: int
    number: int | None = None

    @property
    def is_upper(self) -> bool:
        return self.original.isupper() and len(self.original) > 1


@dataclass(frozen=True, slots=True)
class Tokens:
    """A tokenised reply: its tokens, whether it asks something, and whether it shouts."""

    tokens: tuple[Token, ...]
    question_mark: bool
    all_caps: bool

    def __len__(self) -> int:
        return len(self.tokens)


def tokenise(text: str, symbols: frozenset[str] = frozenset()) -> Tokens:
    """Split ``text`` into folded tokens; ``symbols`` are the emoji that carry meaning.

    Every other symbol (emoji, currency signs, arrows) is dropped, which also separates words.
    """
    tokens: list[Token] = []
    clause = 0
    question = False
    letters_upper = letters_lower = 0
    buffer: list[str] = []

    def flush() -> None:
        if not buffer:
            return
        chunk = "".join(buffer)
        buffer.clear()
        folded = fold(chunk)
        originals = _WORD.findall(unicodedata.normalize("NFKC", chunk).translate(_DIGITS))
        parts = _WORD.findall(folded)
        for i, part in enumerate(parts):
            original = originals[i] if len(originals) == len(parts) else part
            number = int(part) if part.isdigit() and len(part) <= 9 else None
            tokens.append(Token(part, original, clause, number))

    for ch in text:
        if ch in _SKIN_AND_SELECTORS:
            continue
        if ch in symbols:
            flush()
            tokens.append(Token(ch, ch, clause))
            continue
        if ch in _CLAUSE_MARKS:
            flush()
            question = question or ch in _QUESTION_MARKS
            clause += 1
            continue
        category = unicodedata.category(ch)
        if category[0] in "LMN" or ch in "'’‘`´ʼ\u200c":
            if category == "Lu":
                letters_upper += 1
            elif category == "Ll":
                letters_lower += 1
            buffer.append(ch)
        else:
            flush()
    flush()
    all_caps = letters_upper >= 2 and letters_lower == 0
    return Tokens(tuple(tokens), question, all_caps)
