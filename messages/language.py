"""Which language a tenant's reply is in: ``detect(text, prior=None) -> Detection``.

Tenants answer in one to three words ("ja", "haa", "نعم", "tak", "evet", "kylla", "ሓገዝ"), often
without diacritics. General-purpose detectors are tuned for sentences, so this module puts cheap,
certain evidence first and uses statistical models only for what is left:

1. **Script.** Ethiopic letters mean Tigrinya (no detector library knows Tigrinya; Amharic shares
   the script but is not in our catalogue). Arabic script leaves Arabic vs Persian, Cyrillic leaves
   Ukrainian vs Russian vs Serbian (scored as Bosnian), Latin leaves the seven Latin-script
   languages. Other scripts (and text with no letters at all) are ``und``.
2. **Letters.** Language-specific letters are hints, not verdicts: پ چ ژ گ and Persian yeh/kaf
   for Persian, ة ى and Arabic yeh/kaf for Arabic, і ї є ґ for Ukrainian, ы э ъ ё for Russian,
   ђ ј љ њ ћ џ and đ č for Bosnian, ğ ı ş for Turkish, ą ę ł ń ś ź ż for Polish, å for Swedish.
   Tenants often drop diacritics, so a missing letter is never held against a language; a letter
   a language's alphabet lacks is ("ä" is not English, "я" not Serbian, "ы" not Ukrainian).
3. **Words.** A hand-written list of reply and function words per language
   (:mod:`messages.language_lexicon`), matched with and without diacritics, because two- to
   four-letter replies are below what n-gram models can read.
4. **Two n-gram models, combined.** lingua-language-detector in *low-accuracy* mode (trigrams
   only), restricted to our languages (plus Croatian/Serbian for the Bosnian group and Russian),
   and a naive-Bayes scorer over langdetect's own 1–3-gram profiles for the same languages. They
   err differently (lingua has no word-boundary n-grams, langdetect's profiles do), so the sum of
   their log-scores beats either one alone.
5. **Prior.** The tenant's known language adds ``log(PRIOR_WEIGHT)`` to that language's score. That
   settles ambiguous one-word replies but cannot outvote a clear reply in another language, which
   the dialogue needs in order to switch a tenant's language.

Why this default, by the numbers (``.venv/bin/python bench/langid.py`` over ``../shared/langid/``:
macro accuracy over the catalogue languages + Bosnian/Croatian/Serbian as one group + Russian;
"prior" = the tenant's language, right 80 % of the time; each detector measured in its own fresh
process, so detections/s and peak RSS are its own; lingua restricted to our 13 languages):

===========================  ==========  ==========  ===========  ==========  ==========
bucket                       langdetect  lingua low  lingua high  **detect**  target
===========================  ==========  ==========  ===========  ==========  ==========
single words, no prior       62.7 %      84.1 %      91.8 %       86.7 %      >= 85 %
single words, with prior     63.9 %      92.9 %      96.9 %       95.4 %      >= 96 %
word pairs, no prior         80.9 %      95.2 %      98.5 %       96.5 %
sentences, no prior          95.6 %      99.1 %      99.7 %       99.6 %
Tatoeba 1-3 words, no prior  80.3 %      88.0 %      96.0 %       96.9 %      >= 92 %
Tatoeba 4-6 words, no prior  89.9 %      94.6 %      99.2 %       99.4 %
Tigrinya (all buckets)       0 %         0 %         0 %          100 %       >= 99 %
detections/s                 330         14,370      5,713        4,964       >= 5,000
peak RSS                     85 MB       51 MB       417 MB       66 MB       <= 150 MB
===========================  ==========  ==========  ===========  ==========  ==========

Detections/s above are from a run on a loaded two-core machine (load average ~3.7): every
detector ran at about 55 % of its speed in the previous, unloaded run (langdetect 624/s, lingua
low 26,141/s, ``detect`` 9,292/s before the foreign-letter rule, which costs ~3 %). Compare the
ratio to lingua low (0.35), not the absolute figure.

lingua's high-accuracy mode is the most accurate single detector on isolated words, but it holds
~390 MB of models for our languages (~50-80 MB per language: too much even for a subset), so it
is out. Low-accuracy mode (trigrams only) holds ~35 MB but cannot read two-letter words and
misreads short ones; the script rules, letters, word list and the langdetect-profile scorer make
up most of the difference (Tatoeba 1-3 words 88.0 % -> 96.9 %). langdetect itself is slow (it
samples n-grams at random, ~600 detections/s), needs ``DetectorFactory.seed`` to be
deterministic and is the least accurate; we only read its profile files, scored
deterministically in one pass. Known gap: single words with a prior, 95.4 % against 96 %. On the
development words the prior's weight is already at its optimum (``PRIOR_WEIGHT`` 20-160 and
``TEMPERATURE`` 2-5 swept), and refitting the evidence weights by log-loss, with or without the
simulated prior, with length or model-agreement terms, moved that bucket by at most 0.1 point:
the errors left are the models' own (Ukrainian vs Russian, English vs Swedish/Finnish on words
both spell alike), which a better prior rule cannot fix.

All constants below were chosen on development data that is not the benchmark: CLDR names via
babel and random words of the Debian hunspell dictionaries (sv, en, ar, bs/hr/sr, tr, pl, uk, ru);
the benchmark was only run to measure.

Thread safety: the models are built once, lazily, under a lock; after that everything is read-only
(lingua's detector is safe to share between threads), and the per-text cache is
``functools.lru_cache``, which is thread-safe.
"""

