"""When a message may reach a tenant: send windows, quiet hours and the frequency cap.

The rules (``shared/domain.md``, contact rules):

* planned outreach only Monday–Friday 08:00–20:00 Europe/Stockholm, never on Sundays, public
  holidays or midsummer, Christmas and New Year's eve. "Weekdays" is read as Monday–Friday, the
  stricter reading; :class:`SendWindow` can add Saturday if the landlord decides otherwise;
* never inside the tenant's own quiet hours (which may wrap midnight, e.g. 22:00–09:00);
* at most :data:`FREQUENCY_CAP` planned messages per tenant in any :data:`CAP_PERIOD`;
* a reply to a tenant who just wrote (within :data:`REPLY_FRESHNESS`) goes at once, whatever the
  hour: they are awake and waiting. A reply that waited longer is held to the window like staff
  messages, but never capped.

The functions are pure (the clock and the facts are arguments) so the planner uses them to set
``due_at`` and the dispatcher uses the same ones again at send time, because facts change between
planning and sending: a holiday weekend passes, a tenant sets quiet hours, other messages go out.
Only :func:`recent_planned_sends` and :func:`check_outbox_item` read the database.

What counts towards the cap: outbox rows of kind *planned* whose status is *sending* or *sent*;
their send moment is the ``created_at`` of the message they produced (``message_id``), else the
row's ``updated_at`` (the moment it was claimed or marked sent). Replies and staff messages never
count: the cap protects tenants from automated pressure, not from answers to their questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.calendar import STOCKHOLM, is_holiday
from storage.models import Direction, Message, OutboxItem, OutboxKind, OutboxStatus, Tenant, UTCDateTime

FREQUENCY_CAP = 3
CAP_PERIOD = timedelta(days=7)
REPLY_FRESHNESS = timedelta(hours=2)
HORIZON_DAYS = 60
"""How far :func:`next_allowed_send` looks; far beyond the longest Swedish run of days off."""

_MIDNIGHT = time(0, 0)


@dataclass(frozen=True, slots=True)
class SendWindow:
    """The hours and days planned outreach may go out, in ``tz`` wall-clock time.

    ``end`` is exclusive: 20:00 itself is too late. Holidays and the three eves are always closed.
    """

    start: time = time(8, 0)
    end: time = time(20, 0)
    weekdays: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))
    tz: ZoneInfo = STOCKHOLM

    def day_open(self, day: date) -> bool:
        return day.weekday() in self.weekdays and not is_holiday(day)


DEFAULT_WINDOW = SendWindow()


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A tenant's own "do not disturb" hours, local time; ``start > end`` wraps past midnight."""

    start: time
    end: time

    @classmethod
    def of(cls, start: time | None, end: time | None) -> QuietHours | None:
        """Quiet hours from the tenant's two columns; None unless both are set and differ."""
        if start is None or end is None or start == end:
            return None
        return cls(start, end)

    @classmethod
    def of_tenant(cls, tenant: Tenant) -> QuietHours | None:
        return cls.of(tenant.quiet_hours_start, tenant.quiet_hours_end)

    def contains(self, clock: time) -> bool:
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def blocks(self, day: date) -> list[tuple[datetime, datetime]]:
        """The quiet intervals touching ``day``, as naive local datetimes."""
        begin = datetime.combine(day, _MIDNIGHT)
        if self.start < self.end:
            return [(datetime.combine(day, self.start), datetime.combine(day, self.end))]
        return [
            (begin, datetime.combine(day, self.end)),
            (datetime.combine(day, self.start), begin + timedelta(days=1)),
        ]


@dataclass(frozen=True, slots=True)
class Decision:
    """May this message go now? If not, why, and the earliest moment worth trying again.

    ``reason`` is one of ``ok``, ``reply`` (a fresh reply, exempt), ``weekend``, ``holiday``,
    ``outside_hours``, ``quiet_hours``, ``cap``, ``no_send_time`` (quiet hours cover the whole
    window: ``retry_at`` is None and the message can never go; open a staff task instead).
    ``withdraw`` is set only by :class:`scheduler.planner.SendTimeRules`: the row is no longer
    wanted at all and ``reason`` is its ``withdrawn_reason``. The field names match the
    dispatcher's ``RuleDecision``.
    """

    allowed: bool
    reason: str
    retry_at: datetime | None = None
    withdraw: bool = False


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime is ambiguous; pass an aware datetime")


