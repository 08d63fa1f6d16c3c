"""Every message Bokvar sends: its key, its placeholders and their types, and its default texts.

The declarations here are the contract between the code that sends a message (which passes typed
values) and the people who write the texts (who may only use the declared placeholders). A
placeholder name means the same thing, with the same type, in every key, so ``amount`` is always
money owed in öre and ``deadline`` always a moment in Stockholm time.

The texts themselves are data: one TOML file per language in ``messages/defaults/``, with the
language's locale, review status and the reply words its texts tell the tenant to use. Staff can
later override a text in the database; these files are the defaults and the fallback.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType

from messages.errors import MessagesError, UnknownKeyError
from messages.formatting import STOCKHOLM

# When the tenant's language lacks a text: Swedish (the language of the legal notice), then
# English.
FALLBACK_LANGUAGES: tuple[str, ...] = ("sv", "en")

# Segment budgets. A GSM-7 text (Swedish, English, Finnish, Somali) gets 2 parts; a text that
# needs UCS-2 (Arabic, Persian, Tigrinya, Ukrainian, and usually Polish, Turkish, Bosnian) gets 3.
GSM7_BUDGET = 2
UCS2_BUDGET = 3


class PlaceholderType(StrEnum):
    """How a placeholder's value is checked and formatted."""

    MONEY = "money"  # int, öre
    DATE = "date"  # datetime.date
    DEADLINE = "deadline"  # aware datetime, shown in Stockholm
    DATETIME = "datetime"  # aware datetime of an appointment, shown in Stockholm
    SLOTS = "slots"  # non-empty list of aware datetimes, shown as a numbered list
    LINK = "link"  # https URL
    TEXT = "text"  # free text: a name, a place, a phone number


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One placeholder name, with the meaning and a realistic sample used for previews and tests.

    Samples are deliberately on the long side (a five-digit debt, three slots, a full deep link)
    so that a text that fits its budget with them fits it in real use.
    """

    name: str
    type: PlaceholderType
    description: str
    sample: object


_SAMPLE_SLOTS = (
    datetime(2025, 12, 2, 10, 0, tzinfo=STOCKHOLM),
    datetime(2025, 12, 3, 13, 30, tzinfo=STOCKHOLM),
    datetime(2025, 12, 4, 15, 0, tzinfo=STOCKHOLM),
)

PLACEHOLDERS: Mapping[str, Placeholder] = MappingProxyType(
    {
        p.name: p
        for p in (
            Placeholder("amount", PlaceholderType.MONEY, "Rent debt in öre, as on the notice.", 2345650),
            Placeholder("due_date", PlaceholderType.DATE, "The rent due date that was missed.", date(2025, 11, 28)),
            Placeholder(
                "deadline",
                PlaceholderType.DEADLINE,
                "The last moment to act (pay, answer), already moved past weekends and holidays.",
                datetime(2025, 12, 22, 23, 59, tzinfo=STOCKHOLM),
            ),
            Placeholder(
                "eviction_date", PlaceholderType.DATE, "The eviction date set by Kronofogden.", date(2026, 2, 17)
            ),
            Placeholder("valid_until", PlaceholderType.DATE, "Last day a consent is valid.", date(2026, 11, 30)),
            Placeholder("slots", PlaceholderType.SLOTS, "Meeting times the tenant can choose from.", _SAMPLE_SLOTS),
            Placeholder(
                "meeting_time",
                PlaceholderType.DATETIME,
                "Start of a booked meeting.",
                datetime(2025, 12, 3, 13, 30, tzinfo=STOCKHOLM),
            ),
            Placeholder("meeting_place", PlaceholderType.TEXT, "Where the meeting is.", "Kvarngatan 12, Norrköping"),
            Placeholder(
                "call_by",
                PlaceholderType.DATETIME,
                "When at the latest a person will phone the tenant.",
                datetime(2025, 12, 2, 12, 0, tzinfo=STOCKHOLM),
            ),
            Placeholder("landlord", PlaceholderType.TEXT, "The landlord's short name.", "Hyresbostäder"),
            Placeholder("municipality", PlaceholderType.TEXT, "The tenant's municipality.", "Norrköping"),
            Placeholder("phone", PlaceholderType.TEXT, "The landlord's phone number.", "011-123 45 67"),
            Placeholder(
                "link",
                PlaceholderType.LINK,
                "A Telegram deep link with a one-time start code.",
                "https://t.me/HyresbostaderBot?start=k7Qm2xVp9LwR4tZs",
            ),
        )
    }
)


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """The declaration of one message: what it is for and what it may (and must) contain.

    Every declared placeholder must appear in each language's text and no other may, so the
    sending code can rely on the amount and deadline being in the notice message in every language.
    """

    key: str
    description: str
    placeholders: Mapping[str, PlaceholderType] = field(default_factory=dict)
    gsm7_budget: int = GSM7_BUDGET
    ucs2_budget: int = UCS2_BUDGET

    @property
    def sms_budget(self) -> int:
        """The budget in GSM-7 segments, the one that Swedish texts are held to."""
        return self.gsm7_budget

    def budget(self, encoding: str) -> int:
        """Maximum segments for a rendering of this key in the given encoding."""
        return self.gsm7_budget if encoding == "GSM-7" else self.ucs2_budget


def _spec(key: str, description: str, *names: str) -> TemplateSpec:
    return TemplateSpec(key, description, MappingProxyType({n: PLACEHOLDERS[n].type for n in names}))


_SPECS: tuple[TemplateSpec, ...] = (
    _spec("arrears_first_reminder", "D+1…D+3: rent not received; amount, how to pay, offer of help.",
          "landlord", "amount", "due_date"),
    _spec("arrears_help_offer", "D+5…D+7: grace week over; offer budget and debt counselling and consent.",
          "amount", "municipality"),
    _spec("notice_served", "U: notice of termination served; exact amount and recovery deadline.",
          "landlord", "amount", "deadline"),
    _spec("recovery_reminder", "U+7, U+14: the recovery period is running.", "amount", "deadline"),
    _spec("recovery_final_reminder", "U+18…U+20: a few days left; urgent but respectful.",
          "amount", "deadline", "phone"),
    _spec("kronofogden_notice", "The landlord has applied to Kronofogden for eviction; answer in time.",
          "deadline", "phone"),
    _spec("eviction_date_reminder", "T−14, T−7, T−2: Kronofogden has set an eviction date.",
          "eviction_date", "phone"),
    _spec("menu", "The reply options: 1 help, 2 meeting, 3 paid, STOP."),
    _spec("consent_request", "Asks for consent to share with social services: what, whom, why, how long, "
          "how to withdraw.", "municipality"),
    _spec("consent_explanation", "Answers 'what does this mean?' about the consent, in plain words.",
          "municipality"),
    _spec("consent_recorded", "Confirms consent was given, until when, and how to withdraw it.",
          "municipality", "valid_until"),
    _spec("consent_refused", "Confirms the tenant said no; help is still on offer."),
    _spec("consent_withdrawn", "Confirms the consent was withdrawn and nothing more will be shared.",
          "municipality"),
    _spec("meeting_offer", "Offers meeting times with the landlord and social services.", "slots"),
    _spec("meeting_booked", "Confirms the chosen meeting time and place.", "meeting_time", "meeting_place"),
    _spec("meeting_reminder", "Reminds of a booked meeting the day before.", "meeting_time", "meeting_place"),
    _spec("help_acknowledged", "The tenant asked for help; says when a person will call.", "call_by"),
    _spec("payment_acknowledged", "The tenant says they paid; thanks and says what happens next."),
    _spec("urgent_acknowledged", "A reply suggests danger or crisis: emergency numbers, then a person."),
    _spec("unknown_reply_acknowledged", "A reply the bot could not understand; a person will read it."),
    _spec("opted_out", "Confirms STOP: no more messages, how to start again."),
    _spec("opted_in", "Confirms START: messages are on again."),
    _spec("telegram_invitation", "Invites the tenant to chat on Telegram with a one-time deep link.",
          "landlord", "link"),
    _spec("telegram_linked", "Confirms on Telegram that the chat is now linked to the tenant's home."),
    _spec("telegram_link_refused", "Answers /start with an expired, used or unknown code: ask for a new link."),
)

_BY_KEY: Mapping[str, TemplateSpec] = MappingProxyType({s.key: s for s in _SPECS})


def keys() -> tuple[str, ...]:
    """All template keys, in the order of the tenant's journey."""
    return tuple(_BY_KEY)


