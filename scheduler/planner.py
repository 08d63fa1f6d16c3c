"""The planner: open cases × the playbook → outbox rows and staff tasks, idempotently.

Run it every few minutes (one process; on PostgreSQL under the leader's advisory lock, though two
racing planners are harmless). One run:

1. reads the ids of **open** cases only (index ``ix_cases_open``, in tenant order) and handles
   them in chunks of about :data:`CHUNK_SIZE`, each chunk in one transaction (short, so the
   dispatcher and webhooks never wait long for SQLite's write lock) with seven batched queries
   (cases with tenants, contact points, the tenants' planned outbox rows, tasks, last inbound
   message, valid consents, booked meetings). Cost follows open cases, never all tenants;
2. evaluates each case against the playbook (:func:`scheduler.playbook.evaluate_case`): the
   current step of every track, whether its conditions hold, which channels are left;
3. writes an outbox row per message step, ``dedupe_key = "case:<case id>:step:<step id>"``, and a
   task per staff step, ``"case:<case id>:step:<step id>:task"``, with ``INSERT … ON CONFLICT
   (dedupe_key) DO NOTHING`` (SQLite and PostgreSQL dialects): planning twice, or on two machines
   at once, plans nothing twice. ``due_at`` is the first moment at or after the step's moment
   that the send rules allow (window, holidays, quiet hours, frequency cap);
4. re-checks every *pending* planned row of those cases and withdraws it (``status=withdrawn``,
   ``withdrawn_reason``) when the case is paid (``paid``), resolved otherwise (``resolved``),
   closed (``closed``), paused (``paused``), the tenant opted out of every channel left
   (``opted_out``), wrote since the last step (``replied``), or the step expired (``expired``);
   pending rows of cases closed since are found through the outbox's status index;
5. plans meeting reminders (``meeting:<meeting id>:<step id>``) for booked meetings starting soon;
6. stores the computed recovery deadline on cases that have a notice date but no deadline, so the
   date tenants and staff see is decided once and never drifts (a stored deadline always wins).

Rows the planner withdrew come back (status *pending* again) if the same step is still current and
its conditions hold again, e.g. when a pause ends; rows withdrawn by anyone else stay withdrawn.

A message step for a tenant with no phone or chat at all opens a "reach in person" task instead
(``…:step:<id>:reach``); a tenant who said STOP on every channel gets no messages and one task per
case (``case:<id>:opted_out``) so staff decide whether to reach out in person.

For the dispatcher: :class:`SendTimeRules` (``check(session, item, tenant, now)``) re-checks a
claimed planned row at send time, :func:`withdraw_reason` alone answers "is it still wanted?".

The clock is injected (``now``); nothing here reads it.
"""

from __future__ import annotations

import time as wall
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.calendar import recovery_deadline
from scheduler.playbook import (
    CaseFacts,
    MeetingFacts,
    Playbook,
    Step,
    StepDue,
    Tracks,
    case_tracks,
    channel_order,
    evaluate_case,
    load_playbook,
    recheck_step,
    step_values,
    unreachable_reason,
)
from scheduler.send_rules import (
    CAP_PERIOD,
    DEFAULT_WINDOW,
    Decision,
    QuietHours,
    SendWindow,
    cap_frees_at,
    check_outbox_item,
    last_allowed_send,
    next_allowed_send,
    window_decision,
)
from storage.database import transaction
from storage.models import (
    Case,
    Channel,
    Consent,
    ConsentStatus,
    ContactPoint,
    Direction,
    Meeting,
    MeetingSlot,
    MeetingStatus,
    Message,
    Municipality,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Task,
    TaskKind,
    TaskStatus,
    Tenant,
    UTCDateTime,
)

CHUNK_SIZE = 1000

PLANNER_REASONS = frozenset(
    {"paid", "resolved", "closed", "paused", "opted_out", "no_contact", "replied", "expired",
     "notice_served", "kronofogden", "consent_given", "no_consent", "meeting_booked", "no_meeting",
     "has_telegram", "no_telegram", "meeting_cancelled", "no_message_sent_yet", "waiting_for_reply",
     "no_send_time"}
)
"""Withdrawal reasons the planner sets itself, and may therefore lift again."""

CASE_STATE_REASONS = frozenset({"paid", "resolved", "closed", "paused"})
"""Reasons about the case itself; they win over "opted_out" when both apply."""

TRACK_ENDED = frozenset({"notice_served", "kronofogden"})
"""Skip reasons that only say a track is over (arrears after a notice): not worth listing."""

_OUTBOX: Table = OutboxItem.__table__  # type: ignore[assignment]
_TASKS: Table = Task.__table__  # type: ignore[assignment]
_CASES: Table = Case.__table__  # type: ignore[assignment]


# --- keys --------------------------------------------------------------------------------------


def step_key(case_id: int, step_id: str) -> str:
    return f"case:{case_id}:step:{step_id}"


def task_key(case_id: int, step_id: str) -> str:
    return f"{step_key(case_id, step_id)}:task"


def reach_key(case_id: int, step_id: str) -> str:
    return f"{step_key(case_id, step_id)}:reach"


def opted_out_key(case_id: int) -> str:
    return f"case:{case_id}:opted_out"


