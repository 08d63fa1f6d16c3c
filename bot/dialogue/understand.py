"""What a reply means, in context: ``understand(text, awaiting, language) -> Understanding``.

The steps, each cheap (about 0.1 ms a reply after the models are warm):

1. **Tokens** (:mod:`bot.dialogue.normalise`): folded words, digits of every script as ASCII,
   meaningful emoji as tokens, clause marks and question marks remembered.
2. **Language**: :func:`messages.language.detect` with the tenant's known language as prior.
3. **Readings** (:mod:`bot.dialogue.vocabulary`): every phrase of every language's word file that
   occurs in the reply. Where readings overlap, the longer phrase wins ("vet inte" is doubt, not a
   negation; "kan inte betala" asks for help), then the reading in the tenant's language, then the
   one in the detected language, then all other languages together. So "ja" is yes for a Swedish
   tenant but the pronoun "I" for a Polish one; a word the preferred languages do not know is read
   in every language that knows it ("nej" from an English-speaking tenant is still no). When the
   preferred languages read only filler words, the other readings are used, less confidently.
   A typo is forgiven only in the preferred languages ("nästa" is not Bosnian "ništa").
4. **Negation**: a negation word (or a negated verb form such as Turkish "ödemedim") within three
   words of an intent, in the same clause, cancels it: "jag har inte betalat" is not ``paid``.
   Clauses end at punctuation and at "but" words, so "nej, jag har betalat" is ``paid``.
5. **Intent**, by precedence: ``urgent`` (any reading in any language; never negated) >
   ``opt_out`` > withdrawal of consent > what the context asked for (a consent answer, a slot
   choice, a menu digit) > ``paid`` > ``meeting`` > ``help`` > ``no`` / ``yes`` > ``ack`` > ``other``.

Consent is held to a stricter rule than anything else, because a wrong ``yes`` shares a tenant's
data: in ``consent`` context a reply is ``yes`` only when it contains a yes word (spelled right,
no typo allowance) and nothing that says no, not, maybe, but, withdraw or asks a question (a
question mark included), and at most a couple of words the vocabulary does not know. Anything
short of that is not consent: a question gets the explanation again, doubt and "ok" get asked
again, everything else goes to a person.

Choices made where the contract is silent (see ``architecture.md``):

* A withdrawal ("ÅTERKALLA", "I withdraw my consent") is ``Intent.NO`` with ``withdraw=True``; the
  command line prints ``"intent": "no", "withdraw": true``.
* "What does it mean?" sets ``question=True``; in consent context its intent is ``other`` (the
  flows explain again), elsewhere whatever else the reply says.
* A digit 1-3 in ``nothing`` context is read as the menu item, less confidently than in ``menu``
  context: every message Bokvar sends offers the same three numbers.
* A yes with a reservation ("yes but not health data") is ``other`` in consent context: the flow
  explains again. A reservation that refuses the help itself ("ja men inte till socialtjänsten")
  is ``no``.
* A negated payment ("jag har inte betalat än") is ``other``: a person should read it. A negated
  help or meeting request ("jag behöver ingen hjälp") is ``no``.
* "STOP"-like single words (STOP, SLUTA, END) opt out when the reply is just that word with
  politeness or filler around it, or when written in capitals inside a reply that is not all
  capitals; "please stop the eviction" is not an opt-out. Opt-out phrases ("sluta skicka sms",
  "inga fler sms") opt out wherever they occur. "Don't stop" is not an opt-out.
* ``language`` is the detected language when the detector is at least 50 % sure, else the one
  language of the words that were read, else ``und``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from bot.dialogue.normalise import Tokens, tokenise
from bot.dialogue.vocabulary import LANGUAGES, Lexicon, Match, vocabulary
from messages.language import UNDETERMINED, detect
from storage.models.enums import Awaiting

__all__ = ["Intent", "Understanding", "understand"]


class Intent(StrEnum):
    HELP = "help"
    MEETING = "meeting"
    PAID = "paid"
    YES = "yes"
    NO = "no"
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    URGENT = "urgent"
    ACK = "ack"
    CHOICE = "choice"
    OTHER = "other"


MENU: Final = {1: Intent.HELP, 2: Intent.MEETING, 3: Intent.PAID}
"""The menu every outreach message offers: 1 help, 2 meeting, 3 paid."""

MAX_SLOT_CHOICE: Final = 9
"""A bigger number in slot context is a time of day or an amount, not a list item."""

NEGATION_WINDOW: Final = 3
"""How many words before or after an intent a negation reaches (same clause only)."""

LANGUAGE_CONFIDENCE: Final = 0.5
"""Below this the detector's language is not reported (nor used as a preferred language)."""