from __future__ import annotations

import json
import math
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final

from messages.language_lexicon import WORDS

__all__ = ["OUTCOMES", "UNDETERMINED", "Detection", "detect", "warm_up"]

UNDETERMINED: Final = "und"
"""Returned for text with no letters (empty, emoji, digits, punctuation) or in a script none of
our languages is written in. Its confidence is always 0.0, so ``detection.confidence >= x`` is a
safe test for "we know"."""

OUTCOMES: Final[tuple[str, ...]] = ("sv", "en", "ar", "so", "fa", "ti", "bs", "tr", "pl", "uk", "fi", "ru")
"""Every language ``detect`` can return besides ``und``: the catalogue, plus Russian, which is not
a catalogue language but must stay a distinct outcome so that a Russian reply is not taken for
Ukrainian. Bosnian stands for the Bosnian/Croatian/Serbian group (Latin or Cyrillic)."""

TEMPERATURE: Final = 2.5
"""The evidence scores below are log-odds that overcount (n-grams overlap, two models read the same
letters); dividing by this makes their softmax a calibrated probability. Fitted by log-loss on
random hunspell-dictionary words (CLDR names, being proper nouns, wanted ~4); not on the benchmark."""

PRIOR_WEIGHT: Final = 40.0
"""How many times likelier the tenant's known language is taken to be before reading the reply:
right 80 % of the time against 20 % spread over ten other languages is 0.8 / 0.02 = 40 (also the
best of 20/40/80 on the development words). Enough to decide a reply the models find ambiguous
(a 3–5-letter word), too little to outvote a sentence, or a word only another language uses.
"""

LEXICON_BONUS: Final = 8.0
"""Raw log-score added to each language whose word list holds a word of the reply (about 3 nats
after ``TEMPERATURE``): a reply or function word is strong evidence, stronger than what the
n-gram models can read from the same three or four letters ("evet" looks Swedish to them)."""

LEXICON_BONUS_UNIQUE: Final = 16.0
"""The same for a word only one candidate language lists ("evet", "kiitos", "tack"): enough to
outvote the prior, since a tenant who answers "evet" has answered in Turkish."""

NEUTRAL_WORDS: Final = frozenset({"ok", "okay", "okey", "oki", "k", "kk", "sms"})
"""Words every tenant uses whatever their language; a reply made only of them is ``und``."""

HINT_BONUS: Final = 2.0
"""Log-score added per kind of language-specific letter (see ``_HINTS``)."""

