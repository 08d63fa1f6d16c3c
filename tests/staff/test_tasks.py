"""The task page and its actions: conversation, facts, audit, replies through the outbox, outcome."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.registry import Channels
from scheduler.dispatcher import AllowAll, Dispatcher
from staff import replies, tasks
from storage.database import transaction
from storage.models import (
    AuditEntry,
    Case,
    CaseOutcome,
    CaseStage,
    ContactPoint,
    Message,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    TaskStatus,
)
from tests.factories import make_case, make_tenant
from tests.staff.staff_factories import NOW, as_viewer, make_message, make_staff, make_task


def test_the_task_page_shows_the_whole_conversation_and_audits_the_view(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session, language="ar")
        case = make_case(session, tenant)
        make_message(session, tenant, "رسالة من بوكفار", inbound=False, language="ar", at=NOW - timedelta(days=1))
        make_message(session, tenant, "لا أستطيع الدفع", language="ar", at=NOW - timedelta(hours=1))
        task = make_task(session, tenant, case_id=case.id)
        earlier = make_task(session, tenant, summary="earlier", created_at=NOW - timedelta(days=30))
        page = tasks.task_page(session, viewer, task.id, NOW)
    assert [line.body for line in page.lines] == ["رسالة من بوكفار", "لا أستطيع الدفع"]
    assert [line.inbound for line in page.lines] == [False, True]
    assert page.lines[1].language == "ar" and page.lines[0].status == "delivered"
    assert page.case.amount_overdue_ore == 845_000 and [e.task_id for e in page.earlier] == [earlier.id]
    assert page.channels == ["sms"]
    with sessions() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.action == "view_conversation")).all()
    assert (entry.actor_staff_id, entry.object_type, entry.object_id) == (viewer.id, "tenant", str(tenant.id))
    assert entry.details == {"via": "task", "task_id": task.id}


def test_a_staff_reply_goes_through_the_outbox_and_reaches_the_tenant(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session, telegram_chat="4711")
        task = make_task(session, tenant)
        queued = replies.queue_reply(session, viewer, tenant, NOW, body="  Vi ringer dig i eftermiddag.  ",
                                     task_id=task.id)
        item = session.get(OutboxItem, queued.outbox_id)
        assert item.kind is OutboxKind.STAFF and item.status is OutboxStatus.PENDING
        assert item.body == "Vi ringer dig i eftermiddag." and item.created_by_staff_id == viewer.id
        assert item.channel_order == ["telegram", "sms"] and item.dedupe_key.startswith("staff:")
        # Nothing is sent from the console: the dispatcher does that.
        assert session.scalars(select(Message)).all() == []
    dispatcher = Dispatcher(sessions, Channels(), AllowAll(), worker="t", clock=lambda: NOW, simulate_all=True)
    assert asyncio.run(dispatcher.drain()).sent == 1
    with sessions() as session:
        [message] = session.scalars(select(Message)).all()
        page = tasks.task_page(session, viewer, task.id, NOW)
    assert message.body == "Vi ringer dig i eftermiddag." and message.status.value == "delivered"
    assert page.lines[-1].sent_by == viewer.display_name


def test_a_template_reply_is_filled_from_the_case_and_rendered_in_the_tenants_language(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session, language="sv")
        case = make_case(session, tenant, amount_ore=1_234_50)
        assert replies.template_options(tenant, case) == ["arrears_help_offer", "consent_explanation",
                                                          "payment_acknowledged"]
        preview = replies.preview_template(tenant, case, "arrears_help_offer")
        assert "1 234,50 kr" in preview.text and "Malmö" in preview.text
        queued = replies.queue_reply(session, viewer, tenant, NOW, template_key="arrears_help_offer", case=case)
        assert session.get(OutboxItem, queued.outbox_id).values == {"amount": 123450, "municipality": "Malmö"}
        with pytest.raises(replies.ReplyError) as refused:
            replies.queue_reply(session, viewer, tenant, NOW, template_key="recovery_reminder", case=case)
        assert refused.value.code == "template_unavailable"  # no recovery deadline on this case


@pytest.mark.parametrize(("body", "code"), [("", "choose_one"), ("x" * 1001, "too_long")])
def test_a_reply_that_cannot_go_says_why(sessions, body: str, code: str) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session)
        with pytest.raises(replies.ReplyError) as refused:
            replies.queue_reply(session, viewer, tenant, NOW, body=body)
    assert refused.value.code == code


def test_an_opted_out_tenant_is_not_written_to(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session)
        for point in session.scalars(select(ContactPoint)):
            point.opted_out = True
        with pytest.raises(replies.ReplyError) as refused:
            replies.queue_reply(session, viewer, tenant, NOW, body="Hej")
    assert refused.value.code == "unreachable"


def test_assign_note_outcome_and_close(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session)
        case = make_case(session, tenant)
        task = make_task(session, tenant, case_id=case.id)
        tasks.assign_to_me(session, viewer, task.id, NOW)
        tasks.add_note(session, viewer, task.id, "Ringde, överens om plan.", NOW)
        tasks.record_outcome(session, viewer, task.id, CaseOutcome.PAID, NOW)
        tasks.close_task(session, viewer, task.id, NOW)
        with pytest.raises(tasks.TaskActionError):
            tasks.add_note(session, viewer, task.id, "   ", NOW)
        with pytest.raises(tasks.TaskNotFound):
            tasks.close_task(session, viewer, 999_999, NOW)
    with sessions() as session:
        task = session.get(tasks.Task, task.id)
        case = session.get(Case, case.id)
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "task")).all()
        notes = [note.body for note in task.notes]
    assert task.assignee_id == viewer.id and task.status is TaskStatus.CLOSED and task.closed_by_id == viewer.id
    assert notes == ["Ringde, överens om plan."]
    assert task.outcome is CaseOutcome.PAID and case.outcome is CaseOutcome.PAID
    assert case.stage is CaseStage.CLOSED and case.closed_at is not None and case.paid_at is not None
    assert actions == ["task_assigned", "task_note_added", "outcome_recorded", "task_closed"]


def test_a_payment_plan_keeps_the_case_open(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session)
        case = make_case(session, tenant)
        task = make_task(session, tenant, case_id=case.id)
        tasks.record_outcome(session, viewer, task.id, CaseOutcome.PAYMENT_PLAN, NOW)
        assert case.outcome is CaseOutcome.PAYMENT_PLAN and case.closed_at is None