_BLOCKERS: Final = frozenset({"no", "negation", "doubt", "question", "but", "withdraw"})
_CONTENT: Final = ("paid", "meeting", "help")
_NEUTRAL: Final = frozenset({"filler", "ack", "slot", "number", "opt_out_alone", "opt_in_alone", "check"})
_FORM: Final = "negated form: "
_NOT_WORDS: Final = frozenset({"filler", "negation", "no", "slot"})
_CONTENT_INTENT: Final = {"paid": Intent.PAID, "meeting": Intent.MEETING, "help": Intent.HELP}


@dataclass(frozen=True, slots=True)
class Understanding:
    """How Bokvar reads one reply.

    ``intent`` and ``choice`` follow the ``bokvar understand`` contract; ``withdraw`` marks a
    withdrawal of consent (intent ``no``), ``question`` a request to explain, ``doubt`` a
    maybe/not-sure/but. ``language`` is the reply's language (or ``und``) with the detector's
    ``language_confidence``; ``evidence`` lists the phrases that decided, for staff and tests.
    """

    intent: Intent
    language: str
    choice: int | None = None
    confidence: float = 0.0
    withdraw: bool = False
    question: bool = False
    doubt: bool = False
    language_confidence: float = 0.0
    evidence: tuple[str, ...] = field(default=())

    def as_json(self) -> dict[str, object]:
        """The result fields of a ``bokvar understand`` output line."""
        out: dict[str, object] = {
            "intent": self.intent.value,
            "language": self.language,
            "choice": self.choice,
            "confidence": round(self.confidence, 2),
        }
        if self.withdraw:
            out["withdraw"] = True
        if self.question:
            out["question"] = True
        return out


# --- reading the matches ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reading:
    """The matches chosen for a reply, and the raw ones that were set aside."""

    tokens: Tokens
    selected: tuple[Match, ...]
    raw: tuple[Match, ...]
    rank: dict[str, int]
    fallback: bool
    clause: tuple[int, ...]

    def of(self, *concepts: str) -> list[Match]:
        return [m for m in self.selected if m.concept in concepts]

    def covered(self) -> set[int]:
        return {p for m in self.selected for p in m.positions}

    def unknown(self) -> int:
        """Words no reading covers (digits are never unknown)."""
        covered = self.covered()
        return sum(1 for i, t in enumerate(self.tokens.tokens) if i not in covered and t.number is None)


def _rank_table(preferred: Iterable[str]) -> dict[str, int]:
    rank = {"common": 0}
    for i, code in enumerate(dict.fromkeys(preferred)):
        rank.setdefault(code, i)
    return rank


def _select(matches: list[Match], rank: dict[str, int], skip_filler: bool) -> list[Match]:
    """Longest phrase first, then the preferred language; same span and rank readings coexist."""
    other = max(rank.values(), default=0) + 1

    def key(m: Match) -> tuple[int, bool, int]:
        return (-m.size, m.fuzzy, rank.get(m.language, other))

    claims: dict[int, tuple[tuple[int, ...], int, bool]] = {}
    chosen: list[Match] = []
    for m in sorted(matches, key=key):
        if skip_filler and m.concept == "filler":
            continue
        claim = (m.positions, rank.get(m.language, other), m.fuzzy)
        if all(p not in claims for p in m.positions) or all(claims.get(p) == claim for p in m.positions):
            chosen.append(m)
            for p in m.positions:
                claims[p] = claim
    return chosen