def meeting_key(meeting_id: int, step_id: str) -> str:
    return f"meeting:{meeting_id}:{step_id}"


def parse_key(dedupe_key: str) -> tuple[str, int, str] | None:
    """``("case", 12, "notice_served")`` or ``("meeting", 4, "reminder")`` for a planner key."""
    parts = dedupe_key.split(":")
    if len(parts) == 4 and parts[0] == "case" and parts[2] == "step" and parts[1].isdigit():
        return "case", int(parts[1]), parts[3]
    if len(parts) == 3 and parts[0] == "meeting" and parts[1].isdigit():
        return "meeting", int(parts[1]), parts[2]
    return None


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedMessage:
    """A message planned (or, in a dry run, that would be). ``held`` says why ``due_at`` is later
    than the step's moment: ``weekend``, ``holiday``, ``outside_hours``, ``quiet_hours``, ``cap``."""

    dedupe_key: str
    tenant_id: int
    tenant_ref: str
    case_id: int | None
    case_ref: str | None
    step_id: str
    template_key: str
    channel_order: tuple[str, ...]
    moment: datetime
    due_at: datetime
    held: str | None
    revived: bool = False


@dataclass(frozen=True, slots=True)
class PlannedTask:
    dedupe_key: str
    tenant_id: int
    tenant_ref: str
    case_id: int
    case_ref: str
    step_id: str
    kind: TaskKind
    priority: int
    summary: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Skipped:
    """A current step that does nothing now, and why (``paid``, ``opted_out``, ``paused``, …)."""

    tenant_ref: str
    case_ref: str | None
    step_id: str
    reason: str
    part: str = "message"


@dataclass(frozen=True, slots=True)
class Withdrawn:
    outbox_id: int
    dedupe_key: str
    tenant_ref: str | None
    reason: str


@dataclass
class PlanReport:
    """What one run planned, skipped and withdrew (in a dry run: would have)."""

    now: datetime
    dry_run: bool
    playbook: str
    open_cases: int = 0
    meetings: int = 0
    messages: list[PlannedMessage] = field(default_factory=list)
    tasks: list[PlannedTask] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    withdrawn: list[Withdrawn] = field(default_factory=list)
    channel_orders_updated: int = 0
    deadlines_stored: int = 0
    seconds: float = 0.0

    def skipped_by_reason(self) -> Counter[str]:
        return Counter(s.reason for s in self.skipped)

    def withdrawn_by_reason(self) -> Counter[str]:
        return Counter(w.reason for w in self.withdrawn)

    def held_by_reason(self) -> Counter[str]:
        return Counter(m.held for m in self.messages if m.held)


# --- loading facts in batches ------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    """A planned outbox row of a tenant in the chunk (only the columns the planner needs)."""

    id: int
    dedupe_key: str
    tenant_id: int
    case_id: int | None
    status: OutboxStatus
    withdrawn_reason: str | None
    channel_order: list[str]
    due_at: datetime
    sent_at: datetime | None


@dataclass(slots=True)
class _Tenant:
    ref: str
    quiet: QuietHours | None
    channels: tuple[str, ...] = ()
    opted_out: tuple[str, ...] = ()


@dataclass
class _Chunk:
    facts: dict[int, CaseFacts]
    tenants: dict[int, _Tenant]
    rows: dict[str, _Row]
    task_keys: set[str]


def _chunks(open_cases: Sequence[tuple[int, int]], size: int) -> Iterator[list[int]]:
    """Case ids in chunks of about ``size``, never splitting one tenant's cases between chunks.

    ``open_cases`` is ``(tenant_id, case_id)`` in tenant order, as ``ix_cases_open`` yields it: a
    chunk then touches one stretch of the tenant, contact-point and outbox indexes instead of
    pages all over them, and the frequency cap sees all of a tenant's cases at once.
    """
    chunk: list[int] = []
    previous = None
    for tenant_id, case_id in open_cases:
        if len(chunk) >= size and tenant_id != previous:
            yield chunk
            chunk = []
        chunk.append(case_id)
        previous = tenant_id
    if chunk:
        yield chunk


_Reach = tuple[tuple[str, ...], tuple[str, ...]]


def _contact_channels(session: Session, tenant_ids: Iterable[int]) -> dict[int, _Reach]:
    """Per tenant: usable channels (by contact priority) and channels with an opted-out address."""
    usable: dict[int, list[tuple[int, str]]] = defaultdict(list)
    stopped: dict[int, set[str]] = defaultdict(set)
    rows = session.connection().execute(
        select(ContactPoint.tenant_id, ContactPoint.channel, ContactPoint.priority, ContactPoint.active,
               ContactPoint.opted_out).where(ContactPoint.tenant_id.in_(list(tenant_ids)))
    )
    for tenant_id, channel, priority, active, opted_out in rows:
        name = Channel(channel).value
        if opted_out:
            stopped[tenant_id].add(name)
        elif active:
            usable[tenant_id].append((priority, name))
    result: dict[int, _Reach] = {}
    for tenant_id in set(usable) | set(stopped):
        ordered = tuple(dict.fromkeys(name for _, name in sorted(usable.get(tenant_id, []))))
        result[tenant_id] = (ordered, tuple(sorted(stopped.get(tenant_id, set()) - set(ordered))))
    return result


