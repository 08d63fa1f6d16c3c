"""The console's languages: Swedish by default, English on request.

Texts live in Babel message catalogues (``staff/locale/<lang>/LC_MESSAGES/messages.po``) that
translators edit as text. They are compiled in memory at start (``read_po`` → ``write_mo``), so no
binary ``.mo`` file is ever committed or goes stale. Source strings are English; the Swedish
catalogue translates them, the English one may stay empty.

Each language gets its own Jinja2 environment with its translations and its Babel locale for
money and dates installed, so a template cannot mix languages.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import Environment, FileSystemLoader, select_autoescape

from messages import catalogue
from staff import display

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
LOCALE_DIR = Path(__file__).parent / "locale"
TEMPLATE_DIR = Path(__file__).parent / "templates"


def pick(lang: object) -> str:
    return lang if isinstance(lang, str) and lang in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``lang``; fails loudly at start if a ``.po`` file is broken."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language_name(code: str, lang: str) -> str:
    """A tenant language's name for staff: the Swedish or English name from the catalogue."""
    try:
        info = catalogue.language(code)
    except KeyError:
        return code
    return info.english_name if lang == "en" else _SWEDISH_LANGUAGE_NAMES.get(code, info.english_name)


_SWEDISH_LANGUAGE_NAMES = {
    "sv": "svenska", "ar": "arabiska", "so": "somaliska", "fa": "persiska", "prs": "dari", "ti": "tigrinja",
    "en": "engelska", "bs": "bosniska", "hr": "kroatiska", "sr": "serbiska", "ckb": "sorani", "kmr": "kurmanji",
    "tr": "turkiska", "pl": "polska", "uk": "ukrainska", "fi": "finska", "ru": "ryska", "am": "amhariska",
    "ps": "pashto",
}


def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    filters: dict[str, Any] = {
        "money": lambda v: display.money(v, lang),
        "day": lambda v, form="medium": display.day(v, lang, form),
        "moment": lambda v: display.moment(v, lang),
        "clock": lambda v: display.clock(v, lang),
        "weekday_day": lambda v: display.weekday_day(v, lang),
        "language_name": lambda v: language_name(v, lang) if v else "–",
    }
    env.filters.update(filters)
    env.globals.update(lang=lang, base="/console")
    return env


@cache
def environment(lang: str) -> Environment:
    return _environment(pick(lang))