FOREIGN_LETTER_PENALTY: Final = 7.5
"""Raw log-score taken from a language per distinct letter of the reply that its alphabet lacks
(see ``_ALPHABETS``): "ä" is not English, "я" not Serbian, "ы" not Ukrainian. Unlike a missing
letter (tenants drop diacritics), a present one is never an accident of typing. About 3 nats after
``TEMPERATURE``: the log-loss fit on the development words (hunspell forms and CLDR names) gave
3.1-7.7 raw; the n-gram models already read most of this, so it only settles close calls."""

LANGDETECT_WEIGHT: Final = 0.4
"""Weight of the langdetect-profile log-likelihood against lingua's log-probability. Its n-grams
overlap (a letter is counted in three of them), so its raw log-likelihood is overconfident."""

LINGUA_WEIGHT: Final = 1.0
"""Weight of lingua's log-probability (the reference the other weights are relative to)."""

_LINGUA_FLOOR: Final = 1e-3
"""Added to lingua's probabilities before the log so that one model's zero cannot veto the other."""

_LANGDETECT_SMOOTHING: Final = 0.5 / 10_000
"""langdetect's own smoothing: ``alpha / BASE_FREQ``."""

_CONFIDENCE_ETHIOPIC: Final = 0.99
"""Ethiopic script is Tigrinya or Amharic; Amharic is not in our catalogue."""

# Language sets per script. Bosnian covers Croatian and Serbian (Latin and Cyrillic).
_LATIN: Final = ("sv", "en", "so", "bs", "tr", "pl", "fi")
_ARABIC: Final = ("ar", "fa")
_CYRILLIC: Final = ("uk", "ru", "bs")

# lingua languages (ISO 639-1) and the outcome each counts for.
_LINGUA_CODES: Final[Mapping[str, str]] = {
    "sv": "sv", "en": "en", "ar": "ar", "so": "so", "fa": "fa", "bs": "bs", "hr": "bs", "sr": "bs",
    "tr": "tr", "pl": "pl", "uk": "uk", "ru": "ru", "fi": "fi",
}  # fmt: skip

# langdetect profile per outcome (langdetect has Croatian, not Bosnian or Serbian).
_LANGDETECT_PROFILES: Final[Mapping[str, str]] = {
    "sv": "sv", "en": "en", "ar": "ar", "so": "so", "fa": "fa", "bs": "hr", "tr": "tr", "pl": "pl",
    "uk": "uk", "ru": "ru", "fi": "fi",
}  # fmt: skip
_NB_LANGUAGES: Final[tuple[str, ...]] = tuple(_LANGDETECT_PROFILES)
_NB_INDEX: Final[Mapping[str, int]] = {language: i for i, language in enumerate(_NB_LANGUAGES)}

# Language-specific letters -> the languages (among the script's candidates) they point to.
_HINTS: Final[tuple[tuple[frozenset[str], tuple[str, ...]], ...]] = (
    (frozenset("پچژگکی"), ("fa",)),  # Persian peh, tcheh, jeh, gaf, keheh, yeh
    (frozenset("ةىيك"), ("ar",)),  # ta marbuta, alef maksura, Arabic yeh and kaf
    (frozenset("іїєґ"), ("uk",)),
    (frozenset("ыэъё"), ("ru",)),
    (frozenset("ђјљњћџ"), ("bs",)),
    (frozenset("đ"), ("bs",)),
    (frozenset("č"), ("bs",)),
    (frozenset("ćšž"), ("bs", "pl", "fi")),
    (frozenset("ğış"), ("tr",)),
    (frozenset("çü"), ("tr",)),
    (frozenset("ąęłńśźżó"), ("pl",)),
    (frozenset("å"), ("sv",)),
    (frozenset("äö"), ("sv", "fi", "tr")),
)

