"""The playbook as data: loading, validation, current steps, supersession, values."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from scheduler_factories import local

from messages import catalogue, render
from scheduler.playbook import (
    CONDITIONS,
    CaseFacts,
    PlaybookError,
    channel_order,
    decode_values,
    evaluate_case,
    load_playbook,
    parse_playbook,
    recheck_step,
    step_moment,
    step_values,
)
from storage.models import TaskKind

PLAYBOOK = load_playbook()
SERVED = date(2026, 5, 29)  # a Friday; three weeks later is midsummer eve


def facts(**changes: object) -> CaseFacts:
    base = CaseFacts(
        case_id=7, case_ref="NT-7", tenant_id=3, tenant_ref="HG-3", amount_overdue_ore=1_422_050,
        rent_due_date=date(2026, 4, 30), notice_served_on=SERVED, municipality="Malmö",
        channels=("sms",), opened_at=local(2026, 5, 29, 8, 0),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def current(at: datetime, **changes: object) -> dict[str, str | None]:
    return {due.step.id: due.blocked for due in evaluate_case(PLAYBOOK, facts(**changes), at)}


def test_default_playbook_follows_the_timeline() -> None:
    ids = [step.id for step in PLAYBOOK.steps]
    assert len(ids) == len(set(ids))
    templates = {step.template for step in PLAYBOOK.steps if step.template}
    assert templates == {
        "arrears_first_reminder", "arrears_help_offer", "notice_served", "consent_request", "recovery_reminder",
        "recovery_final_reminder", "kronofogden_notice", "eviction_date_reminder", "meeting_reminder",
    }
    kinds = {step.task.kind for step in PLAYBOOK.steps if step.task}
    assert {TaskKind.PHONE_TENANT, TaskKind.VISIT_TENANT, TaskKind.VERIFY_PAYMENT} <= kinds
    reminder = PLAYBOOK.step("reminder")
    assert reminder is not None and reminder.is_meeting_step and reminder.offset_hours == -24


def test_step_moments_on_the_notice_timeline() -> None:
    case = facts()
    moment = {step.id: step_moment(step, case, PLAYBOOK) for step in PLAYBOOK.case_steps}
    assert moment["notice_served"] == local(2026, 5, 29, 9, 0)
    assert moment["recovery_reminder_1"] == local(2026, 6, 5, 9, 0)
    # The deadline moved to Monday 22 June; R-3 is midsummer eve, so the final reminder comes the
    # Thursday before, not on the deadline day.
    assert moment["recovery_deadline_day"] == local(2026, 6, 22, 8, 0)
    assert moment["recovery_final_reminder"] == local(2026, 6, 18, 9, 0)
    assert moment["kronofogden_notice"] is None  # no Kronofogden date yet


def test_only_the_latest_due_step_of_a_track_fires() -> None:
    # A case first seen on U+9: the U+7 reminder, not the notice and the consent request as well.
    due = current(local(2026, 6, 7, 12, 0))
    assert "recovery_reminder_1" in due and "notice_served" not in due and "notice_consent_request" not in due
    assert due["recovery_reminder_1"] is None
    assert due["notice_check_social_services"] == "no_consent"
    assert due["arrears_help_offer"] == "notice_served"  # the arrears track ended with the notice


def test_steps_expire_with_the_recovery_deadline() -> None:
    on_deadline = current(local(2026, 6, 22, 12, 0))
    assert on_deadline["recovery_deadline_day"] is None and "recovery_final_reminder" in on_deadline
    after = current(local(2026, 6, 23, 12, 0))
    assert "recovery_deadline_day" not in after and "recovery_final_reminder" not in after


def test_conditions_block_with_a_reason() -> None:
    at = local(2026, 6, 5, 12, 0)
    assert current(at, paid_at=at)["recovery_reminder_1"] == "paid"
    assert current(at, outcome="payment_plan")["recovery_reminder_1"] == "resolved"
    assert current(at, paused_until=at + timedelta(days=1))["recovery_reminder_1"] == "paused"
    assert current(at, has_consent=True)["notice_check_social_services"] is None
    assert current(at, kronofogden_applied_on=date(2026, 6, 1))["recovery_reminder_1"] == "kronofogden"


def test_no_reply_since_last_step_and_unanswered() -> None:
    consent_day = local(2026, 6, 1, 12, 0)  # U+3: consent request (U+2) current, notice phone (U+3) current
    assert current(consent_day)["notice_consent_request"] is None
    replied = current(consent_day, last_inbound_at=local(2026, 5, 30, 10, 0))
    assert replied["notice_consent_request"] == "replied"
    assert current(consent_day)["notice_phone"] == "no_message_sent_yet"
    sent = local(2026, 5, 29, 9, 0)
    assert current(consent_day, last_planned_sent_at=sent)["notice_phone"] is None
    assert current(consent_day, last_planned_sent_at=consent_day - timedelta(hours=3))["notice_phone"] == (
        "waiting_for_reply")
    answered = current(consent_day, last_planned_sent_at=sent, last_inbound_at=sent + timedelta(hours=1))
    assert answered["notice_phone"] == "replied"


def test_recheck_of_a_pending_message() -> None:
    step = PLAYBOOK.step("notice_consent_request")
    assert step is not None
    sunday = local(2026, 5, 31, 12, 0)
    assert recheck_step(PLAYBOOK, step, facts(), sunday) is None
    assert recheck_step(PLAYBOOK, step, facts(last_inbound_at=sunday), sunday) == "replied"
    assert recheck_step(PLAYBOOK, step, facts(has_consent=True), sunday) == "consent_given"
    assert recheck_step(PLAYBOOK, step, facts(), local(2026, 6, 23, 9, 0)) == "expired"
    assert recheck_step(PLAYBOOK, step, facts(notice_served_on=None), sunday) == "expired"


def test_channel_order_prefers_telegram_and_drops_unusable_channels() -> None:
    step = PLAYBOOK.step("notice_served")
    assert step is not None
    assert channel_order(step, PLAYBOOK, facts(channels=("sms", "telegram"))) == ["telegram", "sms"]
    assert channel_order(step, PLAYBOOK, facts(channels=("sms",))) == ["sms"]
    assert channel_order(step, PLAYBOOK, facts(channels=())) == []


def test_values_are_json_and_render_exactly() -> None:
    step = PLAYBOOK.step("notice_served")
    assert step is not None
    values, missing = step_values(step, PLAYBOOK, facts())
    assert missing == []
    assert values == {"landlord": "Hyresbostäder", "amount": 1_422_050, "deadline": "2026-06-22T23:59:00+02:00"}
    typed = decode_values("notice_served", values)
    assert typed["deadline"] == datetime.fromisoformat("2026-06-22T23:59:00+02:00")
    text = render.render("notice_served", "sv", typed).text
    assert "14 220,50 kr" in text and "22 juni 2026" in text
    first = PLAYBOOK.step("arrears_first_reminder")
    assert first is not None
    assert decode_values("arrears_first_reminder", step_values(first, PLAYBOOK, facts())[0])["due_date"] == (
        date(2026, 4, 30))


def test_kronofogden_deadline_is_a_moved_legal_deadline() -> None:
    step = PLAYBOOK.step("kronofogden_notice")
    assert step is not None
    values, _ = step_values(step, PLAYBOOK, facts(kronofogden_applied_on=date(2026, 12, 17)))
    assert values["deadline"] == "2026-12-28T23:59:00+01:00"  # 24 Dec is Christmas eve → Monday 28


MINIMAL = """
[playbook]
name = "test"
[constants]
landlord = "X"
[[step]]
id = "a"
anchor = "rent_due"
offset_days = 1
template = "arrears_first_reminder"
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('when = ["sunny"]', "unknown condition"),
        ('channels = ["fax"]', "unknown channel"),
        ('on_day_off = "never"', "on_day_off"),
        ('until = "tomorrow"', "until"),
        ('sources = { amount = "case.nothing" }', "is not one of"),
    ],
)
def test_mistakes_in_a_step_are_named(change: str, message: str) -> None:
    with pytest.raises(PlaybookError, match=message):
        parse_playbook(MINIMAL + change + "\n")


