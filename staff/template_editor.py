"""The admins' template editor: every language of a key side by side, versions, review status.

Templates are untrusted code written by people, so a text is validated by
:func:`messages.render.validate` (syntax, unknown or missing placeholders, sandbox violations)
before anything is stored. Saving never overwrites: it adds a version, published at once (the
dispatcher always sends the latest published version), with review status *draft* until someone
marks it reviewed. Reverting is saving an old text again as a new version, so history only grows.

The shipped texts in ``messages/defaults`` count as version 0 of every key and language.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from messages import catalogue
from messages.errors import MessagesError, TemplateError
from messages.render import RenderedMessage, preview, validate
from staff import audit
from staff.auth import Viewer
from storage.models import ReviewStatus, StaffUser, TemplateVersion


class NothingChanged(ValueError):
    """The text is the same as the current version: no new version is made."""


@dataclass(frozen=True)
class VersionRow:
    version: int
    body: str
    review_status: ReviewStatus
    reviewed_by: str | None
    reviewed_at: datetime | None
    created_by: str | None
    created_at: datetime | None
    published: bool


@dataclass(frozen=True)
class LanguageColumn:
    """One language of one key as the editor shows it."""

    code: str
    name: str
    direction: str
    text: str | None
    version: int  # 0 = the shipped default
    review_status: str  # "draft" | "reviewed" | "shipped"
    reviewed_by: str | None
    reviewed_at: datetime | None
    preview: RenderedMessage | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeySummary:
    key: str
    description: str
    placeholders: list[str]
    edited_languages: int
    drafts: int


def _names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(StaffUser.id, StaffUser.display_name)).all())


def latest(session: Session, key: str, lang: str) -> TemplateVersion | None:
    return session.scalar(
        select(TemplateVersion).where(TemplateVersion.key == key, TemplateVersion.language == lang)
        .order_by(TemplateVersion.version.desc()).limit(1)
    )


def current_text(session: Session, key: str, lang: str) -> tuple[str | None, int]:
    version = latest(session, key, lang)
    if version is not None:
        return version.body, version.version
    return catalogue.default_text(key, lang), 0


def key_summaries(session: Session) -> list[KeySummary]:
    edited = dict(session.execute(
        select(TemplateVersion.key, func.count(func.distinct(TemplateVersion.language))).group_by(TemplateVersion.key)
    ).all())
    drafts: dict[str, int] = {}
    all_keys = catalogue.keys()
    for key in all_keys:
        for code in catalogue.languages():
            version = latest(session, key, code)
            if version is not None and version.review_status is ReviewStatus.DRAFT:
                drafts[key] = drafts.get(key, 0) + 1
    return [
        KeySummary(key, catalogue.spec(key).description, list(catalogue.spec(key).placeholders),
                   edited.get(key, 0), drafts.get(key, 0))
        for key in all_keys
    ]


def _preview(key: str, code: str, text: str | None) -> tuple[RenderedMessage | None, tuple[str, ...]]:
    if text is None:
        return None, ()
    try:
        return preview(key, code, text), ()
    except TemplateError as error:
        return None, error.problems
    except MessagesError as error:
        return None, (str(error),)


# The domain's rough priority of languages (shared/domain.md): the editor shows them in this order.
LANGUAGE_ORDER = ("sv", "ar", "so", "fa", "prs", "ti", "en", "bs", "hr", "sr", "ckb", "kmr", "tr", "pl", "uk", "fi",
                  "ru", "am", "ps")


def ordered_languages() -> list[str]:
    shipped = catalogue.languages()
    rank = {code: index for index, code in enumerate(LANGUAGE_ORDER)}
    return sorted(shipped, key=lambda code: (rank.get(code, len(rank)), code))


def key_columns(session: Session, key: str) -> list[LanguageColumn]:
    """Every shipped language of ``key``: its current text, version, review status and preview."""
    catalogue.spec(key)
    names = _names(session)
    columns = []
    for code in ordered_languages():
        info = catalogue.languages()[code]
        version = latest(session, key, code)
        text = version.body if version is not None else catalogue.default_text(key, code)
        rendered, problems = _preview(key, code, text)
        if version is None:
            status, by, at = ("reviewed" if info.reviewed else "shipped"), None, None
        else:
            status = version.review_status.value
            by, at = names.get(version.reviewed_by_id) if version.reviewed_by_id else None, version.reviewed_at
        columns.append(LanguageColumn(code, info.name, info.direction, text, version.version if version else 0,
                                      status, by, at, rendered, problems))
    return columns


def check(key: str, lang: str, source: str) -> RenderedMessage:
    """Validate and preview a text without saving it (the editor's live preview)."""
    validate(key, lang, source)
    return preview(key, lang, source)


def save_version(session: Session, viewer: Viewer, key: str, lang: str, source: str, now: datetime,
                 reverted_from: int | None = None) -> TemplateVersion:
    """Validate ``source`` and store it as the next version; raise :class:`TemplateError` (nothing
    stored) or :class:`NothingChanged`."""
    lang = catalogue.normalise_language(lang)
    if lang not in catalogue.languages():
        raise TemplateError(key, lang, [f"'{lang}' is not a shipped language"])
    source = source.replace("\r\n", "\n").strip()
    validate(key, lang, source)
    text, number = current_text(session, key, lang)
    if text is not None and text.strip() == source:
        raise NothingChanged(key)
    version = TemplateVersion(key=key, language=lang, version=number + 1, body=source, published=True,
                              review_status=ReviewStatus.DRAFT, created_by_id=viewer.id, created_at=now)
    session.add(version)
    session.flush()
    details: dict[str, object] = {"key": key, "language": lang, "version": version.version}
    if reverted_from is not None:
        details["reverted_from"] = reverted_from
    audit.record(session, viewer, "template_saved", "template_version", version.id, now, **details)
    return version


def history(session: Session, key: str, lang: str) -> list[VersionRow]:
    """All versions newest first, ending with the shipped default (version 0)."""
    names = _names(session)
    rows = [
        VersionRow(v.version, v.body, v.review_status, names.get(v.reviewed_by_id) if v.reviewed_by_id else None,
                   v.reviewed_at, names.get(v.created_by_id) if v.created_by_id else None, v.created_at, v.published)
        for v in session.scalars(
            select(TemplateVersion).where(TemplateVersion.key == key, TemplateVersion.language == lang)
            .order_by(TemplateVersion.version.desc())
        )
    ]
    default = catalogue.default_text(key, lang)
    if default is not None:
        info = catalogue.languages().get(lang)
        status = ReviewStatus.REVIEWED if info is not None and info.reviewed else ReviewStatus.DRAFT
        rows.append(VersionRow(0, default, status, None, None, None, None, True))
    return rows


def diff(old: str, new: str) -> list[tuple[str, str]]:
    """A word-level diff as ``(op, text)`` pairs, op one of ``same``, ``added``, ``removed``.

    Words, not lines: message texts are one or two long lines, where a line diff says nothing.
    """
    a, b = old.split(" "), new.split(" ")
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("added", " ".join(b[j1:j2])))
    return out