def _planned_rows(session: Session, tenant_ids: Sequence[int]) -> dict[str, _Row]:
    sent_at = func.coalesce(Message.created_at, OutboxItem.updated_at, type_=UTCDateTime())
    query = (
        select(OutboxItem.id, OutboxItem.dedupe_key, OutboxItem.tenant_id, OutboxItem.case_id, OutboxItem.status,
               OutboxItem.withdrawn_reason, OutboxItem.channel_order, OutboxItem.due_at, sent_at)
        .outerjoin(Message, Message.id == OutboxItem.message_id)
        .where(OutboxItem.tenant_id.in_(tenant_ids), OutboxItem.kind == OutboxKind.PLANNED)
    )
    rows = {}
    for r in session.connection().execute(query):
        status = OutboxStatus(r[4])
        rows[r[1]] = _Row(r[0], r[1], r[2], r[3], status, r[5], list(r[6] or []), r[7],
                          r[8] if status in (OutboxStatus.SENT, OutboxStatus.SENDING) else None)
    return rows


def _load_chunk(session: Session, case_ids: Sequence[int], now: datetime) -> _Chunk:
    """Every fact the playbook needs for these cases, in seven queries whatever the chunk size."""
    case_rows = session.connection().execute(
        select(Case.id, Case.external_ref, Case.tenant_id, Tenant.external_ref, Case.amount_overdue_ore,
               Case.rent_due_date, Case.notice_served_on, Case.recovery_deadline, Case.kronofogden_applied_on,
               Case.eviction_date, Case.outcome, Case.paid_at, Case.paused_until, Case.opened_at, Case.closed_at,
               Municipality.name, Tenant.preferred_language, Tenant.quiet_hours_start, Tenant.quiet_hours_end)
        .join(Tenant, Tenant.id == Case.tenant_id)
        .outerjoin(Municipality, Municipality.id == Tenant.municipality_id)
        .where(Case.id.in_(case_ids))
    ).all()
    tenant_ids = sorted({row[2] for row in case_rows})
    if not tenant_ids:
        return _Chunk({}, {}, {}, set())
    channels = _contact_channels(session, tenant_ids)
    rows = _planned_rows(session, tenant_ids)
    task_keys = set(
        session.scalars(select(Task.dedupe_key).where(Task.case_id.in_(case_ids), Task.dedupe_key.is_not(None)))
    )
    last_inbound = dict(
        session.execute(
            select(Message.tenant_id, func.max(Message.created_at))
            .where(Message.tenant_id.in_(tenant_ids), Message.direction == Direction.INBOUND)
            .group_by(Message.tenant_id)
        ).all()
    )
    consenting = set(
        session.scalars(
            select(Consent.tenant_id).where(
                Consent.tenant_id.in_(tenant_ids),
                Consent.status == ConsentStatus.GIVEN,
                Consent.withdrawn_at.is_(None),
                or_(Consent.expires_at.is_(None), Consent.expires_at > now),
                or_(Consent.valid_from.is_(None), Consent.valid_from <= now),
            )
        )
    )
    meeting_tenants = set(
        session.scalars(
            select(Meeting.tenant_id)
            .join(MeetingSlot, MeetingSlot.id == Meeting.slot_id)
            .where(Meeting.tenant_id.in_(tenant_ids), Meeting.status == MeetingStatus.BOOKED,
                   MeetingSlot.starts_at > now)
        )
    )
    last_sent: dict[int, datetime] = {}
    for row in rows.values():
        if row.case_id is not None and row.sent_at is not None and row.dedupe_key.startswith("case:"):
            previous = last_sent.get(row.case_id)
            last_sent[row.case_id] = row.sent_at if previous is None else max(previous, row.sent_at)
    facts: dict[int, CaseFacts] = {}
    tenants: dict[int, _Tenant] = {}
    for r in case_rows:
        (case_id, case_ref, tenant_id, tenant_ref, amount, rent_due, served, deadline, kfm, eviction, outcome,
         paid_at, paused_until, opened_at, closed_at, municipality, language, quiet_start, quiet_end) = r
        usable, stopped = channels.get(tenant_id, ((), ()))
        tenants[tenant_id] = _Tenant(tenant_ref, QuietHours.of(quiet_start, quiet_end), usable, stopped)
        facts[case_id] = CaseFacts(
            case_id=case_id, case_ref=case_ref, tenant_id=tenant_id, tenant_ref=tenant_ref,
            amount_overdue_ore=amount, rent_due_date=rent_due, notice_served_on=served, recovery_deadline=deadline,
            kronofogden_applied_on=kfm, eviction_date=eviction, outcome=None if outcome is None else str(outcome),
            paid_at=paid_at, paused_until=paused_until, opened_at=opened_at, closed_at=closed_at,
            municipality=municipality, language=language, channels=usable, opted_out_channels=stopped,
            has_consent=tenant_id in consenting, meeting_booked=tenant_id in meeting_tenants,
            last_inbound_at=last_inbound.get(tenant_id), last_planned_sent_at=last_sent.get(case_id),
        )
    return _Chunk(facts, tenants, rows, task_keys)