def test_other_playbook_mistakes() -> None:
    assert parse_playbook(MINIMAL).steps[0].channels == ("telegram", "sms", "simulator")
    with pytest.raises(PlaybookError, match="not in messages.catalogue"):
        parse_playbook(MINIMAL.replace("arrears_first_reminder", "no_such_text"))
    with pytest.raises(PlaybookError, match="constant.landlord"):
        parse_playbook(MINIMAL.replace('landlord = "X"', ""))
    with pytest.raises(PlaybookError, match="used twice"):
        parse_playbook(MINIMAL + MINIMAL[MINIMAL.index("[[step]]"):])
    with pytest.raises(PlaybookError, match="template, a task or both"):
        parse_playbook(MINIMAL.replace('template = "arrears_first_reminder"', ""))
    with pytest.raises(PlaybookError, match="is not one of"):
        parse_playbook(MINIMAL.replace('template = "arrears_first_reminder"', 'task = { kind = "dance" }'))
    with pytest.raises(PlaybookError, match="anchor"):
        parse_playbook(MINIMAL.replace('"rent_due"', '"birthday"'))


def test_every_condition_is_documented_and_every_case_step_has_all_its_values() -> None:
    assert all(condition.description for condition in CONDITIONS.values())
    full = facts(kronofogden_applied_on=SERVED, eviction_date=SERVED)
    for step in PLAYBOOK.case_steps:
        if step.template:
            values, missing = step_values(step, PLAYBOOK, full)
            assert missing == [] and set(values) == set(catalogue.spec(step.template).placeholders), step.id


def test_a_stored_deadline_wins_over_the_computed_one() -> None:
    step = PLAYBOOK.step("recovery_reminder_1")
    assert step is not None
    values, _ = step_values(step, PLAYBOOK, facts(recovery_deadline=date(2026, 6, 26)))
    assert values["deadline"] == "2026-06-26T23:59:00+02:00"
