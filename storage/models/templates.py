"""Versions of message templates as admins edit them; the shipped defaults live in ``messages``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, enum_column, utc_now
from storage.models.enums import ReviewStatus


class TemplateVersion(Base):
    """One saved text of one key in one language. Saving never overwrites: it adds a version."""

    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("key", "language", "version"),
        Index("ix_template_versions_lookup", "key", "language", "published"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(default=True)
    review_status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus, "review_status"), default=ReviewStatus.DRAFT
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