# --- writing -----------------------------------------------------------------------------------


def _insert_ignoring_duplicates(session: Session, table: Table, rows: list[dict[str, Any]]) -> set[str]:
    """``INSERT … ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key``: the keys inserted."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - Bokvar supports SQLite and PostgreSQL only
        raise RuntimeError(f"the planner needs SQLite or PostgreSQL, not {dialect}")
    statement = insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.dedupe_key)
    return set(session.execute(statement, rows).scalars())


@dataclass
class _Writes:
    outbox: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    revive: list[dict[str, Any]] = field(default_factory=list)
    withdraw: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    channel_orders: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)


def _apply(session: Session, writes: _Writes, now: datetime) -> tuple[set[str], set[str]]:
    """Write one chunk's decisions; return the outbox and task keys actually inserted."""
    inserted = _insert_ignoring_duplicates(session, _OUTBOX, writes.outbox)
    tasks = _insert_ignoring_duplicates(session, _TASKS, writes.tasks)
    for reason, ids in writes.withdraw.items():
        session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(ids), _OUTBOX.c.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.WITHDRAWN, withdrawn_reason=reason, updated_at=now)
        )
    if writes.revive:
        session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == bindparam("row_id"), _OUTBOX.c.status == OutboxStatus.WITHDRAWN,
                   _OUTBOX.c.withdrawn_reason.in_(sorted(PLANNER_REASONS)))
            .values(status=OutboxStatus.PENDING, withdrawn_reason=None, due_at=bindparam("new_due"),
                    channel_order=bindparam("new_channels"), values=bindparam("new_values"), updated_at=now),
            writes.revive,
        )
        inserted |= {row["key"] for row in writes.revive}
    if writes.channel_orders:
        session.execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id == bindparam("row_id"), _OUTBOX.c.status == OutboxStatus.PENDING)
            .values(channel_order=bindparam("new_channels"), updated_at=now),
            writes.channel_orders,
        )
    if writes.deadlines:
        session.execute(
            update(_CASES)
            .where(_CASES.c.id == bindparam("case_id"), _CASES.c.recovery_deadline.is_(None),
                   _CASES.c.notice_served_on == bindparam("served"))
            .values(recovery_deadline=bindparam("deadline"), updated_at=now),
            writes.deadlines,
        )
    return inserted, tasks


# --- one chunk of cases ------------------------------------------------------------------------