def _read(text: str, lexicon: Lexicon, preferred: list[str]) -> _Reading:
    tokens = tokenise(text, lexicon.vocabulary.symbols)
    rank = _rank_table(preferred)
    # A typo is only forgiven in the languages the tenant is known or detected to write: across
    # eleven word files nearly any word is one letter from something ("nästa" → Bosnian "ništa").
    raw = [m for m in lexicon.vocabulary.match(tokens) if not m.fuzzy or m.language in rank]
    read = {p for m in raw if m.concept != "filler" for p in m.positions}
    for i, token in enumerate(tokens.tokens):
        if i in read:  # a known word ("نمیدونم" is doubt, "ኣይፋል" is no): its own reading wins
            continue
        for code, forms in lexicon.negation_forms.items():
            if any(f.search(token.text) for f in forms):
                raw.append(Match(code, "negation", (i,), source=f"{_FORM}{token.text}"))
    selected = _select(raw, rank, skip_filler=False)
    fallback = False
    if not any(m.concept not in ("filler",) for m in selected) and any(m.concept != "filler" for m in raw):
        selected = _select(raw, rank, skip_filler=True)
        fallback = True
    # "but" words end a clause, like punctuation does.
    buts = sorted(p for m in selected if m.concept == "but" for p in m.positions)
    clause = tuple(t.clause + sum(1 for b in buts if b < i) for i, t in enumerate(tokens.tokens))
    return _Reading(tokens, tuple(selected), tuple(raw), rank, fallback, clause)


def _negated(m: Match, reading: _Reading, before: int = NEGATION_WINDOW, after: int = NEGATION_WINDOW) -> bool:
    start, end = m.positions[0], m.positions[-1]
    clause = reading.clause[start]
    words = {p for x in reading.selected if x.concept not in _NOT_WORDS for p in x.positions}
    for n in reading.of("negation"):
        p = n.positions[0]
        if p in m.positions:
            # A negated form of the very word ("ödemedim"): only for words that state something.
            if n.source.startswith(_FORM) and m.concept in ("yes", "paid", "ack", "meeting"):
                return True
            continue
        if reading.clause[p] != clause:
            continue
        if start - before <= p < start:
            # "don't stop helping me": the negation belongs to "stop", not to "helping".
            if not any(q in words for q in range(p + 1, start)):
                return True
        elif end < p <= end + after:
            return True
    return False


def _blocked(reading: _Reading) -> bool:
    """Whether anything in the reply speaks against a consent (for ``yes`` in consent context)."""
    if reading.tokens.question_mark or reading.of(*_BLOCKERS):
        return True
    other = max(reading.rank.values(), default=0) + 1
    claims: dict[int, tuple[int, int]] = {}
    for m in reading.selected:
        r = reading.rank.get(m.language, other)
        for p in m.positions:
            size, best = claims.get(p, (0, other + 1))
            claims[p] = (max(size, m.size), min(best, r))
    for m in reading.raw:
        if m.concept not in _BLOCKERS:
            continue
        r = reading.rank.get(m.language, other)
        # Only a reading in a better-ranked language clears it (Polish "no" is not English "no");
        # a longer phrase swallowing the negation ("ma bixin …") does not: consent stays blocked.
        outranked = all(p in claims and claims[p][1] < r for p in m.positions)
        if not outranked:
            return True
    return False


def _numbers(reading: _Reading) -> set[int]:
    values = {t.number for t in reading.tokens.tokens if t.number is not None}
    values |= {m.value for m in reading.of("number") if m.value is not None}
    return values


def _only(reading: _Reading, allowed: frozenset[str], extra_unknown: int = 0) -> bool:
    """True when every token is read as one of ``allowed`` (digits count as allowed)."""
    ok = {p for m in reading.selected if m.concept in allowed for p in m.positions}
    ok |= {i for i, t in enumerate(reading.tokens.tokens) if t.number is not None}
    return len(reading.tokens) - len(ok) <= extra_unknown and not any(
        m.concept not in allowed for m in reading.selected
    )


def _confidence(base: float, reading: _Reading, ms: Iterable[Match] = ()) -> float:
    ms = list(ms)
    value = base
    if any(m.fuzzy for m in ms):
        value *= 0.8
    if reading.fallback:
        value *= 0.75
    n = len(reading.tokens)
    if n:
        value *= 1.0 - 0.4 * (reading.unknown() / n)
    return max(0.05, min(0.99, value))