def spec(key: str) -> TemplateSpec:
    """The declaration of ``key``; raises :class:`UnknownKeyError` for an undeclared key."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise UnknownKeyError(key) from None


def sample_values(key: str) -> dict[str, object]:
    """Realistic typed values for every placeholder of ``key``, for previews and budget tests."""
    return {name: PLACEHOLDERS[name].sample for name in spec(key).placeholders}


# --- the default texts -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LanguageInfo:
    """What the catalogue knows about one shipped language.

    ``reviewed`` is False until a qualified translator has checked the texts; ``review_status``
    says in words where they stand. It is metadata for staff, never shown to the tenant.
    ``serves`` lists other language codes whose speakers read this language's texts (Dari
    speakers read Persian), consulted before the Swedish and English fallback.
    """

    code: str
    name: str
    english_name: str
    locale: str
    direction: str
    reviewed: bool
    review_status: str
    expected_encoding: str
    serves: tuple[str, ...]
    reply_words: Mapping[str, str]


class CatalogueDataError(MessagesError):
    """A default-text file that is malformed; a packaging bug, so it fails loudly at load."""


_REQUIRED_META = ("name", "english_name", "locale", "direction", "reviewed", "review_status",
                  "expected_encoding")
_REQUIRED_REPLY_WORDS = ("yes", "no", "withdraw", "stop", "start")


def normalise_language(code: str) -> str:
    """``"sv-SE"``, ``"SV"`` and ``"sv_SE"`` all mean ``"sv"`` for the catalogue."""
    return code.strip().replace("_", "-").split("-", 1)[0].lower()


@dataclass(frozen=True, slots=True)
class _LanguageFile:
    info: LanguageInfo
    texts: Mapping[str, str]


def _parse_language_file(code: str, raw: str) -> _LanguageFile:
    where = f"messages/defaults/{code}.toml"
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueDataError(f"{where}: {exc}") from exc
    meta = data.get("meta", {})
    missing = [f for f in _REQUIRED_META if f not in meta]
    if missing:
        raise CatalogueDataError(f"{where}: [meta] lacks {', '.join(missing)}")
    words = data.get("reply_words", {})
    missing_words = [w for w in _REQUIRED_REPLY_WORDS if w not in words]
    if missing_words:
        raise CatalogueDataError(f"{where}: [reply_words] lacks {', '.join(missing_words)}")
    texts = data.get("texts", {})
    unknown = sorted(set(texts) - set(_BY_KEY))
    if unknown:
        raise CatalogueDataError(f"{where}: [texts] has undeclared keys {', '.join(unknown)}")
    info = LanguageInfo(
        code=code,
        name=str(meta["name"]),
        english_name=str(meta["english_name"]),
        locale=str(meta["locale"]),
        direction=str(meta["direction"]),
        reviewed=bool(meta["reviewed"]),
        review_status=str(meta["review_status"]),
        expected_encoding=str(meta["expected_encoding"]),
        serves=tuple(str(c) for c in meta.get("serves", ())),
        reply_words=MappingProxyType({str(k): str(v) for k, v in words.items()}),
    )
    # TOML multi-line strings begin after a newline and usually end with one; the SMS must not.
    return _LanguageFile(info, MappingProxyType({k: str(v).strip() for k, v in texts.items()}))


@cache
def _language_files() -> Mapping[str, _LanguageFile]:
    folder = resources.files("messages") / "defaults"
    files: dict[str, _LanguageFile] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            code = entry.name.removesuffix(".toml")
            files[code] = _parse_language_file(code, entry.read_text(encoding="utf-8"))
    return MappingProxyType(files)


def languages() -> Mapping[str, LanguageInfo]:
    """Every shipped language by code, with its locale and review metadata."""
    return MappingProxyType({code: f.info for code, f in _language_files().items()})


def language(code: str) -> LanguageInfo:
    """Metadata for one shipped language; raises ``KeyError`` if it is not shipped."""
    return _language_files()[normalise_language(code)].info


def default_text(key: str, lang: str) -> str | None:
    """The shipped text of ``key`` in ``lang``, or None if that language lacks it (no fallback)."""
    spec(key)
    f = _language_files().get(normalise_language(lang))
    return None if f is None else f.texts.get(key)


def fallback_chain(lang: str) -> tuple[str, ...]:
    """The languages to try, in order, for a tenant who reads ``lang``.

    The tenant's own language first, then a shipped language that serves it (Persian for Dari),
    then Swedish and English. Unshipped codes stay in the chain so that texts stored in the
    database for them (by staff) are still found first.
    """
    code = normalise_language(lang)
    chain = [code]
    chain += [c for c, f in _language_files().items() if code in f.info.serves]
    chain += list(FALLBACK_LANGUAGES)
    return tuple(dict.fromkeys(chain))


def locale_for(lang: str) -> str:
    """The Babel locale used to format values in ``lang``; Swedish for unshipped languages.

    An unshipped language only ever renders a fallback text, whose own locale is used instead, so
    this default matters only for texts staff add for new languages.
    """
    f = _language_files().get(normalise_language(lang))
    return f.info.locale if f is not None else "sv_SE"


def review_summary() -> dict[str, str]:
    """Review status per language, for the staff console and the README."""
    return {code: info.review_status for code, info in languages().items()}


__all__ = [
    "FALLBACK_LANGUAGES",
    "GSM7_BUDGET",
    "PLACEHOLDERS",
    "UCS2_BUDGET",
    "LanguageInfo",
    "Placeholder",
    "PlaceholderType",
    "TemplateSpec",
    "default_text",
    "fallback_chain",
    "keys",
    "language",
    "languages",
    "locale_for",
    "normalise_language",
    "review_summary",
    "sample_values",
    "spec",
]