class _Run:
    """The state of one planning run: playbook, clock, window, report, and the cap's send log."""

    def __init__(self, playbook: Playbook, now: datetime, window: SendWindow, report: PlanReport) -> None:
        self.playbook = playbook
        self.now = now
        self.window = window
        self.report = report
        self.sends: dict[int, list[datetime]] = {}

    # The frequency cap counts planned messages already out in the period plus those pending (they
    # will go out), so the planner spreads a burst instead of letting the dispatcher bounce it.
    def _remember_sends(self, rows: Iterable[_Row]) -> None:
        horizon = self.now - CAP_PERIOD
        known = set(self.sends)  # tenants met before in this run: their rows are counted already
        for row in rows:
            if row.tenant_id in known:
                continue
            moment = row.sent_at if row.sent_at is not None else (
                row.due_at if row.status == OutboxStatus.PENDING else None)
            if moment is not None and moment > horizon:
                self.sends.setdefault(row.tenant_id, []).append(moment)

    def due(self, tenant_id: int, quiet: QuietHours | None, moment: datetime) -> tuple[datetime | None, str | None]:
        """The first allowed send moment for a message whose step is due at ``moment``."""
        start = max(moment, self.now)
        due = next_allowed_send(start, quiet, self.window)
        if due is None:
            return None, "no_send_time"
        held = None if due <= start else window_decision(start, quiet, self.window).reason
        sends = self.sends.setdefault(tenant_id, [])
        for _ in range(20):
            freed = cap_frees_at(sends, due)
            if freed <= due:
                break
            held = "cap"
            later = next_allowed_send(freed, quiet, self.window)
            if later is None:
                return None, "no_send_time"
            due = later
        return due, held

    def plan_chunk(self, chunk: _Chunk, writes: _Writes) -> None:
        pending: dict[int, list[_Row]] = defaultdict(list)
        for row in chunk.rows.values():
            if row.status == OutboxStatus.PENDING and row.case_id is not None:
                pending[row.case_id].append(row)
        withdrawn: set[int] = set()
        tracks = {case_id: case_tracks(self.playbook, facts) for case_id, facts in chunk.facts.items()}
        for facts in chunk.facts.values():
            withdrawn |= self._recheck_pending(facts, pending.get(facts.case_id, ()), writes, tracks[facts.case_id])
        self._remember_sends(row for row in chunk.rows.values() if row.id not in withdrawn)
        for facts in chunk.facts.values():
            if facts.closed_at is not None:
                continue
            self.report.open_cases += 1
            if facts.recovery_deadline is None and facts.notice_served_on is not None:
                writes.deadlines.append({"case_id": facts.case_id, "served": facts.notice_served_on,
                                         "deadline": recovery_deadline(facts.notice_served_on)})
            for due in evaluate_case(self.playbook, facts, self.now, tracks[facts.case_id]):
                if due.step.template is not None:
                    self._plan_message(due, facts, chunk, writes)
                if due.step.task is not None:
                    self._plan_task(due, facts, chunk, writes)

    def _recheck_pending(self, facts: CaseFacts, rows: Iterable[_Row], writes: _Writes, tracks: Tracks) -> set[int]:
        """Withdraw or re-route this case's pending rows; return the ids withdrawn."""
        prefix = f"case:{facts.case_id}:step:"
        withdrawn: set[int] = set()
        for row in rows:
            if not row.dedupe_key.startswith(prefix):
                continue
            step = self.playbook.step(row.dedupe_key.removeprefix(prefix))
            if step is None:
                continue  # a step removed from the playbook: leave the row to staff
            reason = recheck_step(self.playbook, step, facts, self.now, tracks)
            channels = channel_order(step, self.playbook, facts)
            if not channels and reason not in CASE_STATE_REASONS:
                reason = unreachable_reason(facts)
            if reason is not None:
                withdrawn.add(row.id)
                writes.withdraw[reason].append(row.id)
                self.report.withdrawn.append(Withdrawn(row.id, row.dedupe_key, facts.tenant_ref, reason))
            elif channels != row.channel_order:
                writes.channel_orders.append({"row_id": row.id, "new_channels": channels})
                self.report.channel_orders_updated += 1
        return withdrawn

    def _skip(self, facts: CaseFacts, step: Step, reason: str, part: str = "message") -> None:
        if reason in TRACK_ENDED:
            return
        self.report.skipped.append(Skipped(facts.tenant_ref, facts.case_ref, step.id, reason, part))

    def _plan_message(self, due: StepDue, facts: CaseFacts, chunk: _Chunk, writes: _Writes) -> None:
        step = due.step
        assert step.template is not None
        key = step_key(facts.case_id, step.id)
        existing = chunk.rows.get(key)
        revivable = (existing is not None and existing.status == OutboxStatus.WITHDRAWN
                     and existing.withdrawn_reason in PLANNER_REASONS)
        if existing is not None and not revivable:
            return
        channels = channel_order(step, self.playbook, facts)
        unreachable = None if channels else unreachable_reason(facts)
        # A STOP is reported as such even when a condition would also block (the STOP itself is a
        # reply); a missing address only matters for a step that would otherwise fire.
        if due.blocked in CASE_STATE_REASONS or (due.blocked is not None and unreachable != "opted_out"):
            self._skip(facts, step, due.blocked)
            return
        if unreachable is not None:
            self._unreachable(facts, step, due, unreachable, writes, chunk)
            return
        values, missing = step_values(step, self.playbook, facts)
        if missing:
            self._skip(facts, step, "missing_value:" + ",".join(missing))
            return
        tenant = chunk.tenants[facts.tenant_id]
        due_at, held = self.due(facts.tenant_id, tenant.quiet, due.moment)
        if due_at is None:
            self._unreachable(facts, step, due, "no_send_time", writes, chunk)
            return
        if due.expires_at is not None and due_at >= due.expires_at:
            self._skip(facts, step, f"{held or 'window'}_until_expiry")
            return
        self.sends[facts.tenant_id].append(due_at)
        self.report.messages.append(PlannedMessage(
            key, facts.tenant_id, facts.tenant_ref, facts.case_id, facts.case_ref, step.id, step.template,
            tuple(channels), due.moment, due_at, held, revived=existing is not None,
        ))
        if existing is not None:
            writes.revive.append({"row_id": existing.id, "key": key, "new_due": due_at, "new_channels": channels,
                                  "new_values": values})
        else:
            writes.outbox.append(self._outbox_row(key, facts.tenant_id, facts.case_id, step.template, values,
                                                  channels, due_at))

    def _outbox_row(self, key: str, tenant_id: int, case_id: int | None, template: str, values: dict[str, Any],
                    channels: list[str], due_at: datetime) -> dict[str, Any]:
        return {
            "dedupe_key": key, "kind": OutboxKind.PLANNED, "tenant_id": tenant_id, "case_id": case_id,
            "template_key": template, "values": values, "channel_order": channels, "status": OutboxStatus.PENDING,
            "due_at": due_at, "attempts": 0, "created_at": self.now, "updated_at": self.now,
        }

    def _unreachable(self, facts: CaseFacts, step: Step, due: StepDue, reason: str, writes: _Writes,
                     chunk: _Chunk) -> None:
        """No channel left for a message: respect a STOP, but never leave a case without a person."""
        self._skip(facts, step, reason)
        if reason == "opted_out":
            key = opted_out_key(facts.case_id)
            summary = ("Hyresgästen har stoppat sms/chatt men ärendet är öppet. Bedöm om någon ska nå "
                       "hyresgästen personligen (telefon eller besök).")
            priority = self.playbook.reach_in_person_priority + 10
        else:
            key = reach_key(facts.case_id, step.id)
            why = ("saknar telefon och chatt" if reason == "no_contact"
                   else "har tysta timmar som täcker hela sändfönstret")
            summary = (f"Hyresgästen {why}: framför personligen det som meddelandet '{step.template}' "
                       "säger (belopp och datum står i ärendet).")
            priority = self.playbook.reach_in_person_priority
        self._add_task(key, TaskKind.REACH_IN_PERSON, priority, summary, max(due.moment, self.now), facts, step,
                       writes, chunk)

    def _plan_task(self, due: StepDue, facts: CaseFacts, chunk: _Chunk, writes: _Writes) -> None:
        step = due.step
        assert step.task is not None
        key = task_key(facts.case_id, step.id)
        if key in chunk.task_keys:
            return
        if due.task_blocked is not None:
            if step.template is None or due.blocked is None:
                self._skip(facts, step, due.task_blocked, part="task")
            return
        self._add_task(key, step.task.kind, step.task.priority, step.task.summary, max(due.moment, self.now),
                       facts, step, writes, chunk)

    def _add_task(self, key: str, kind: TaskKind, priority: int, summary: str, due_at: datetime, facts: CaseFacts,
                  step: Step, writes: _Writes, chunk: _Chunk) -> None:
        if key in chunk.task_keys:
            return
        chunk.task_keys.add(key)
        text = f"{summary} [ärende {facts.case_ref}, steg {step.id}]"
        self.report.tasks.append(PlannedTask(key, facts.tenant_id, facts.tenant_ref, facts.case_id, facts.case_ref,
                                             step.id, kind, priority, text, due_at))
        writes.tasks.append({
            "kind": kind, "priority": priority, "status": TaskStatus.OPEN, "tenant_id": facts.tenant_id,
            "case_id": facts.case_id, "dedupe_key": key, "summary": text, "due_at": due_at, "created_at": self.now,
        })