def _language(reading: _Reading, detected: str, detected_confidence: float, prior: str | None) -> str:
    """The detector's answer, unless the words read say otherwise ("jaaaa" is Swedish)."""
    words = {m.language for m in reading.selected if m.concept != "filler" and m.language in LANGUAGES}
    if words and detected not in words:
        if prior in words:
            return prior
        if len(words) == 1:
            return next(iter(words))
    if detected != UNDETERMINED and detected_confidence >= LANGUAGE_CONFIDENCE:
        return detected
    return next(iter(words)) if len(words) == 1 else UNDETERMINED


# --- deciding ---------------------------------------------------------------------------------


def understand(text: str, awaiting: Awaiting | str = Awaiting.NOTHING, language: str | None = None) -> Understanding:
    """Read ``text`` as a reply to a message that asked for ``awaiting``, from a tenant whose
    known language is ``language`` (a catalogue code, or None when unknown)."""
    awaiting = Awaiting(awaiting)
    lexicon = vocabulary()
    detection = detect(text, prior=language)
    preferred = [code for code in (language, detection.language) if code in LANGUAGES]
    if detection.confidence < LANGUAGE_CONFIDENCE and len(preferred) == 2:
        preferred = preferred[:1]
    reading = _read(text, lexicon, preferred)
    lang = _language(reading, detection.language, detection.confidence, language)
    result = _decide(reading, awaiting)
    return Understanding(
        intent=result.intent,
        language=lang,
        choice=result.choice,
        confidence=result.confidence,
        withdraw=result.withdraw,
        question=result.question,
        doubt=result.doubt,
        language_confidence=detection.confidence,
        evidence=result.evidence,
    )


def _evidence(ms: Iterable[Match]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"{m.language}:{m.concept}:{m.source}" for m in ms))


