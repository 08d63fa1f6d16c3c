"""The words tenants answer with, per language, loaded from ``bot/dialogue/words/*.toml``.

Each language file lists, per *concept* (yes, no, negation, help, paid, urgent, …), the words and
phrases that express it; ``common.toml`` holds what belongs to no language (STOP, START, OK, the
emoji that mean something). The files are reviewed like any other text, by people who speak the
language; nothing about a language lives in code.

Pattern syntax in the files (all matched on folded text, see :mod:`bot.dialogue.normalise`):

* ``"har betalat"`` — words in this order, next to each other;
* ``"betal*"`` — a word beginning with ``betal`` (at least two letters before the star);
* ``"vräk* + imorgon"`` — both parts anywhere in the reply, in any order.

A word may express several concepts (Finnish "ei" is both *no* and *negation*). Matching is done
for every language at once; :mod:`bot.dialogue.understand` decides which reading to trust. Words
of five letters or more also match with one typo (a letter missing, extra, wrong or two letters
swapped); :class:`Match` says when that happened so that a consent is never read from a typo.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final

from bot.dialogue.normalise import Token, Tokens, fold, spellings, squeeze

__all__ = ["CONCEPTS", "LANGUAGES", "Match", "Vocabulary", "VocabularyError", "vocabulary"]

LANGUAGES: Final[tuple[str, ...]] = ("sv", "en", "ar", "so", "fa", "ti", "bs", "tr", "pl", "uk", "fi")
"""The languages with a word file: the message catalogue's languages."""

CONCEPTS: Final[tuple[str, ...]] = (
    "yes",  # an explicit yes / I agree
    "no",  # an answer "no" (also a negation in some languages; list it in both then)
    "negation",  # a word that negates another: not, inte, nie, ei, не, لا, نه, ma, değil
    "question",  # asks what something means: "vad betyder det", "what does it mean"
    "doubt",  # maybe, don't know, not sure, later: never a consent
    "but",  # but / however: a clause boundary and, in a consent, a reservation
    "help",  # I need help, can't pay, call me
    "meeting",  # book a meeting, can we meet, new time
    "paid",  # I have paid
    "not_paid",  # I have not paid (yet): a person should read it
    "urgent",  # threat to life or safety, eviction imminent, no food for the children
    "opt_out",  # stop sending messages (anywhere in a reply)
    "opt_out_alone",  # STOP, SLUTA, END: opt-out only when the reply is (nearly) just this word
    "opt_in",  # start messages again (anywhere in a reply)
    "opt_in_alone",  # START: opt-in only when the reply is (nearly) just this word
    "ack",  # thanks, ok, 👍: nothing to do
    "withdraw",  # withdraw / revoke my consent
    "slot",  # words that introduce a choice of time: "tid 2", "nummer 2", "alternativ 2"
    "filler",  # words that change nothing: pronouns, please, now, sms, hello
    "check",  # ✅: a yes outside a consent question
)

_PATTERN_SEPARATOR: Final = "+"
_WORD: Final = re.compile(r"[^\W\d_]+|\d+")
FUZZY_MIN_LENGTH: Final = 5
"""Words of this length and longer match with one typo; shorter ones ("ja", "nej", "inte") must
be spelled right (after folding), because one letter changes their meaning."""


class VocabularyError(ValueError):
    """A word file is malformed: a packaging bug, so it fails loudly when first loaded."""


@dataclass(frozen=True, slots=True)
class _Matcher:
    text: str
    prefix: bool


@dataclass(frozen=True, slots=True)
class _Pattern:
    language: str
    concept: str
    groups: tuple[tuple[_Matcher, ...], ...]
    value: int | None
    source: str


@dataclass(frozen=True, slots=True)
class Match:
    """One reading of part of a reply: ``concept`` in ``language`` over token ``positions``.

    ``value`` is the number of a number word ("andra" → 2); ``fuzzy`` is true when a word
    matched only with a typo allowed; ``size`` is how many tokens the pattern covers.
    """

    language: str
    concept: str
    positions: tuple[int, ...]
    fuzzy: bool = False
    value: int | None = None
    source: str = ""

    @property
    def size(self) -> int:
        return len(self.positions)