# --- meetings and cases closed since -----------------------------------------------------------


def _plan_meetings(session: Session, run: _Run, writes: _Writes) -> None:
    playbook, now = run.playbook, run.now
    steps = playbook.meeting_steps
    if not steps:
        return
    reach = max(-step.offset_hours for step in steps)
    horizon = now + timedelta(hours=max(reach, 0)) + playbook.meeting_lead
    meetings = session.execute(
        select(Meeting.id, Meeting.tenant_id, Meeting.case_id, MeetingSlot.starts_at, MeetingSlot.location,
               Tenant.external_ref, Tenant.quiet_hours_start, Tenant.quiet_hours_end)
        .join(MeetingSlot, MeetingSlot.id == Meeting.slot_id)
        .join(Tenant, Tenant.id == Meeting.tenant_id)
        .where(Meeting.status == MeetingStatus.BOOKED, MeetingSlot.starts_at > now, MeetingSlot.starts_at <= horizon)
    ).all()
    pending = session.execute(
        select(OutboxItem.id, OutboxItem.dedupe_key, OutboxItem.tenant_id)
        .where(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.kind == OutboxKind.PLANNED,
               OutboxItem.dedupe_key.like("meeting:%"))
    ).all()
    tenant_ids = sorted({m[1] for m in meetings} | {p[2] for p in pending})
    channels = _contact_channels(session, tenant_ids) if tenant_ids else {}
    rows = _planned_rows(session, tenant_ids) if tenant_ids else {}
    run._remember_sends(rows.values())
    booked = {m[0]: m for m in meetings}
    pending_meeting_ids = [parsed[1] for p in pending if (parsed := parse_key(p[1])) is not None]
    if pending_meeting_ids:
        state = dict(session.execute(
            select(Meeting.id, Meeting.status).where(Meeting.id.in_(pending_meeting_ids))).all())
        starts = dict(session.execute(
            select(Meeting.id, MeetingSlot.starts_at).join(MeetingSlot, MeetingSlot.id == Meeting.slot_id)
            .where(Meeting.id.in_(pending_meeting_ids))).all())
    else:
        state, starts = {}, {}
    for outbox_id, key, tenant_id in pending:
        parsed = parse_key(key)
        if parsed is None:
            continue
        meeting_id = parsed[1]
        reason = None
        if state.get(meeting_id) != MeetingStatus.BOOKED:
            reason = "meeting_cancelled"
        elif starts[meeting_id] <= now:
            reason = "expired"
        elif not channels.get(tenant_id, ((), ()))[0]:
            reason = "opted_out" if channels.get(tenant_id, ((), ()))[1] else "no_contact"
        if reason is not None:
            writes.withdraw[reason].append(outbox_id)
            run.report.withdrawn.append(Withdrawn(outbox_id, key, None, reason))
    for meeting_id, tenant_id, case_id, starts_at, location, tenant_ref, quiet_start, quiet_end in booked.values():
        run.report.meetings += 1
        usable, stopped = channels.get(tenant_id, ((), ()))
        meeting = MeetingFacts(meeting_id, tenant_id, tenant_ref, case_id, starts_at, location, usable, stopped)
        for step in steps:
            _plan_meeting_step(run, step, meeting, QuietHours.of(quiet_start, quiet_end), rows, writes)


