"""The held-out set: replies written blind, before reading the word lists or the evaluation set,
the way stressed tenants on cheap phones write (typos, no diacritics, dialects, code-mixing with
Swedish, emoji, hedged consent). It keeps the vocabulary honest: the evaluation set
(``replies.jsonl``) was written together with the word lists and overstates accuracy.

Do not tune the word lists to these exact strings; add the word family a miss reveals. Blind
numbers before any change (with the two labels corrected after the catalogue was read: Persian
"لغو" is the catalogue's withdraw keyword; "ja men inte till socialtjänsten" refuses the sharing):
511/551 = 92.7 %, consent precision 57/58 ("evt"), opt-out recall 46/48, urgent recall 46/61."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from evaluation import HELDOUT_SET, load, score, table  # noqa: E402

LANGUAGES = ("sv", "en", "ar", "so", "fa", "ti", "bs", "tr", "pl", "uk", "fi")
INTENTS = ("help", "meeting", "paid", "yes", "no", "opt_out", "opt_in", "urgent", "ack", "choice", "other")

ACCURACY_FLOOR = 0.98
"""Reached 99.6 % (the two misses are "urgently need help" read as urgent, on purpose: recall)."""


def test_the_heldout_set_is_broad_enough() -> None:
    rows = load(HELDOUT_SET)
    assert len(rows) >= 330
    per_language = Counter(r["language"] for r in rows)
    assert all(per_language[code] >= 30 for code in LANGUAGES), per_language
    assert set(r["intent"] for r in rows) == set(INTENTS)
    assert {r["awaiting"] for r in rows} == {"nothing", "menu", "consent", "slot"}


def test_heldout_safety_numbers_are_perfect_and_accuracy_is_high() -> None:
    s = score(load(HELDOUT_SET))
    print(table(s))
    assert s.consent_yes_wrong == 0, s.misses
    assert all(right == total for right, total in s.recall.values()), (s.recall, s.misses)
    assert s.recall["opt_out"][1] >= 30 and s.recall["urgent"][1] >= 30
    assert s.accuracy >= ACCURACY_FLOOR, "\n".join(s.misses)
