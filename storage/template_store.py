"""Admins' published template texts, looked up before the shipped defaults.

``messages`` renders; this module only answers "which published text and version does the
database hold for this key and language", so the dispatcher always uses the latest one.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import TemplateVersion


def latest_published(session: Session, key: str, language: str) -> TemplateVersion | None:
    return session.scalar(
        select(TemplateVersion)
        .where(TemplateVersion.key == key, TemplateVersion.language == language, TemplateVersion.published.is_(True))
        .order_by(TemplateVersion.version.desc())
        .limit(1)
    )