def _compile_group(raw: str, where: str) -> tuple[_Matcher, ...]:
    matchers: list[_Matcher] = []
    for piece in raw.split():
        prefix = piece.endswith("*")
        words = _WORD.findall(fold(piece.rstrip("*")))
        if not words:
            if len(piece) == 1 or not piece.strip("*"):
                matchers.append(_Matcher(fold(piece), False))  # a symbol such as 👍 or ?
                continue
            raise VocabularyError(f"{where}: {piece!r} has no letters or digits")
        for i, word in enumerate(words):
            is_prefix = prefix and i == len(words) - 1
            if is_prefix and len(word) < 2:
                raise VocabularyError(f"{where}: prefix {piece!r} is too short")
            matchers.append(_Matcher(word, is_prefix))
    if not matchers:
        raise VocabularyError(f"{where}: empty pattern")
    return tuple(matchers)


def _compile(language: str, concept: str, entry: str, value: int | None, where: str) -> _Pattern:
    groups = tuple(_compile_group(g, where) for g in entry.split(_PATTERN_SEPARATOR))
    return _Pattern(language, concept, groups, value, entry)


def _osa_distance_at_most_one(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one edit (incl. swapping two neighbours)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass(frozen=True, slots=True)
class _TokenReading:
    literals: frozenset[str]
    fuzzy: bool
    forms: tuple[str, str, str]


class Vocabulary:
    """Every language's patterns, indexed for matching a whole reply in one pass."""

    def __init__(self, patterns: Iterable[_Pattern], clitics: Mapping[str, tuple[str, ...]]) -> None:
        self.patterns = tuple(patterns)
        self.clitics = tuple(sorted({c for cs in clitics.values() for c in cs}, key=len, reverse=True))
        literals: set[str] = set()
        self._by_literal: dict[str, list[_Pattern]] = {}
        self._by_prefix: dict[str, list[_Pattern]] = {}
        self.symbols = frozenset(
            m.text for p in self.patterns for g in p.groups for m in g if not _WORD.fullmatch(m.text)
        )
        self.language_words: dict[str, set[str]] = {}
        for pattern in self.patterns:
            for group in pattern.groups:
                for m in group:
                    if not m.prefix:
                        literals.add(m.text)
                        if pattern.concept != "filler":
                            self.language_words.setdefault(m.text, set()).add(pattern.language)
            first = pattern.groups[0][0]
            if first.prefix:
                for key in {first.text[:2], squeeze(first.text)[:2]}:
                    self._by_prefix.setdefault(key, []).append(pattern)
            else:
                self._by_literal.setdefault(first.text, []).append(pattern)
        self.literals = frozenset(literals)
        self._squeezed: dict[str, frozenset[str]] = {}
        for word in literals:
            self._squeezed.setdefault(squeeze(word), frozenset())
            self._squeezed[squeeze(word)] |= {word}
        self._deleted: dict[str, set[str]] = {}
        for word in literals:
            if len(word) >= FUZZY_MIN_LENGTH and not word.isdigit():
                for d in _deletions(word):
                    self._deleted.setdefault(d, set()).add(word)

    # --- single tokens --------------------------------------------------------------------

    def _fuzzy(self, word: str) -> frozenset[str]:
        found: set[str] = set(self._deleted.get(word, ()))  # a letter missing
        for d in _deletions(word):
            if d in self.literals and len(d) >= FUZZY_MIN_LENGTH:  # a letter too many
                found.add(d)
            found |= self._deleted.get(d, set())  # a wrong or swapped letter
        return frozenset(w for w in found if _osa_distance_at_most_one(word, w))

    def read_token(self, token: Token) -> _TokenReading:
        """The vocabulary words ``token`` stands for, and whether only a typo made it match."""
        forms = spellings(token.text)
        if forms[0] in self.literals:
            literals = frozenset({forms[0]})
        else:  # stretched: "daaa" may be "da" or "daa", "haaaa" is "haa" (or "ha")
            literals = frozenset({forms[1]} & self.literals) | self._squeezed.get(forms[2], frozenset())
        if not literals:
            for clitic in self.clitics:
                rest = forms[0][len(clitic) :]
                if forms[0].startswith(clitic) and len(rest) >= 2 and rest in self.literals:
                    literals = frozenset({rest})
                    break
        if literals or len(token.text) < FUZZY_MIN_LENGTH or token.number is not None:
            return _TokenReading(literals, False, forms)
        fuzzy = self._fuzzy(forms[1])
        return _TokenReading(fuzzy, bool(fuzzy), forms)

    @staticmethod
    def _matches(m: _Matcher, reading: _TokenReading) -> bool:
        if not m.prefix:
            return m.text in reading.literals
        f1, f2, f3 = reading.forms
        return f1.startswith(m.text) or f2.startswith(m.text) or f3.startswith(squeeze(m.text))

    # --- whole replies ----------------------------------------------------------------------

    def _group_at(self, group: tuple[_Matcher, ...], start: int, readings: list[_TokenReading]) -> bool:
        if start + len(group) > len(readings):
            return False
        return all(self._matches(m, readings[start + k]) for k, m in enumerate(group))

    def match(self, tokens: Tokens) -> list[Match]:
        """Every pattern occurrence in ``tokens``, in every language (overlaps included)."""
        readings = [self.read_token(t) for t in tokens.tokens]
        found: list[Match] = []
        for i, reading in enumerate(readings):
            candidates: dict[int, _Pattern] = {}
            for literal in reading.literals:
                for p in self._by_literal.get(literal, ()):
                    candidates[id(p)] = p
            for key in {reading.forms[0][:2], reading.forms[2][:2]}:
                for p in self._by_prefix.get(key, ()):
                    candidates[id(p)] = p
            for pattern in candidates.values():
                first = pattern.groups[0]
                if not self._group_at(first, i, readings):
                    continue
                positions = list(range(i, i + len(first)))
                ok = True
                for group in pattern.groups[1:]:
                    spot = next(
                        (
                            j
                            for j in range(len(readings))
                            if not set(range(j, j + len(group))) & set(positions) and self._group_at(group, j, readings)
                        ),
                        None,
                    )
                    if spot is None:
                        ok = False
                        break
                    positions.extend(range(spot, spot + len(group)))
                if not ok:
                    continue
                fuzzy = any(readings[p].fuzzy for p in positions)
                found.append(
                    Match(
                        pattern.language,
                        pattern.concept,
                        tuple(sorted(positions)),
                        fuzzy,
                        pattern.value,
                        pattern.source,
                    )
                )
        return found

    def languages_of(self, word: str) -> frozenset[str]:
        """Languages whose (non-filler) vocabulary has the folded ``word``."""
        return frozenset(self.language_words.get(word, ()))


# --- loading ---------------------------------------------------------------------------------


def _entries(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise VocabularyError(f"{where}: expected a list of strings")
    return value


def parse_language_file(code: str, raw: str) -> tuple[list[_Pattern], tuple[str, ...], tuple[str, ...]]:
    """Patterns, clitic prefixes and negation affix regexes of one word file."""
    where = f"bot/dialogue/words/{code}.toml"
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{where}: {exc}") from exc
    patterns: list[_Pattern] = []
    concepts = data.get("concepts", {})
    unknown = sorted(set(concepts) - set(CONCEPTS))
    if unknown:
        raise VocabularyError(f"{where}: unknown concepts {', '.join(unknown)}")
    for concept, entries in concepts.items():
        for entry in _entries(entries, f"{where} [concepts] {concept}"):
            patterns.append(_compile(code, concept, entry, None, f"{where} {concept} {entry!r}"))
    for number, entries in data.get("numbers", {}).items():
        if not number.isdigit():
            raise VocabularyError(f"{where}: [numbers] key {number!r} is not a number")
        for entry in _entries(entries, f"{where} [numbers] {number}"):
            patterns.append(_compile(code, "number", entry, int(number), f"{where} number {entry!r}"))
    affixes = data.get("affixes", {})
    clitics = tuple(fold(c) for c in _entries(affixes.get("clitics", []), f"{where} clitics"))
    negation_forms = tuple(_entries(affixes.get("negation", []), f"{where} negation"))
    for regex in negation_forms:
        try:
            re.compile(regex)
        except re.error as exc:
            raise VocabularyError(f"{where}: bad negation regex {regex!r}: {exc}") from exc
    return patterns, clitics, negation_forms


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The loaded vocabulary plus the per-language regexes for negated word forms."""

    vocabulary: Vocabulary
    negation_forms: Mapping[str, tuple[re.Pattern[str], ...]]


@cache
def vocabulary() -> Lexicon:
    """All word files, loaded once (pure: reads only the package's own data)."""
    folder = resources.files("bot.dialogue") / "words"
    patterns: list[_Pattern] = []
    clitics: dict[str, tuple[str, ...]] = {}
    negations: dict[str, tuple[re.Pattern[str], ...]] = {}
    for code in ("common", *LANGUAGES):
        raw = (folder / f"{code}.toml").read_text(encoding="utf-8")
        found, language_clitics, negation_forms = parse_language_file(code, raw)
        patterns += found
        clitics[code] = language_clitics
        negations[code] = tuple(re.compile(r) for r in negation_forms)
    return Lexicon(Vocabulary(patterns, clitics), MappingProxyType(negations))