def _plan_meeting_step(run: _Run, step: Step, meeting: MeetingFacts, quiet: QuietHours | None,
                       rows: dict[str, _Row], writes: _Writes) -> None:
    playbook, now = run.playbook, run.now
    moment = meeting.starts_at + timedelta(hours=step.offset_hours)
    if now < moment - playbook.meeting_lead:
        return
    key = meeting_key(meeting.meeting_id, step.id)
    existing = rows.get(key)
    if existing is not None and not (existing.status == OutboxStatus.WITHDRAWN
                                     and existing.withdrawn_reason in PLANNER_REASONS):
        return
    assert step.template is not None
    label = f"meeting:{meeting.meeting_id}:{step.id}"
    channels = [c for c in (step.channels or playbook.channels) if c in meeting.channels]
    if not channels:
        reason = "opted_out" if meeting.opted_out_channels else "no_contact"
        run.report.skipped.append(Skipped(meeting.tenant_ref, None, label, reason))
        return
    # At least the step's lead time before the meeting when possible (the latest allowed instant at
    # or before the moment: a Monday meeting is reminded on Friday), else as soon as allowed but
    # not later than meeting_min_notice before it.
    latest = meeting.starts_at - playbook.meeting_min_notice
    due_at = last_allowed_send(moment, now, quiet, run.window) if moment >= now else None
    if due_at is None:
        after = next_allowed_send(max(moment, now), quiet, run.window)
        due_at = after if after is not None and after <= latest else None
    if due_at is None:
        run.report.skipped.append(Skipped(meeting.tenant_ref, None, label, "too_late"))
        return
    held = None if due_at == max(moment, now) else window_decision(max(moment, now), quiet, run.window).reason
    if cap_frees_at(run.sends.setdefault(meeting.tenant_id, []), due_at) > due_at:
        run.report.skipped.append(Skipped(meeting.tenant_ref, None, label, "cap"))
        return
    values, missing = step_values(step, playbook, meeting=meeting)
    if missing:
        run.report.skipped.append(Skipped(meeting.tenant_ref, None, label, "missing_value:" + ",".join(missing)))
        return
    run.sends[meeting.tenant_id].append(due_at)
    run.report.messages.append(PlannedMessage(
        key, meeting.tenant_id, meeting.tenant_ref, meeting.case_id, None, step.id, step.template, tuple(channels),
        moment, due_at, held, revived=existing is not None,
    ))
    if existing is not None:
        writes.revive.append({"row_id": existing.id, "key": key, "new_due": due_at, "new_channels": channels,
                              "new_values": values})
    else:
        writes.outbox.append(run._outbox_row(key, meeting.tenant_id, meeting.case_id, step.template, values,
                                             channels, due_at))


def _withdraw_for_closed_cases(session: Session, run: _Run, writes: _Writes) -> None:
    """Pending rows of cases closed (or deleted) since they were planned; found via the status index."""
    rows = session.execute(
        select(OutboxItem.id, OutboxItem.dedupe_key, Case.id, Case.paid_at, Case.outcome)
        .outerjoin(Case, Case.id == OutboxItem.case_id)
        .where(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.kind == OutboxKind.PLANNED,
               OutboxItem.dedupe_key.like("case:%"), or_(Case.id.is_(None), Case.closed_at.is_not(None)))
    ).all()
    for outbox_id, key, _case_id, paid_at, outcome in rows:
        reason = "paid" if paid_at is not None or outcome == "paid" else "closed"
        writes.withdraw[reason].append(outbox_id)
        run.report.withdrawn.append(Withdrawn(outbox_id, key, None, reason))


# --- entry points ------------------------------------------------------------------------------


def open_cases(session: Session) -> list[tuple[int, int]]:
    """``(tenant_id, case_id)`` of open cases, in tenant order, straight from ``ix_cases_open``.

    This is the only query whose size depends on the database, and it reads open cases only: the
    planner never scans all tenants.
    """
    rows = session.execute(
        select(Case.tenant_id, Case.id).where(Case.closed_at.is_(None)).order_by(Case.tenant_id, Case.id)
    )
    return [(tenant_id, case_id) for tenant_id, case_id in rows]


def _record_inserted(report: PlanReport, before_messages: int, before_tasks: int,
                     outbox_keys: set[str], task_keys: set[str]) -> None:
    """Keep in the report only what this run really inserted (another planner may have raced us)."""
    report.messages[before_messages:] = [m for m in report.messages[before_messages:] if m.dedupe_key in outbox_keys]
    report.tasks[before_tasks:] = [t for t in report.tasks[before_tasks:] if t.dedupe_key in task_keys]


def _plan_chunk(session: Session, run: _Run, case_ids: list[int], dry_run: bool) -> None:
    before_messages, before_tasks = len(run.report.messages), len(run.report.tasks)
    writes = _Writes()
    run.plan_chunk(_load_chunk(session, case_ids, run.now), writes)
    if not dry_run:
        outbox_keys, task_keys = _apply(session, writes, run.now)
        _record_inserted(run.report, before_messages, before_tasks, outbox_keys, task_keys)
        run.report.deadlines_stored += len(writes.deadlines)


def _plan_tail(session: Session, run: _Run, dry_run: bool) -> None:
    before_messages, before_tasks = len(run.report.messages), len(run.report.tasks)
    writes = _Writes()
    _withdraw_for_closed_cases(session, run, writes)
    _plan_meetings(session, run, writes)
    if not dry_run:
        outbox_keys, task_keys = _apply(session, writes, run.now)
        _record_inserted(run.report, before_messages, before_tasks, outbox_keys, task_keys)