# Each language's letters among those special to some candidate of its script (``_SPECIAL``):
# a letter of ``_SPECIAL`` outside a language's set counts against it. Plain a-z are never
# counted (loanwords and names use them everywhere), nor letters none of our languages writes.
_ALPHABETS: Final[Mapping[str, Mapping[str, frozenset[str]]]] = {
    "latin": {
        "sv": frozenset("åäöé"), "en": frozenset(), "so": frozenset(), "fi": frozenset("äöåšž"),
        "bs": frozenset("čćđšž"), "tr": frozenset("çğıöşüâîû"), "pl": frozenset("ąćęłńóśźż"),
    },
    "cyrillic": {
        "ru": frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя"),
        "uk": frozenset("абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"),
        "bs": frozenset("абвгдђежзијклљмнњопрстћуфхцчџш"),
    },
}  # fmt: skip
_SPECIAL: Final[Mapping[str, frozenset[str]]] = {
    script: frozenset().union(*alphabets.values()) for script, alphabets in _ALPHABETS.items()
}

# Serbian Cyrillic -> Latin (one to one), so that langdetect's Croatian profile can score it.
_SERBIAN_TO_LATIN: Final = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž", "з": "z",
        "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u", "ф": "f", "х": "h", "ц": "c",
        "ч": "č", "џ": "dž", "ш": "š",
    }
)  # fmt: skip

# Arabic-script variants folded for word look-up (the lexicon is matched on folded forms).
_ARABIC_FOLD: Final = str.maketrans({"ي": "ی", "ك": "ک", "ى": "ی", "أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه"})


@dataclass(frozen=True, slots=True)
class Detection:
    """The language of a reply and how sure we are.

    ``language`` is one of :data:`OUTCOMES` or :data:`UNDETERMINED`; ``confidence`` is the
    detector's probability for it, in [0, 1] (0.0 exactly when undetermined). The dialogue
    switches a tenant's language only on a confident detection, so the probability is meant to
    be read, not just ranked.
    """

    language: str
    confidence: float


_UND: Final = Detection(UNDETERMINED, 0.0)


# --- text analysis -------------------------------------------------------------------------


def _script(ch: str) -> str | None:
    """The script of one letter, among the four our languages use (None for any other)."""
    cp = ord(ch)
    if cp < 0x250 or 0x1E00 <= cp <= 0x1EFF:
        return "latin"
    if 0x400 <= cp <= 0x52F:
        return "cyrillic"
    if 0x600 <= cp <= 0x6FF or 0x750 <= cp <= 0x77F or 0x8A0 <= cp <= 0x8FF or 0xFB50 <= cp <= 0xFEFF:
        return "arabic"
    if 0x1200 <= cp <= 0x139F or 0x2D80 <= cp <= 0x2DDF or 0xAB00 <= cp <= 0xAB2F:
        return "ethiopic"
    return None


def _normalise(text: str) -> str:
    """Lower-case letters and single spaces: what the models see.

    Digits, punctuation, emoji and URLs carry no language, and langdetect's profiles ignore
    words in capitals, so everything is lower-cased. Apostrophes inside words are kept (Somali
    writes the glottal stop with one: "ma'a"); Arabic tatweel and vowel marks are dropped; the
    zero-width non-joiner inside Persian words is kept.
    """
    text = unicodedata.normalize("NFC", text).lower()
    out: list[str] = []
    for word in text.split():
        if "://" in word or word.startswith("www."):
            continue
        letters = []
        for ch in word:
            if ch.isalpha():
                letters.append(ch)
            elif ch in "'’\u200c" and letters:
                letters.append("'" if ch == "’" else ch)
            elif unicodedata.category(ch) == "Mn":
                continue  # harakat, combining marks
            else:
                letters.append(" ")
        cleaned = "".join(letters).replace("\u0640", "")
        out.extend(part.strip("'\u200c") for part in cleaned.split())
    return " ".join(part for part in out if part)


def _dominant_script(text: str) -> str | None:
    """The script most letters are in; ties go to the non-Latin script ("ok نعم" is Arabic)."""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            script = _script(ch)
            if script is not None:
                counts[script] = counts.get(script, 0) + (1 if script == "latin" else 2)
    if not counts:
        return None
    return max(counts, key=lambda s: counts[s])


