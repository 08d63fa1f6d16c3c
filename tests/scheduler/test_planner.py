"""The planner over a controlled clock, on SQLite and PostgreSQL.

Each walk runs the planner and a stand-in dispatcher (``scheduler_factories.dispatch``, which uses
the same public API the real dispatcher will) at 08:00, 09:00 and 10:00 Stockholm time every day.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

from scheduler_factories import (
    PLAYBOOK,
    dispatch,
    local,
    make_notice_case,
    mark_sent,
    outbox,
    tasks,
    ticks,
    walk,
    write_inbound,
)
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.calendar import STOCKHOLM, is_business_day
from scheduler.planner import plan, plan_in_session, withdraw_reason
from storage.database import transaction
from storage.models import (
    Case,
    CaseKind,
    CaseStage,
    Channel,
    ContactPoint,
    Meeting,
    MeetingSlot,
    MeetingSlotStatus,
    MeetingStatus,
    Message,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    TaskKind,
)
from tests.factories import make_case, make_tenant

SERVED = date(2026, 5, 29)  # Friday; U+21 is midsummer eve, so the deadline moves to Monday 22 June
DEADLINE = date(2026, 6, 22)


def _step(key: str) -> str:
    return key.split(":step:")[1] if ":step:" in key else key


def _sent_at(session: Session, item: OutboxItem) -> datetime:
    message = session.get(Message, item.message_id)
    assert message is not None
    return message.created_at


def test_a_tenant_who_never_answers_walks_the_whole_default_playbook(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        case = make_case(session, tenant, amount_ore=1_422_050)
        case.rent_due_date, case.opened_at = date(2026, 4, 30), local(2026, 4, 30, 8, 0)
        case_id = case.id

    def serve_notice(session: Session, now: datetime) -> None:
        if now == local(2026, 5, 29, 8, 0):
            served = session.get(Case, case_id)
            assert served is not None
            served.kind, served.stage, served.notice_served_on = CaseKind.NOTICE, CaseStage.NOTICE_SERVED, SERVED

    walk(sessions, ticks(date(2026, 4, 30), date(2026, 6, 25), (time(8), time(9), time(10))), on_tick=serve_notice)

    with transaction(sessions) as session:
        rows = outbox(session)
        assert all(row.status == OutboxStatus.SENT for row in rows), [(r.dedupe_key, r.status) for r in rows]
        sent = sorted((_sent_at(session, row), _step(row.dedupe_key)) for row in rows)
        assert sent == [
            (local(2026, 5, 4, 8, 0), "arrears_first_reminder"),  # D+1 is 1 May, a holiday → Monday 08:00
            (local(2026, 5, 5, 9, 0), "arrears_help_offer"),
            (local(2026, 5, 29, 9, 0), "notice_served"),
            (local(2026, 6, 1, 8, 0), "notice_consent_request"),  # U+2 is a Sunday
            (local(2026, 6, 5, 9, 0), "recovery_reminder_1"),
            (local(2026, 6, 12, 9, 0), "recovery_reminder_2"),
            (local(2026, 6, 18, 9, 0), "recovery_final_reminder"),  # R-3 is midsummer eve → Thursday
        ]
        for moment, _ in sent:
            wall = moment.astimezone(STOCKHOLM)
            assert is_business_day(wall.date()) and time(8) <= wall.time() < time(20)
        notice = next(row for row in rows if row.dedupe_key.endswith(":notice_served"))
        assert notice.values == {"landlord": "Hyresbostäder", "amount": 1_422_050,
                                 "deadline": "2026-06-22T23:59:00+02:00"}
        assert notice.channel_order == ["sms"]
        stored = session.get(Case, case_id)
        assert stored is not None and stored.recovery_deadline == DEADLINE

        opened = [(task.due_at, _step(task.dedupe_key or ""), task.kind) for task in tasks(session)]
        assert sorted(opened) == [
            (local(2026, 5, 8, 9, 0), "arrears_phone:task", TaskKind.PHONE_TENANT),
            (local(2026, 5, 12, 9, 0), "arrears_visit:task", TaskKind.VISIT_TENANT),
            (local(2026, 5, 29, 9, 0), "notice_served:task", TaskKind.OTHER),
            # the consent request went out on Monday 08:00; 48 hours without a reply after that
            (local(2026, 6, 3, 8, 0), "notice_phone:task", TaskKind.PHONE_TENANT),
            (local(2026, 6, 8, 9, 0), "notice_visit:task", TaskKind.VISIT_TENANT),
            (local(2026, 6, 18, 9, 0), "recovery_final_reminder:task", TaskKind.PHONE_TENANT),
            (local(2026, 6, 22, 8, 0), "recovery_deadline_day:task", TaskKind.VERIFY_PAYMENT),
        ]

    again = plan(sessions, local(2026, 6, 22, 12, 0))
    assert again.messages == [] and again.tasks == [] and again.withdrawn == []


def _notice_tenant(sessions: sessionmaker[Session], *, telegram: bool = False) -> tuple[int, int]:
    with transaction(sessions) as session:
        tenant = make_tenant(session, telegram_chat="900001" if telegram else None)
        case = make_notice_case(session, tenant, "NT-1", SERVED)
        return tenant.id, case.id


def _until_sunday(sessions: sessionmaker[Session]) -> None:
    """Notice sent Friday; on Sunday the U+2 consent request is planned for Monday 08:00."""
    walk(sessions, ticks(SERVED, date(2026, 5, 31), (time(9), time(10))))


def test_a_tenant_who_pays_mid_way_has_pending_rows_withdrawn(sessions: sessionmaker[Session]) -> None:
    tenant_id, case_id = _notice_tenant(sessions, telegram=True)
    _until_sunday(sessions)
    with transaction(sessions) as session:
        pending = [row for row in outbox(session) if row.status == OutboxStatus.PENDING]
        assert [_step(row.dedupe_key) for row in pending] == ["notice_consent_request"]
        assert pending[0].due_at == local(2026, 6, 1, 8, 0)
        assert pending[0].channel_order == ["telegram", "sms"]
        paid = session.get(Case, case_id)
        assert paid is not None
        paid.paid_at = local(2026, 5, 31, 18, 0)

    reports = walk(sessions, ticks(date(2026, 6, 1), date(2026, 6, 25), (time(8), time(9))))
    assert [(w.reason, _step(w.dedupe_key)) for w in reports[0].withdrawn] == [("paid", "notice_consent_request")]
    with transaction(sessions) as session:
        states = {_step(row.dedupe_key): (row.status, row.withdrawn_reason) for row in outbox(session)}
        assert states == {
            "notice_served": (OutboxStatus.SENT, None),
            "notice_consent_request": (OutboxStatus.WITHDRAWN, "paid"),
        }
        assert [_step(task.dedupe_key or "") for task in tasks(session)] == ["notice_served:task"]
    assert sum(len(r.messages) + len(r.tasks) for r in reports) == 0
    assert any(s.reason == "paid" for r in reports for s in r.skipped)


def test_a_payment_between_planner_runs_stops_the_dispatcher(sessions: sessionmaker[Session]) -> None:
    _, case_id = _notice_tenant(sessions)
    _until_sunday(sessions)
    with transaction(sessions) as session:
        paid = session.get(Case, case_id)
        assert paid is not None
        paid.paid_at = local(2026, 6, 1, 7, 30)
    with transaction(sessions) as session:
        assert dispatch(session, local(2026, 6, 1, 8, 0)) == []
        consent = next(row for row in outbox(session) if row.dedupe_key.endswith("consent_request"))
        assert (consent.status, consent.withdrawn_reason) == (OutboxStatus.WITHDRAWN, "paid")


def test_a_tenant_who_opts_out_gets_no_more_messages_and_staff_decide(sessions: sessionmaker[Session]) -> None:
    tenant_id, case_id = _notice_tenant(sessions)
    _until_sunday(sessions)
    with transaction(sessions) as session:
        write_inbound(session, session.get(Case, case_id).tenant, local(2026, 5, 31, 15, 0), "STOPP")  # type: ignore[union-attr]
        for point in session.scalars(select(ContactPoint).where(ContactPoint.tenant_id == tenant_id)):
            point.opted_out, point.opted_out_at = True, local(2026, 5, 31, 15, 0)

    reports = walk(sessions, ticks(date(2026, 6, 1), date(2026, 6, 25), (time(8), time(9))))
    assert [(w.reason, _step(w.dedupe_key)) for w in reports[0].withdrawn] == [("opted_out", "notice_consent_request")]
    with transaction(sessions) as session:
        sent = [row for row in outbox(session) if row.status == OutboxStatus.SENT]
        assert [_step(row.dedupe_key) for row in sent] == ["notice_served"]
        assert len(outbox(session)) == 2
        reach = [task for task in tasks(session) if task.kind == TaskKind.REACH_IN_PERSON]
        assert [task.dedupe_key for task in reach] == [f"case:{case_id}:opted_out"]
    skipped = {(s.step_id, s.reason) for r in reports for s in r.skipped}
    assert ("recovery_reminder_1", "opted_out") in skipped and ("recovery_final_reminder", "opted_out") in skipped


def test_opting_out_of_one_channel_reroutes_pending_rows(sessions: sessionmaker[Session]) -> None:
    tenant_id, _ = _notice_tenant(sessions, telegram=True)
    _until_sunday(sessions)
    with transaction(sessions) as session:
        sms = session.scalars(select(ContactPoint).where(ContactPoint.tenant_id == tenant_id,
                                                         ContactPoint.channel == Channel.SMS)).one()
        sms.opted_out = True
    report = plan(sessions, local(2026, 5, 31, 20, 0))
    assert report.channel_orders_updated == 1 and report.withdrawn == []
    with transaction(sessions) as session:
        pending = [row for row in outbox(session) if row.status == OutboxStatus.PENDING]
        assert [row.channel_order for row in pending] == [["telegram"]]


def test_a_tenant_who_answers_is_not_chased(sessions: sessionmaker[Session]) -> None:
    """Replies suppress the next nudge of the track and the staff escalation, not the legal reminders."""
    tenant_id, case_id = _notice_tenant(sessions)

    def answer(session: Session, now: datetime) -> None:
        tenant = session.get(Case, case_id).tenant  # type: ignore[union-attr]
        if now == local(2026, 5, 30, 8, 0):
            write_inbound(session, tenant, local(2026, 5, 29, 18, 0), "1", "in-1")
        if now == local(2026, 6, 6, 8, 0):
            write_inbound(session, tenant, local(2026, 6, 5, 12, 0), "jag betalar på fredag", "in-2")

    reports = walk(sessions, ticks(SERVED, date(2026, 6, 11), (time(8), time(9), time(10))), on_tick=answer)
    with transaction(sessions) as session:
        assert sorted(_step(row.dedupe_key) for row in outbox(session)) == ["notice_served", "recovery_reminder_1"]
        kinds = [task.kind for task in tasks(session)]
        assert TaskKind.PHONE_TENANT not in kinds and TaskKind.VISIT_TENANT not in kinds
    skipped = {(s.step_id, s.reason) for r in reports for s in r.skipped}
    assert {("notice_consent_request", "replied"), ("notice_phone", "replied"), ("notice_visit", "replied")} <= skipped


def test_a_paused_case_plans_nothing_and_resumes_after(sessions: sessionmaker[Session]) -> None:
    _, case_id = _notice_tenant(sessions)
    _until_sunday(sessions)
    with transaction(sessions) as session:
        paused = session.get(Case, case_id)
        assert paused is not None
        paused.paused_until = local(2026, 6, 2, 12, 0)
    during = plan(sessions, local(2026, 6, 1, 8, 0))
    assert [w.reason for w in during.withdrawn] == ["paused"]
    assert {s.reason for s in during.skipped} == {"paused"}
    after = plan(sessions, local(2026, 6, 2, 14, 0))
    assert [(m.step_id, m.revived, m.due_at) for m in after.messages] == [
        ("notice_consent_request", True, local(2026, 6, 2, 14, 0))
    ]
    with transaction(sessions) as session:
        row = next(r for r in outbox(session) if r.dedupe_key.endswith("consent_request"))
        assert (row.status, row.withdrawn_reason) == (OutboxStatus.PENDING, None)


def test_a_case_closed_since_planning_has_its_pending_rows_withdrawn(sessions: sessionmaker[Session]) -> None:
    _, case_id = _notice_tenant(sessions)
    _until_sunday(sessions)
    with transaction(sessions) as session:
        closed = session.get(Case, case_id)
        assert closed is not None
        closed.closed_at = local(2026, 5, 31, 19, 0)
    report = plan(sessions, local(2026, 5, 31, 20, 0))
    assert report.open_cases == 0 and [w.reason for w in report.withdrawn] == ["closed"]


def test_a_case_first_seen_late_gets_one_message_per_track(sessions: sessionmaker[Session]) -> None:
    _notice_tenant(sessions)
    report = plan(sessions, local(2026, 6, 8, 9, 30))  # U+10, Monday
    assert sorted(m.step_id for m in report.messages) == ["recovery_reminder_1"]
    # staff track: U+10 visit needs an unanswered message first; the notice task is superseded
    assert report.tasks == []


def test_a_tenant_without_any_address_is_reached_in_person(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session, phone=None)
        make_notice_case(session, tenant, "NT-9", SERVED)
    report = plan(sessions, local(2026, 5, 29, 9, 30))
    assert report.messages == []
    assert sorted((t.step_id, t.kind) for t in report.tasks) == [
        ("notice_served", TaskKind.OTHER), ("notice_served", TaskKind.REACH_IN_PERSON)
    ]
    with transaction(sessions) as session:
        assert outbox(session) == []
        assert len(tasks(session)) == 2


def test_the_frequency_cap_holds_a_fourth_message_in_seven_days(sessions: sessionmaker[Session]) -> None:
    tenant_id, case_id = _notice_tenant(sessions)
    with transaction(sessions) as session:
        for day in (1, 2, 3):
            item = OutboxItem(dedupe_key=f"other:{day}", kind=OutboxKind.PLANNED, tenant_id=tenant_id,
                              template_key="menu", values={}, channel_order=["sms"], status=OutboxStatus.PENDING,
                              due_at=local(2026, 6, day, 10, 0))
            session.add(item)
            session.flush()
            mark_sent(session, item, local(2026, 6, day, 10, 0))
    report = plan(sessions, local(2026, 6, 5, 9, 30))
    # Three planned messages since Monday 10:00: the U+7 reminder waits until the first leaves the week.
    assert [(m.step_id, m.held, m.due_at) for m in report.messages] == [
        ("recovery_reminder_1", "cap", local(2026, 6, 8, 10, 0))
    ]
    with transaction(sessions) as session:
        assert dispatch(session, local(2026, 6, 5, 9, 30)) == []


def test_two_planners_racing_plan_nothing_twice(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        for number in range(30):
            tenant = make_tenant(session, f"T-{number}", phone=f"+4670174{number:04d}")
            make_notice_case(session, tenant, f"NT-{number}", SERVED)
    now = local(2026, 5, 29, 9, 30)
    reports = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        try:
            barrier.wait()
            reports.append(plan(sessions, now, chunk_size=7))
        except BaseException as error:  # noqa: BLE001 - surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with transaction(sessions) as session:
        assert len(outbox(session)) == 30 and len(tasks(session)) == 30
    assert sum(len(r.messages) for r in reports) == 30  # each row reported by the run that inserted it
    assert sum(len(r.tasks) for r in reports) == 30
    assert plan(sessions, now).messages == []


def test_chunking_does_not_change_the_plan(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        for number in range(5):
            tenant = make_tenant(session, f"T-{number}", phone=f"+4670174{number:04d}")
            make_notice_case(session, tenant, f"NT-{number}", SERVED)
    now = local(2026, 6, 5, 9, 30)
    with sessions() as session:
        small = plan_in_session(session, now, dry_run=True, chunk_size=2)
        large = plan_in_session(session, now, dry_run=True)
        session.rollback()
    assert sorted(m.dedupe_key for m in small.messages) == sorted(m.dedupe_key for m in large.messages)
    assert len(small.messages) == 5


def test_cost_follows_open_cases_not_tenants(engine: Engine, sessions: sessionmaker[Session]) -> None:
    """The number of SQL statements is the same with 5 or 205 tenants around 5 open cases."""

    def statements() -> int:
        count = 0

        def on_execute(*_args: object) -> None:
            nonlocal count
            count += 1

        event.listen(engine, "before_cursor_execute", on_execute)
        try:
            plan(sessions, local(2026, 6, 5, 9, 30), dry_run=True)
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
        return count

    with transaction(sessions) as session:
        for number in range(5):
            tenant = make_tenant(session, f"T-{number}", phone=f"+4670174{number:04d}")
            make_notice_case(session, tenant, f"NT-{number}", SERVED)
    few = statements()
    with transaction(sessions) as session:
        for number in range(5, 205):
            tenant = make_tenant(session, f"T-{number}", phone=f"+4670174{number:04d}")
            closed = make_notice_case(session, tenant, f"NT-{number}", SERVED)
            closed.closed_at = local(2026, 6, 1)
    assert statements() == few


def _meeting(session: Session, tenant_id: int, case_id: int | None, starts: datetime, place: str | None) -> int:
    slot = MeetingSlot(starts_at=starts, ends_at=starts + timedelta(hours=1), location=place,
                       status=MeetingSlotStatus.BOOKED)
    session.add(slot)
    session.flush()
    meeting = Meeting(slot_id=slot.id, tenant_id=tenant_id, case_id=case_id, status=MeetingStatus.BOOKED)
    session.add(meeting)
    session.flush()
    return meeting.id


def test_meeting_reminders_go_24_hours_before_or_the_last_workday_before(sessions: sessionmaker[Session]) -> None:
    tenant_id, case_id = _notice_tenant(sessions)
    with transaction(sessions) as session:
        tuesday = _meeting(session, tenant_id, case_id, local(2026, 6, 9, 10, 0), "Kvarngatan 12, Malmö")
        monday = _meeting(session, tenant_id, case_id, local(2026, 6, 15, 10, 0), None)
    first = plan(sessions, local(2026, 6, 5, 10, 30))  # Friday: 72 hours before the Tuesday reminder
    reminders = {m.dedupe_key: m.due_at for m in first.messages if m.dedupe_key.startswith("meeting:")}
    assert reminders == {f"meeting:{tuesday}:reminder": local(2026, 6, 8, 10, 0)}
    second = plan(sessions, local(2026, 6, 12, 9, 30))  # Friday before the Monday meeting
    reminders = {m.dedupe_key: m.due_at for m in second.messages if m.dedupe_key.startswith("meeting:")}
    assert reminders == {f"meeting:{monday}:reminder": local(2026, 6, 12, 19, 59)}
    with transaction(sessions) as session:
        row = session.scalars(select(OutboxItem).where(OutboxItem.dedupe_key == f"meeting:{tuesday}:reminder")).one()
        assert row.values == {"meeting_time": "2026-06-09T10:00:00+02:00", "meeting_place": "Kvarngatan 12, Malmö"}
        other = session.scalars(select(OutboxItem).where(OutboxItem.dedupe_key == f"meeting:{monday}:reminder")).one()
        assert other.values["meeting_place"] == "Hyresbostäders kundcenter"
        session.get(Meeting, monday).status = MeetingStatus.CANCELLED  # type: ignore[union-attr]
        session.flush()
        assert withdraw_reason(session, other, local(2026, 6, 12, 19, 59), PLAYBOOK) == "meeting_cancelled"
    third = plan(sessions, local(2026, 6, 12, 12, 0))
    assert [(w.dedupe_key, w.reason) for w in third.withdrawn] == [(f"meeting:{monday}:reminder", "meeting_cancelled")]


def test_quiet_hours_that_leave_no_send_time_hand_the_message_to_staff(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        tenant.quiet_hours_start, tenant.quiet_hours_end = time(7, 0), time(21, 0)
        make_notice_case(session, tenant, "NT-1", SERVED)
    report = plan(sessions, local(2026, 5, 29, 9, 30))
    assert report.messages == []
    assert ("notice_served", "no_send_time") in {(s.step_id, s.reason) for s in report.skipped}
    assert TaskKind.REACH_IN_PERSON in {t.kind for t in report.tasks}


def test_a_pending_reminder_is_never_sent_after_its_deadline(sessions: sessionmaker[Session]) -> None:
    _notice_tenant(sessions)
    plan(sessions, local(2026, 6, 19, 12, 0))  # midsummer eve: the final reminder waits for Monday
    with transaction(sessions) as session:
        [final] = [row for row in outbox(session) if row.dedupe_key.endswith("recovery_final_reminder")]
        assert final.due_at == local(2026, 6, 22, 8, 0)  # the deadline day itself: still valid
        assert withdraw_reason(session, final, local(2026, 6, 22, 8, 0), PLAYBOOK) is None
        assert withdraw_reason(session, final, local(2026, 6, 23, 8, 0), PLAYBOOK) == "expired"
