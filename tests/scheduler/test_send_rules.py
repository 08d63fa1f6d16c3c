"""Send windows, quiet hours, the frequency cap and the reply exemption."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from scheduler_factories import local, mark_sent, write_inbound
from sqlalchemy.orm import Session, sessionmaker

from scheduler.send_rules import (
    CAP_PERIOD,
    Decision,
    QuietHours,
    SendWindow,
    cap_decision,
    cap_frees_at,
    check_outbox_item,
    check_send,
    frequency_cap_reached,
    last_allowed_send,
    next_allowed_send,
    recent_planned_sends,
    window_decision,
)
from storage.database import transaction
from storage.models import OutboxItem, OutboxKind, OutboxStatus
from tests.factories import make_tenant


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (local(2026, 12, 1, 9, 0), local(2026, 12, 1, 9, 0)),  # inside the window: at once
        (local(2026, 12, 1, 7, 15), local(2026, 12, 1, 8, 0)),  # before 08:00
        (local(2026, 12, 1, 19, 59), local(2026, 12, 1, 19, 59)),
        (local(2026, 12, 1, 20, 0), local(2026, 12, 2, 8, 0)),  # 20:00 is already too late
        (local(2026, 12, 4, 20, 30), local(2026, 12, 7, 8, 0)),  # Friday evening → Monday
        (local(2026, 11, 28, 12, 0), local(2026, 11, 30, 8, 0)),  # Saturday → Monday
        (local(2026, 11, 29, 12, 0), local(2026, 11, 30, 8, 0)),  # Sunday → Monday
        (local(2026, 6, 18, 21, 0), local(2026, 6, 22, 8, 0)),  # midsummer eve and weekend
        (local(2026, 12, 23, 20, 0), local(2026, 12, 28, 8, 0)),  # Christmas
        (local(2026, 12, 30, 21, 0), local(2027, 1, 4, 8, 0)),  # New Year's eve and day
        (local(2026, 5, 13, 20, 0), local(2026, 5, 15, 8, 0)),  # Ascension Thursday
    ],
)
def test_next_allowed_send_respects_window_weekends_and_holidays(moment: datetime, expected: datetime) -> None:
    assert next_allowed_send(moment) == expected


def test_times_are_stockholm_wall_clock_in_summer_and_winter() -> None:
    assert next_allowed_send(datetime(2026, 7, 1, 5, 0, tzinfo=UTC)) == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    assert next_allowed_send(datetime(2026, 1, 7, 5, 0, tzinfo=UTC)) == datetime(2026, 1, 7, 7, 0, tzinfo=UTC)
    assert next_allowed_send(datetime(2026, 1, 7, 18, 59, tzinfo=UTC)) == datetime(2026, 1, 7, 18, 59, tzinfo=UTC)
    assert next_allowed_send(datetime(2026, 1, 7, 19, 0, tzinfo=UTC)) == datetime(2026, 1, 8, 7, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        next_allowed_send(datetime(2026, 1, 7, 9, 0))


def test_quiet_hours_wrapping_midnight() -> None:
    quiet = QuietHours(time(22, 0), time(9, 0))
    assert quiet.contains(time(23, 0)) and quiet.contains(time(8, 59)) and not quiet.contains(time(9, 0))
    assert next_allowed_send(local(2026, 12, 1, 8, 0), quiet) == local(2026, 12, 1, 9, 0)
    assert next_allowed_send(local(2026, 12, 1, 12, 0), quiet) == local(2026, 12, 1, 12, 0)


def test_quiet_hours_inside_the_day_and_evening() -> None:
    lunch = QuietHours(time(12, 0), time(13, 30))
    assert next_allowed_send(local(2026, 12, 1, 12, 10), lunch) == local(2026, 12, 1, 13, 30)
    evening = QuietHours(time(18, 0), time(7, 0))
    assert next_allowed_send(local(2026, 12, 1, 18, 30), evening) == local(2026, 12, 2, 8, 0)
    assert QuietHours.of(None, time(7, 0)) is None
    assert QuietHours.of(time(7, 0), time(7, 0)) is None


def test_quiet_hours_that_cover_the_whole_window_leave_no_time() -> None:
    never = QuietHours(time(7, 0), time(21, 0))
    assert next_allowed_send(local(2026, 12, 1, 9, 0), never) is None
    assert window_decision(local(2026, 12, 1, 9, 0), never).reason == "no_send_time"


def test_window_decision_explains_itself() -> None:
    quiet = QuietHours(time(8, 0), time(10, 0))
    assert window_decision(local(2026, 12, 1, 11, 0), quiet).allowed
    assert window_decision(local(2026, 12, 1, 9, 0), quiet).reason == "quiet_hours"
    assert window_decision(local(2026, 12, 1, 9, 0), quiet).retry_at == local(2026, 12, 1, 10, 0)
    assert window_decision(local(2026, 12, 1, 21, 0)).reason == "outside_hours"
    assert window_decision(local(2026, 11, 29, 12, 0)).reason == "weekend"
    assert window_decision(local(2026, 12, 24, 12, 0)).reason == "holiday"
    assert window_decision(local(2026, 6, 19, 12, 0)).reason == "holiday"


def test_a_window_that_includes_saturday_still_closes_on_holidays() -> None:
    saturdays = SendWindow(weekdays=frozenset(range(6)))
    assert next_allowed_send(local(2026, 11, 28, 12, 0), window=saturdays) == local(2026, 11, 28, 12, 0)
    assert next_allowed_send(local(2026, 6, 20, 12, 0), window=saturdays) == local(2026, 6, 22, 8, 0)


def test_last_allowed_send_looks_backwards() -> None:
    sunday = local(2026, 11, 29, 10, 0)
    assert last_allowed_send(sunday, local(2026, 11, 25)) == local(2026, 11, 27, 19, 59)
    assert last_allowed_send(local(2026, 12, 1, 10, 0), local(2026, 11, 25)) == local(2026, 12, 1, 10, 0)
    assert last_allowed_send(sunday, local(2026, 11, 28, 0, 0)) is None


def test_cap_frees_when_the_oldest_send_leaves_the_period() -> None:
    start = local(2026, 12, 1, 9, 0)
    sends = [start, start + timedelta(days=1), start + timedelta(days=2)]
    at = start + timedelta(days=3)
    assert cap_frees_at(sends, at) == start + CAP_PERIOD
    assert cap_frees_at(sends[:2], at) == at
    assert cap_frees_at(sends, start + timedelta(days=8)) == start + timedelta(days=8)
    decision = cap_decision(sends, at)
    assert not decision.allowed and decision.reason == "cap" and decision.retry_at == start + CAP_PERIOD


def test_check_send_for_each_kind() -> None:
    sunday_night = local(2026, 11, 29, 3, 0)
    fresh = check_send(kind=OutboxKind.REPLY, now=sunday_night, quiet=None,
                       last_inbound_at=sunday_night - timedelta(minutes=5))
    assert fresh.allowed and fresh.reason == "reply"
    stale = check_send(kind=OutboxKind.REPLY, now=sunday_night, quiet=None,
                       last_inbound_at=sunday_night - timedelta(days=1))
    assert not stale.allowed and stale.retry_at == local(2026, 11, 30, 8, 0)
    planned = check_send(kind=OutboxKind.PLANNED, now=sunday_night, quiet=None)
    assert not planned.allowed and planned.reason == "weekend"
    tuesday = local(2026, 12, 1, 9, 0)
    three = [tuesday - timedelta(days=d) for d in (1, 2, 3)]
    staff = check_send(kind=OutboxKind.STAFF, now=tuesday, quiet=None, recent_planned=three)
    assert staff.allowed  # staff answers are not capped
    capped = check_send(kind=OutboxKind.PLANNED, now=tuesday, quiet=None, recent_planned=three)
    assert not capped.allowed and capped.reason == "cap"
    assert capped.retry_at == local(2026, 12, 7, 8, 0)  # frees Saturday 5 Dec 09:00 → Monday 08:00


def _planned(session: Session, tenant_id: int, key: str, kind: OutboxKind = OutboxKind.PLANNED) -> OutboxItem:
    item = OutboxItem(dedupe_key=key, kind=kind, tenant_id=tenant_id, template_key="menu", values={},
                      channel_order=["sms"], status=OutboxStatus.PENDING, due_at=local(2026, 11, 1))
    session.add(item)
    session.flush()
    return item


def test_only_planned_messages_sent_within_the_period_count(sessions: sessionmaker[Session]) -> None:
    now = local(2026, 12, 8, 10, 0)
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        other = make_tenant(session, "T-2", phone="+46701740699")
        mark_sent(session, _planned(session, tenant.id, "p1"), now - timedelta(days=8))  # too old
        mark_sent(session, _planned(session, tenant.id, "p2"), now - timedelta(days=6))
        mark_sent(session, _planned(session, tenant.id, "p3"), now - timedelta(days=2))
        mark_sent(session, _planned(session, tenant.id, "r1", OutboxKind.REPLY), now - timedelta(days=1))
        mark_sent(session, _planned(session, other.id, "o1"), now - timedelta(days=1))
        _planned(session, tenant.id, "pending")  # not sent yet
        sending = _planned(session, tenant.id, "sending")
        sending.status, sending.updated_at = OutboxStatus.SENDING, now - timedelta(minutes=1)
        session.flush()
        tenant_id, sending_id, other_id = tenant.id, sending.id, other.id
    with transaction(sessions) as session:
        found = recent_planned_sends(session, [tenant_id, other_id], now)
        ago = [timedelta(days=6), timedelta(days=2), timedelta(minutes=1)]
        assert sorted(found[tenant_id]) == [now - delta for delta in ago]
        assert len(found[other_id]) == 1
        assert frequency_cap_reached(session, tenant_id, now)
        # The dispatcher's own claimed row must not count against itself.
        item = session.get(OutboxItem, sending_id)
        assert item is not None
        assert len(recent_planned_sends(session, [tenant_id], now, exclude_outbox_ids=[sending_id])[tenant_id]) == 2
        assert check_outbox_item(session, item, now).allowed
        assert not frequency_cap_reached(session, other_id, now)


def test_check_outbox_item_uses_the_tenants_quiet_hours_and_last_message(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        tenant.quiet_hours_start, tenant.quiet_hours_end = time(17, 0), time(9, 30)
        planned = _planned(session, tenant.id, "p")
        reply = _planned(session, tenant.id, "r", OutboxKind.REPLY)
        session.flush()
        decision = check_outbox_item(session, planned, local(2026, 12, 1, 9, 0))
        assert not decision.allowed and decision.reason == "quiet_hours"
        assert decision.retry_at == local(2026, 12, 1, 9, 30)
        # A reply with no recent message from the tenant is held to the window and quiet hours too.
        assert check_outbox_item(session, reply, local(2026, 12, 1, 18, 0)).reason == "quiet_hours"


def test_a_reply_to_a_tenant_who_just_wrote_goes_at_once(sessions: sessionmaker[Session]) -> None:
    sunday_night = local(2026, 11, 29, 23, 30)
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        write_inbound(session, tenant, sunday_night - timedelta(minutes=3), "hjälp")
        reply = _planned(session, tenant.id, "r", OutboxKind.REPLY)
        planned = _planned(session, tenant.id, "p")
        assert check_outbox_item(session, reply, sunday_night) == Decision(True, "reply")
        assert check_outbox_item(session, planned, sunday_night).retry_at == local(2026, 11, 30, 8, 0)
        assert not check_outbox_item(session, reply, sunday_night + timedelta(hours=3)).allowed