def _start(now: datetime, playbook: Playbook | None, dry_run: bool, window: SendWindow) -> _Run:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    playbook = playbook or load_playbook()
    return _Run(playbook, now, window, PlanReport(now=now, dry_run=dry_run, playbook=playbook.name))


def plan(
    sessions: sessionmaker[Session],
    now: datetime,
    playbook: Playbook | None = None,
    *,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    window: SendWindow = DEFAULT_WINDOW,
) -> PlanReport:
    """Plan every open case at ``now``, one transaction per chunk so writers never wait long.

    With ``dry_run`` nothing is written (each chunk's transaction is rolled back) and the report
    says what would have been planned.
    """
    run = _start(now, playbook, dry_run, window)
    started = wall.perf_counter()
    with sessions() as session:
        ids = open_cases(session)
        session.rollback()
    for case_ids in _chunks(ids, chunk_size):
        _in_transaction(sessions, dry_run, lambda session, ids=case_ids: _plan_chunk(session, run, ids, dry_run))
    _in_transaction(sessions, dry_run, lambda session: _plan_tail(session, run, dry_run))
    run.report.seconds = wall.perf_counter() - started
    return run.report


def _in_transaction(sessions: sessionmaker[Session], dry_run: bool, work: Any) -> None:
    if dry_run:
        with sessions() as session:
            try:
                work(session)
            finally:
                session.rollback()
        return
    with transaction(sessions) as session:
        work(session)


def plan_in_session(
    session: Session,
    now: datetime,
    playbook: Playbook | None = None,
    *,
    dry_run: bool = False,
    chunk_size: int = CHUNK_SIZE,
    window: SendWindow = DEFAULT_WINDOW,
) -> PlanReport:
    """:func:`plan` inside the caller's transaction (tests, or a caller that holds a lock)."""
    run = _start(now, playbook, dry_run, window)
    started = wall.perf_counter()
    for case_ids in _chunks(open_cases(session), chunk_size):
        _plan_chunk(session, run, case_ids, dry_run)
    _plan_tail(session, run, dry_run)
    session.flush()
    run.report.seconds = wall.perf_counter() - started
    return run.report


def withdraw_reason(session: Session, item: OutboxItem, now: datetime, playbook: Playbook | None = None) -> str | None:
    """Why a claimed planned row must not be sent any more, or None (for the dispatcher).

    The same re-check the planner runs on pending rows, for one row at send time: between the last
    planner run and now the tenant may have paid, replied, been paused, opted out everywhere, or the
    step's deadline may have passed. Replies and staff messages always return None.
    """
    if item.kind != OutboxKind.PLANNED:
        return None
    parsed = parse_key(item.dedupe_key)
    if parsed is None:
        return None
    playbook = playbook or load_playbook()
    scope, object_id, step_id = parsed
    if scope == "meeting":
        meeting = session.get(Meeting, object_id)
        if meeting is None or meeting.status != MeetingStatus.BOOKED:
            return "meeting_cancelled"
        if meeting.slot.starts_at <= now:
            return "expired"
        usable, stopped = _contact_channels(session, [item.tenant_id]).get(item.tenant_id, ((), ()))
        return None if usable else ("opted_out" if stopped else "no_contact")
    facts = _load_chunk(session, [object_id], now).facts.get(object_id)
    if facts is None:
        return "closed"
    if facts.closed_at is not None:
        return "paid" if facts.paid_at is not None or facts.outcome == "paid" else "closed"
    step = playbook.step(step_id)
    if step is None:
        return None
    reason = recheck_step(playbook, step, facts, now)
    if not channel_order(step, playbook, facts) and reason not in CASE_STATE_REASONS:
        reason = unreachable_reason(facts)
    return reason



class SendTimeRules:
    """Everything the dispatcher re-checks before sending a planned row, in one call.

    First :func:`withdraw_reason` (is the row still wanted: case open and unpaid, not paused, step
    not expired, a channel left?), then :func:`scheduler.send_rules.check_outbox_item` (window,
    holidays, quiet hours, frequency cap). Structurally it is the dispatcher's ``SendRules``
    protocol: ``check(session, item, tenant, now)`` returns a decision with ``allowed``,
    ``reason``, ``retry_at`` and ``withdraw``. Quiet hours that leave no send time at all withdraw
    the row (``no_send_time``); the next planner run then opens a "reach in person" task.
    """

    def __init__(self, playbook: Playbook | None = None, window: SendWindow = DEFAULT_WINDOW) -> None:
        self.playbook = playbook or load_playbook()
        self.window = window

    def check(self, session: Session, item: OutboxItem, tenant: Tenant | None, now: datetime) -> Decision:
        reason = withdraw_reason(session, item, now, self.playbook)
        if reason is not None:
            return Decision(False, reason, None, withdraw=True)
        decision = check_outbox_item(session, item, now, self.window, tenant)
        if decision.reason == "no_send_time":
            return Decision(False, "no_send_time", None, withdraw=True)
        return decision