def _decide(reading: _Reading, awaiting: Awaiting) -> Understanding:
    und = UNDETERMINED
    question = bool(reading.of("question")) or (reading.tokens.question_mark and not reading.of(*_CONTENT))
    doubt = bool(reading.of("doubt", "but"))

    def result(intent: Intent, base: float, ms: Iterable[Match] = (), choice: int | None = None, **flags: bool):
        ms = list(ms)
        return Understanding(
            intent,
            und,
            choice,
            _confidence(base, reading, ms),
            question=question,
            doubt=doubt,
            evidence=_evidence(ms),
            **flags,
        )

    # 1. urgent: any reading in any language, never negated (recall first).
    urgent = [m for m in reading.raw if m.concept == "urgent" and not m.fuzzy] + reading.of("urgent")
    if urgent:
        return result(Intent.URGENT, 0.95, urgent)

    # 2. opt-out: explicit phrases in any reading (recall), single words only when alone.
    phrases = [m for m in reading.raw if m.concept == "opt_out" and not m.fuzzy] + reading.of("opt_out")
    opt_out = [m for m in phrases if not _negated(m, reading, before=2, after=1)]
    alone = [m for m in reading.of("opt_out_alone") if not _negated(m, reading, before=2, after=1)]
    shouted = [
        m for m in alone if not reading.tokens.all_caps and all(reading.tokens.tokens[p].is_upper for p in m.positions)
    ]
    if opt_out or shouted or (alone and _only(reading, _NEUTRAL | {"opt_out"})):
        return result(Intent.OPT_OUT, 0.97, opt_out or alone)

    # 3. opt-in.
    opt_in = [m for m in reading.of("opt_in") if not _negated(m, reading)]
    opt_in_alone = [m for m in reading.of("opt_in_alone") if not _negated(m, reading)]
    if opt_in or (opt_in_alone and _only(reading, _NEUTRAL | {"opt_in", "yes"})):
        return result(Intent.OPT_IN, 0.95, opt_in or opt_in_alone)

    # 4. withdrawal of consent.
    withdraw = [m for m in reading.of("withdraw") if not _negated(m, reading)]
    if withdraw:
        return result(Intent.NO, 0.93, withdraw, withdraw=True)

    yes = [m for m in reading.of("yes") if not _negated(m, reading)]
    negated_yes = [m for m in reading.of("yes") if _negated(m, reading)]
    no = reading.of("no")
    negations = reading.of("negation")
    content = {c: [m for m in reading.of(c) if not _negated(m, reading)] for c in _CONTENT}
    negated_content = {c: [m for m in reading.of(c) if _negated(m, reading)] for c in _CONTENT}
    numbers = _numbers(reading)
    ack = reading.of("ack")
    check = reading.of("check")

    # 5. what the last message asked for.
    if awaiting is Awaiting.CONSENT:
        strict = [m for m in yes if not m.fuzzy]
        unknown = reading.unknown()
        if strict and not _blocked(reading) and unknown <= 2 and unknown * 3 <= len(reading.tokens):
            return result(Intent.YES, 0.97 if len(reading.tokens) <= 3 else 0.92, strict)
        # "yes but not health data": a yes with a reservation is neither consent nor a refusal, the
        # flow explains again; unless the reservation refuses the help itself ("ja men inte till
        # socialtjänsten"), which is a no.
        partial = bool(yes) and bool(reading.of("but")) and not negated_content["help"]
        if partial and not any(content.values()):
            return result(Intent.OTHER, 0.6, yes + reading.of("but"))
        if (no or negations or negated_yes) and not any(content.values()):
            return result(Intent.NO, 0.9, no + negations + negated_yes)
        if question:
            return result(Intent.OTHER, 0.8, reading.of("question"))
    elif awaiting is Awaiting.SLOT:
        picks = {n for n in numbers if 1 <= n <= MAX_SLOT_CHOICE}
        clean = not (negations or no or content["paid"] or content["help"])
        if len(picks) == 1 and len(numbers) == 1 and clean and _only(reading, _NEUTRAL | {"yes", "meeting"}, 1):
            return result(Intent.CHOICE, 0.95, reading.of("number", "slot"), choice=picks.pop())
        if (no or negations) and not numbers and not any(content.values()):
            return result(Intent.NO, 0.85, no + negations)
    elif awaiting in (Awaiting.MENU, Awaiting.NOTHING):
        digits = {t.number for t in reading.tokens.tokens if t.number is not None}
        words = {m.value for m in reading.of("number") if m.value is not None}
        picks = digits | words
        if len(picks) == 1 and (digits or _only(reading, frozenset({"number", "filler", "ack"}))):
            pick = next(iter(picks))
            said = {c for c, ms in content.items() if ms}
            fits = pick in MENU and not negations and not no and said <= {MENU[pick].value}
            if fits and _only(reading, _NEUTRAL | {"yes", MENU[pick].value}, extra_unknown=1):
                base = 0.95 if awaiting is Awaiting.MENU else 0.6
                return result(MENU[pick], base, reading.of("number"), choice=pick)

    # 6. what the reply says in words.
    for concept in _CONTENT:
        if content[concept]:
            return result(_CONTENT_INTENT[concept], 0.9, content[concept])
    if negated_content["paid"] or reading.of("not_paid"):
        return result(Intent.OTHER, 0.7, negated_content["paid"] + reading.of("not_paid"))
    if negated_content["help"] or negated_content["meeting"]:
        return result(Intent.NO, 0.75, negated_content["help"] + negated_content["meeting"])
    if awaiting is Awaiting.CONSENT:
        if doubt or yes or check or ack:
            # "ok", "✅", "kanske", "ja men…", a typo'd yes: not consent; the flow asks again.
            return result(Intent.OTHER if not ack or doubt or yes else Intent.ACK, 0.6, yes + ack + check)
        return result(Intent.OTHER, 0.5)
    if no and yes:
        return result(Intent.OTHER, 0.4, no + yes)
    if no or negated_yes or (negations and _only(reading, _NEUTRAL | {"negation"}, extra_unknown=1)):
        return result(Intent.NO, 0.9, no + negated_yes + negations)
    if yes:
        return result(Intent.YES, 0.9, yes)
    if check and not question:
        return result(Intent.YES, 0.7, check)
    if ack and not question and not negations:
        return result(Intent.ACK, 0.9, ack)
    return result(Intent.OTHER, 0.5)