def _subtract(
    interval: tuple[datetime, datetime], blocks: Iterable[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    pieces = [interval]
    for b_start, b_end in blocks:
        rest = []
        for start, end in pieces:
            if b_end <= start or b_start >= end:
                rest.append((start, end))
                continue
            if start < b_start:
                rest.append((start, b_start))
            if b_end < end:
                rest.append((b_end, end))
        pieces = rest
    return pieces


def _open_intervals(day: date, window: SendWindow, quiet: QuietHours | None) -> list[tuple[datetime, datetime]]:
    if not window.day_open(day):
        return []
    interval = (datetime.combine(day, window.start), datetime.combine(day, window.end))
    return _subtract(interval, quiet.blocks(day)) if quiet else [interval]


def next_allowed_send(
    moment: datetime, quiet: QuietHours | None = None, window: SendWindow = DEFAULT_WINDOW
) -> datetime | None:
    """The first instant at or after ``moment`` inside the window and outside quiet hours (UTC).

    Returns ``moment`` itself (in UTC) when it is already allowed, and None when no instant in
    the next :data:`HORIZON_DAYS` is (only possible if quiet hours swallow the whole window).
    """
    _require_aware(moment)
    local = moment.astimezone(window.tz).replace(tzinfo=None)
    for offset in range(HORIZON_DAYS):
        day = local.date() + timedelta(days=offset)
        for start, end in _open_intervals(day, window, quiet):
            if end <= local:
                continue
            candidate = max(start, local)
            return candidate.replace(tzinfo=window.tz).astimezone(UTC)
    return None


def last_allowed_send(
    moment: datetime, not_before: datetime, quiet: QuietHours | None = None, window: SendWindow = DEFAULT_WINDOW
) -> datetime | None:
    """The latest allowed instant at or before ``moment`` and not before ``not_before``, or None.

    A meeting reminder whose natural moment (24 hours before) falls on a Sunday is better sent on
    Friday afternoon than an hour before the meeting; this finds that Friday afternoon.
    """
    _require_aware(moment)
    _require_aware(not_before)
    local = moment.astimezone(window.tz).replace(tzinfo=None)
    floor = not_before.astimezone(window.tz).replace(tzinfo=None)
    day = local.date()
    while day >= floor.date():
        for start, end in reversed(_open_intervals(day, window, quiet)):
            if start > local:
                continue
            latest = min(local, end - timedelta(minutes=1))
            if latest < start or latest < floor:
                continue
            return latest.replace(tzinfo=window.tz).astimezone(UTC)
        day -= timedelta(days=1)
    return None


def window_decision(moment: datetime, quiet: QuietHours | None = None, window: SendWindow = DEFAULT_WINDOW) -> Decision:
    """Whether ``moment`` is inside the send window and outside quiet hours; why not, if not."""
    allowed_at = next_allowed_send(moment, quiet, window)
    if allowed_at is not None and allowed_at <= moment:
        return Decision(True, "ok")
    local = moment.astimezone(window.tz)
    day = local.date()
    if not window.day_open(day):
        reason = "holiday" if is_holiday(day) else "weekend"
    elif not (window.start <= local.time() < window.end):
        reason = "outside_hours"
    elif quiet is not None and quiet.contains(local.time()):
        reason = "quiet_hours"
    else:
        reason = "outside_hours"
    if allowed_at is None:
        return Decision(False, "no_send_time")
    return Decision(False, reason, allowed_at)


def cap_frees_at(
    sends: Iterable[datetime], at: datetime, cap: int = FREQUENCY_CAP, period: timedelta = CAP_PERIOD
) -> datetime:
    """The earliest instant ``t >= at`` with fewer than ``cap`` of ``sends`` in ``(t - period, t]``."""
    ordered = sorted(sends)
    moment = at
    while True:
        inside = [s for s in ordered if moment - period < s <= moment]
        if len(inside) < cap:
            return moment
        moment = inside[len(inside) - cap] + period


def cap_decision(
    sends: Iterable[datetime], now: datetime, cap: int = FREQUENCY_CAP, period: timedelta = CAP_PERIOD
) -> Decision:
    """The frequency cap alone: ``sends`` are the tenant's planned messages already out."""
    frees = cap_frees_at(sends, now, cap, period)
    return Decision(True, "ok") if frees <= now else Decision(False, "cap", frees)


def check_send(
    *,
    kind: OutboxKind,
    now: datetime,
    quiet: QuietHours | None,
    recent_planned: Sequence[datetime] = (),
    last_inbound_at: datetime | None = None,
    window: SendWindow = DEFAULT_WINDOW,
) -> Decision:
    """All send rules for one message at ``now``, from facts the caller has loaded.

    * ``reply`` and the tenant wrote within :data:`REPLY_FRESHNESS`: allowed at once;
    * otherwise the window and quiet hours;
    * ``planned`` only: the frequency cap over ``recent_planned`` (send moments of the tenant's
      other planned messages; see the module docstring). When the cap holds, ``retry_at`` is the
      first allowed instant after the cap frees.
    """
    _require_aware(now)
    if kind == OutboxKind.REPLY and last_inbound_at is not None and now - last_inbound_at <= REPLY_FRESHNESS:
        return Decision(True, "reply")
    decision = window_decision(now, quiet, window)
    if not decision.allowed or kind != OutboxKind.PLANNED:
        return decision
    capped = cap_decision(recent_planned, now)
    if capped.allowed:
        return decision
    assert capped.retry_at is not None
    return Decision(False, "cap", next_allowed_send(capped.retry_at, quiet, window))


def recent_planned_sends(
    session: Session,
    tenant_ids: Iterable[int],
    now: datetime,
    period: timedelta = CAP_PERIOD,
    exclude_outbox_ids: Iterable[int] = (),
) -> dict[int, list[datetime]]:
    """Send moments of planned messages per tenant within ``(now - period, now]`` (one query).

    ``exclude_outbox_ids``: the rows being sent right now (the dispatcher has already marked its
    claimed row *sending*, and a message must not count against itself).
    """
    ids = list(set(tenant_ids))
    if not ids:
        return {}
    sent_at = func.coalesce(Message.created_at, OutboxItem.updated_at, type_=UTCDateTime())
    query = (
        select(OutboxItem.tenant_id, sent_at)
        .outerjoin(Message, Message.id == OutboxItem.message_id)
        .where(
            OutboxItem.tenant_id.in_(ids),
            OutboxItem.kind == OutboxKind.PLANNED,
            OutboxItem.status.in_((OutboxStatus.SENDING, OutboxStatus.SENT)),
        )
    )
    excluded = list(exclude_outbox_ids)
    if excluded:
        query = query.where(OutboxItem.id.not_in(excluded))
    found: dict[int, list[datetime]] = {}
    for tenant_id, moment in session.execute(query):
        if moment is not None and now - period < moment <= now:
            found.setdefault(tenant_id, []).append(moment)
    return found


def frequency_cap_reached(session: Session, tenant_id: int, now: datetime) -> bool:
    """True when ``tenant_id`` already had :data:`FREQUENCY_CAP` planned messages in the period."""
    sends = recent_planned_sends(session, [tenant_id], now).get(tenant_id, [])
    return not cap_decision(sends, now).allowed


def last_inbound_at(session: Session, tenant_id: int) -> datetime | None:
    """When the tenant last wrote to us on any channel (index ``ix_messages_tenant_created``)."""
    return session.scalar(
        select(func.max(Message.created_at)).where(
            Message.tenant_id == tenant_id, Message.direction == Direction.INBOUND
        )
    )


def check_outbox_item(
    session: Session, item: OutboxItem, now: datetime, window: SendWindow = DEFAULT_WINDOW,
    tenant: Tenant | None = None,
) -> Decision:
    """:func:`check_send` for one outbox row, loading the facts it needs (for the dispatcher).

    Call it after claiming the row and before rendering; on ``allowed=False`` put the row back to
    *pending* with ``due_at = retry_at`` (or, for ``no_send_time``, fail it and open a staff task).
    Whether the row is still wanted at all (case paid, paused…) is :func:`scheduler.planner.
    withdraw_reason`'s question, asked first.
    """
    tenant = tenant if tenant is not None else session.get(Tenant, item.tenant_id)
    quiet = QuietHours.of_tenant(tenant) if tenant is not None else None
    recent: list[datetime] = []
    if item.kind == OutboxKind.PLANNED:
        exclude = [item.id] if item.id is not None else []
        recent = recent_planned_sends(session, [item.tenant_id], now, exclude_outbox_ids=exclude).get(
            item.tenant_id, []
        )
    inbound = last_inbound_at(session, item.tenant_id) if item.kind == OutboxKind.REPLY else None
    return check_send(
        kind=item.kind, now=now, quiet=quiet, recent_planned=recent, last_inbound_at=inbound, window=window
    )