def _fold(word: str) -> str:
    """A word without diacritics, as tenants type it ("kylla", "tesekkurler", "dziekuje")."""
    word = word.translate(_ARABIC_FOLD).replace("ı", "i").replace("ł", "l").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


# --- models ----------------------------------------------------------------------------------


class _Models:
    """Everything built once: the lingua detector, langdetect's profiles and the word index."""

    def __init__(self) -> None:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        isos = [getattr(IsoCode639_1, code.upper()) for code in _LINGUA_CODES]
        self.lingua = (
            LanguageDetectorBuilder.from_iso_codes_639_1(*isos)
            .with_low_accuracy_mode()
            .with_preloaded_language_models()
            .build()
        )
        self.lingua_outcome = {
            Language.from_iso_code_639_1(iso): _LINGUA_CODES[code]
            for iso, code in zip(isos, _LINGUA_CODES, strict=True)
        }
        self.ngrams = _load_langdetect_profiles()
        self.words = _word_index(WORDS)


def _load_langdetect_profiles() -> dict[str, tuple[float, ...]]:
    """n-gram -> log(smoothing + P(n-gram | language)) for our languages, from langdetect's files.

    Only our eleven profiles are read (of langdetect's 55), which keeps this at a few MB.
    """
    profiles = resources.files("langdetect") / "profiles"
    table: dict[str, list[float]] = {}
    for i, code in enumerate(_LANGDETECT_PROFILES.values()):
        profile = json.loads((profiles / code).read_text(encoding="utf-8"))
        totals = profile["n_words"]
        for gram, count in profile["freq"].items():
            if not 1 <= len(gram) <= 3:
                continue
            row = table.setdefault(gram.lower(), [0.0] * len(_NB_LANGUAGES))
            row[i] += count / totals[len(gram) - 1]
    return {gram: tuple(math.log(_LANGDETECT_SMOOTHING + p) for p in row) for gram, row in table.items()}


