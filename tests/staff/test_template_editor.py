"""The template editor: validation before saving, versions, diff, revert, review, and the dispatcher."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.channels.registry import Channels
from messages import catalogue
from messages.errors import TemplateError
from scheduler.dispatcher import AllowAll, Dispatcher
from staff import template_editor as editor
from storage.database import transaction
from storage.models import Message, OutboxItem, OutboxKind, OutboxStatus, ReviewStatus, TemplateVersion
from tests.factories import make_tenant
from tests.staff.staff_factories import NOW, as_viewer, make_admin

KEY = "payment_acknowledged"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("Tack {{ name }}!", "unknown placeholder '{{ name }}'"),
        ("{{ ''.__class__ }}", "attribute access '.__class__' is not allowed"),
        ("{{ amount.__class__.__mro__ }}", "attribute access '.__mro__' is not allowed"),
        ("Tack {% for x in y %}{% endfor %}", "'for' blocks are not allowed"),
        ("Tack {{ ", "syntax error"),
        ("   ", "the text is empty"),
    ],
    ids=["unknown-placeholder", "sandbox-class", "sandbox-mro", "loop", "syntax", "empty"],
)
def test_a_bad_text_is_refused_and_nothing_is_saved(sessions, source: str, problem: str) -> None:
    with transaction(sessions) as session:
        admin = as_viewer(make_admin(session))
    with pytest.raises(TemplateError) as refused, transaction(sessions) as session:
        editor.save_version(session, admin, KEY, "sv", source, NOW)
    assert any(problem in text for text in refused.value.problems)
    with sessions() as session:
        assert session.scalars(select(TemplateVersion)).all() == []


def test_a_missing_declared_placeholder_is_refused(sessions) -> None:
    with transaction(sessions) as session:
        admin = as_viewer(make_admin(session))
        with pytest.raises(TemplateError, match="missing"):
            editor.save_version(session, admin, "recovery_reminder", "sv", "Betala {{ amount }} snart.", NOW)


def test_saving_adds_versions_and_the_next_send_uses_the_latest(sessions) -> None:
    with transaction(sessions) as session:
        admin = as_viewer(make_admin(session))
        first = editor.save_version(session, admin, KEY, "sv", "Tack! Vi kollar betalningen.", NOW)
        second = editor.save_version(session, admin, KEY, "sv", "Tack! Vi kontrollerar betalningen nu.", NOW)
        with pytest.raises(editor.NothingChanged):
            editor.save_version(session, admin, KEY, "sv", "Tack! Vi kontrollerar betalningen nu.\r\n", NOW)
        assert (first.version, second.version) == (1, 2)
        assert second.review_status is ReviewStatus.DRAFT and second.published
        tenant = make_tenant(session)
        session.add(OutboxItem(dedupe_key="t", kind=OutboxKind.REPLY, tenant_id=tenant.id, template_key=KEY,
                               values={}, channel_order=["sms"], status=OutboxStatus.PENDING, due_at=NOW))
    dispatcher = Dispatcher(sessions, Channels(), AllowAll(), worker="t", clock=lambda: NOW, simulate_all=True)
    asyncio.run(dispatcher.drain())
    with sessions() as session:
        [message] = session.scalars(select(Message)).all()
    assert message.body == "Tack! Vi kontrollerar betalningen nu." and message.template_version == 2


def test_history_diff_revert_and_review(sessions) -> None:
    with transaction(sessions) as session:
        admin = as_viewer(make_admin(session))
        editor.save_version(session, admin, KEY, "sv", "Tack! Vi kollar betalningen.", NOW)
        reverted = editor.revert(session, admin, KEY, "sv", 0, NOW)
        assert reverted.version == 2 and reverted.body == catalogue.default_text(KEY, "sv")
        editor.mark_reviewed(session, admin, KEY, "sv", 2, NOW)
        rows = editor.history(session, KEY, "sv")
        columns = {c.code: c for c in editor.key_columns(session, KEY)}
    assert [row.version for row in rows] == [2, 1, 0]
    assert rows[0].review_status is ReviewStatus.REVIEWED and rows[0].reviewed_by == admin.display_name
    assert columns["sv"].version == 2 and columns["sv"].review_status == "reviewed"
    assert columns["ar"].version == 0 and columns["ar"].preview.encoding == "UCS-2"
    assert list(columns)[:2] == ["sv", "ar"]


def test_the_word_diff_marks_what_changed() -> None:
    assert editor.diff("Tack, vi kollar snart.", "Tack, vi kontrollerar snart.") == [
        ("same", "Tack, vi"), ("removed", "kollar"), ("added", "kontrollerar"), ("same", "snart.")]


def test_the_live_check_previews_with_sample_data() -> None:
    rendered = editor.check("recovery_reminder", "sv", "Betala {{ amount }} senast {{ deadline }}.")
    assert "23 456,50 kr" in rendered.text and rendered.encoding == "GSM-7" and rendered.segments == 1