def revert(session: Session, viewer: Viewer, key: str, lang: str, to_version: int, now: datetime) -> TemplateVersion:
    """Save the text of ``to_version`` (0 = shipped default) again as the newest version."""
    if to_version == 0:
        body = catalogue.default_text(key, lang)
    else:
        found = session.scalar(select(TemplateVersion).where(
            TemplateVersion.key == key, TemplateVersion.language == lang, TemplateVersion.version == to_version))
        body = found.body if found is not None else None
    if body is None:
        raise LookupError(f"{key}/{lang} has no version {to_version}")
    return save_version(session, viewer, key, lang, body, now, reverted_from=to_version)


def mark_reviewed(session: Session, viewer: Viewer, key: str, lang: str, version: int,
                  now: datetime) -> TemplateVersion:
    found = session.scalar(select(TemplateVersion).where(
        TemplateVersion.key == key, TemplateVersion.language == lang, TemplateVersion.version == version))
    if found is None:
        raise LookupError(f"{key}/{lang} has no version {version}")
    found.review_status = ReviewStatus.REVIEWED
    found.reviewed_by_id = viewer.id
    found.reviewed_at = now
    audit.record(session, viewer, "template_reviewed", "template_version", found.id, now,
                 key=key, language=lang, version=version)
    return found
