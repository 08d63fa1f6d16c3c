"""The languages Bokvar writes and reads.

One list, owned by ``messages`` because languages are a property of the texts we ship. The CSV
import (in ``storage``) receives this list as an argument instead of importing it, so ``storage``
stays free of ``messages``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    """A language we ship texts in, with what the console needs to show it."""

    code: str
    english_name: str
    native_name: str
    right_to_left: bool = False


LANGUAGES: tuple[Language, ...] = (
    Language("sv", "Swedish", "svenska"),
    Language("en", "English", "English"),
    Language("ar", "Arabic", "العربية", right_to_left=True),
    Language("so", "Somali", "Soomaali"),
    Language("fa", "Persian", "فارسی", right_to_left=True),
    Language("ti", "Tigrinya", "ትግርኛ"),
    Language("bs", "Bosnian", "bosanski"),
    Language("tr", "Turkish", "Türkçe"),
    Language("pl", "Polish", "polski"),
    Language("uk", "Ukrainian", "українська"),
    Language("fi", "Finnish", "suomi"),
)

SUPPORTED_LANGUAGES: frozenset[str] = frozenset(language.code for language in LANGUAGES)
DEFAULT_LANGUAGE = "sv"


def language(code: str) -> Language:
    """Look up a supported language by its ISO 639-1 code (raises ``KeyError`` if unsupported)."""
    for candidate in LANGUAGES:
        if candidate.code == code:
            return candidate
    raise KeyError(code)


LANGUAGE_ALIASES: dict[str, str] = {
    # Bosnian, Croatian and Serbian (Latin script) read each other's texts; we ship one of them.
    "hr": "bs",
    "sr": "bs",
    "sh": "bs",
    # Dari is written like Persian, and our Persian texts avoid Iran-only wording.
    "prs": "fa",
}


def accepted_language_codes() -> dict[str, str]:
    """Every code a data file may use, mapped to the supported code we store and write in."""
    accepted = {code: code for code in SUPPORTED_LANGUAGES}
    accepted.update(LANGUAGE_ALIASES)
    return accepted