def _word_index(words: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Folded word -> languages, so "kylla" finds "kyllä" and "يا" finds "یا"."""
    index: dict[str, set[str]] = {}
    for language, language_words in words.items():
        for word in language_words:
            index.setdefault(_fold(word), set()).add(language)
    return {word: frozenset(languages) for word, languages in index.items()}


_models: _Models | None = None
_models_lock = threading.Lock()


def _get_models() -> _Models:
    """The models, built on first use (about 0.3 s) and shared by all threads."""
    global _models
    if _models is None:
        with _models_lock:
            if _models is None:
                _models = _Models()
    return _models


def warm_up() -> None:
    """Build the models now (e.g. at bot start) instead of on the first reply."""
    _get_models()


# --- scoring ---------------------------------------------------------------------------------


def _langdetect_scores(
    text: str, candidates: tuple[str, ...], table: Mapping[str, tuple[float, ...]]
) -> tuple[list[float], int]:
    """Naive-Bayes log-likelihood of ``text`` under langdetect's profiles, per candidate.

    Deterministic, one pass over the 1-, 2- and 3-grams of each word padded with spaces (as
    langdetect builds its profiles); n-grams no profile knows are skipped, so the number of
    n-grams scored is returned too. Farsi yeh is read as Arabic yeh, as langdetect does.
    """
    idx = [_NB_INDEX[c] for c in candidates]
    sums = [0.0] * len(candidates)
    hits = 0
    for word in text.replace("ی", "ي").split():
        padded = f" {word} "
        n = len(padded)
        for length in (1, 2, 3):
            for start in range(n - length + 1):
                row = table.get(padded[start : start + length])
                if row is not None:
                    hits += 1
                    for j, i in enumerate(idx):
                        sums[j] += row[i]
    return sums, hits


@lru_cache(maxsize=8192)
def _evidence(text: str) -> tuple[tuple[str, ...], tuple[float, ...]] | None:
    """Candidate languages and their log-scores for normalised ``text``, before any prior.

    Cached because tenants send the same few replies ("ja", "ok", "tack") over and over; the
    prior is applied afterwards, so one entry serves every tenant.
    """
    script = _dominant_script(text)
    if script is None:
        return None
    if script == "ethiopic":
        return ("ti",), (0.0,)
    candidates = {"latin": _LATIN, "arabic": _ARABIC, "cyrillic": _CYRILLIC}[script]
    models = _get_models()
    scores = dict.fromkeys(candidates, 0.0)

    # lingua: probabilities over its 13 languages, summed per outcome, renormalised to candidates.
    lingua_p = dict.fromkeys(candidates, 0.0)
    for value in models.lingua.compute_language_confidence_values(text):
        outcome = models.lingua_outcome[value.language]
        if outcome in lingua_p:
            lingua_p[outcome] += value.value
    total = sum(lingua_p.values())
    for c in candidates:
        p = lingua_p[c] / total if total > 0 else 1.0 / len(candidates)
        scores[c] += LINGUA_WEIGHT * math.log(p + _LINGUA_FLOOR)

    # langdetect profiles; Serbian Cyrillic is read through the Croatian (Latin) profile.
    sums, hits = _langdetect_scores(text, candidates, models.ngrams)
    nb = dict(zip(candidates, sums, strict=True))
    if script == "cyrillic" and hits:
        # Same number of n-grams as the others, at the Croatian profile's mean log-probability.
        latin_sums, latin_hits = _langdetect_scores(text.translate(_SERBIAN_TO_LATIN), ("bs",), models.ngrams)
        nb["bs"] = latin_sums[0] / latin_hits * hits if latin_hits else min(sums)
    top = max(nb.values())
    for c in candidates:
        scores[c] += LANGDETECT_WEIGHT * (nb[c] - top)

    # letters
    letters = set(text)
    for chars, languages in _HINTS:
        if letters & chars:
            for language in languages:
                if language in scores:
                    scores[language] += HINT_BONUS

    # letters a language does not write
    alphabets = _ALPHABETS.get(script)
    if alphabets is not None:
        special = letters & _SPECIAL[script]
        for c in candidates:
            scores[c] -= FOREIGN_LETTER_PENALTY * len(special - alphabets[c])

    # words
    for word in text.split():
        languages = models.words.get(word) or models.words.get(_fold(word)) or frozenset()
        holders = [language for language in languages if language in scores]
        bonus = LEXICON_BONUS if len(holders) > 1 else LEXICON_BONUS_UNIQUE
        for language in holders:
            scores[language] += bonus
    return candidates, tuple(scores[c] for c in candidates)


def detect(text: str, prior: str | None = None) -> Detection:
    """The language of ``text`` and its probability, given the tenant's known language ``prior``.

    ``prior`` is a language code (``hr``/``sr`` count as ``bs``); ``None`` or a code we cannot
    return means no prior. It makes that language ``PRIOR_WEIGHT`` times likelier, never certain.
    Returns ``Detection("und", 0.0)`` for text without letters, in a script none of our languages
    uses, or made only of :data:`NEUTRAL_WORDS` ("ok"): such a reply says nothing about the
    language, so the caller keeps the tenant's.
    """
    normalised = _normalise(text)
    if not normalised or all(word in NEUTRAL_WORDS for word in normalised.split()):
        return _UND
    evidence = _evidence(normalised)
    if evidence is None:
        return _UND
    candidates, base = evidence
    if candidates == ("ti",):
        return Detection("ti", _CONFIDENCE_ETHIOPIC)
    scores = [score / TEMPERATURE for score in base]
    if prior is not None:
        prior = {"hr": "bs", "sr": "bs"}.get(prior, prior)
        if prior in candidates:
            scores[candidates.index(prior)] += math.log(PRIOR_WEIGHT)
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    best = scores.index(top)
    return Detection(candidates[best], weights[best] / sum(weights))
