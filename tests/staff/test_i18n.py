"""The console's message catalogues: every text has its Swedish translation, and both compile."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from staff import i18n

STAFF = Path(i18n.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _extracted() -> set[str | tuple[str, ...]]:
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true",
                                     "trim_blocks": "true", "lstrip_blocks": "true"}}
    return {message for _, _, message, _, _ in extract_from_dir(str(STAFF), method_map, options, keywords=KEYWORDS)}


def test_every_console_text_has_a_swedish_translation() -> None:
    with (STAFF / "locale" / "sv" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        swedish = read_po(source, locale="sv")
    missing = []
    for message in _extracted():
        msgid = message[0] if isinstance(message, tuple) else message
        entry = swedish.get(msgid)
        if entry is None or not entry.string or (isinstance(entry.string, tuple) and not all(entry.string)):
            missing.append(msgid)
    assert missing == [], f"add these to staff/locale/sv/LC_MESSAGES/messages.po: {missing}"


def test_both_catalogues_compile_in_memory() -> None:
    assert i18n.translations("sv").gettext("Inbox") == "Inkorg"
    assert i18n.translations("en").gettext("Inbox") == "Inbox"
    assert i18n.pick("de") == "sv" and i18n.pick("en") == "en"
