"""The outbox dispatcher: the only code that sends to tenants, and it sends each message once.

A row moves ``pending → sending → sent | failed`` (or back to ``pending`` to wait for a window or
a retry). Claiming is one ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``
statement, so any number of dispatchers can share the outbox on PostgreSQL (SQLite serialises
writers and ignores ``SKIP LOCKED``).

Never sent twice: before calling the provider the outbound message is written (status
``sending``) and committed. If the process dies after the provider accepted the message but before
the provider id was recorded, the row is found later in ``sending`` with an expired claim; it is
then *reconciled* — looked up at the provider where the provider allows it (Twilio keeps every
message) — and only re-sent if the provider has no trace of it. Where no lookup exists
(Telegram), a staff task asks a person to check instead of risking a double message. An ambiguous
failure (a 5xx or a timeout after the request went out) takes the same lookup path before retrying.

Never lost: transient errors (429 with Retry-After, 5xx, timeouts) are retried with exponential
backoff and jitter; permanent errors mark the address (opted out or unusable) and fall back to the
next channel of the row; when no channel is left, or retries are exhausted, a staff task
"reach in person" carries the message to a person. Retries end only after a failure that cannot
have sent the message: after an ambiguous last failure the row is looked up once more first, so
a person is never asked to deliver a message the tenant already has.

Fast without reordering: a claimed batch is sent by up to ``concurrency`` tasks at once, but the
rows of one tenant go one after the other in row order, so a reply never overtakes the menu it
answers. Each channel's rate limiter still caps the pace.

Channels come in from outside (:class:`ChannelDirectory`): ``bot`` builds them from the settings
and hands them over; the scheduler never constructs one.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from messages import catalogue
from messages.errors import MessagesError
from messages.render import RenderedMessage, render
from scheduler.outbound import (
    Button,
    ChannelError,
    ConfigurationError,
    PermanentAddressError,
    SentMessage,
    TransientError,
)
from scheduler.outbox_values import decode_values
from scheduler.rate_limit import RateLimiter
from storage.database import transaction
from storage.delivery import apply_pending_events, mark_unreachable
from storage.models import (
    Channel,
    ContactPoint,
    ConversationState,
    Direction,
    Message,
    MessageStatus,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Task,
    TaskKind,
    TemplateVersion,
    Tenant,
    UTCDateTime,
)
from storage.template_store import latest_published

log = logging.getLogger("bokvar.dispatcher")

DEFAULT_CHANNEL_ORDER = ("telegram", "sms")
OPT_OUT_CONFIRMATION_KEY = "opted_out"  # the one message an opted-out address still gets, once
REACH_IN_PERSON_PRIORITY = 15
RECONCILE_PRIORITY = 10


@dataclass(frozen=True)
class RuleDecision:
    allowed: bool
    reason: str = ""
    retry_at: datetime | None = None
    withdraw: bool = False


class Sender(Protocol):
    """One channel as the dispatcher uses it (``bot.channels`` implements it)."""

    async def send(self, to: str, text: str, buttons: tuple[Button, ...] = ()) -> SentMessage: ...


class ChannelDirectory(Protocol):
    """The channels this process can send through, by name ("sms", "telegram", "simulator").

    ``by_name`` answers None for a channel that is not configured; the simulator is always there.
    ``bot.channels.registry.Channels`` is the production implementation.
    """

    @property
    def simulator(self) -> Sender: ...

    def by_name(self, name: str) -> Sender | None: ...


def has_provider(channels: ChannelDirectory) -> bool:
    """True when a real provider is configured; otherwise everything goes to the simulator."""
    return any(channels.by_name(name) is not None for name in ("sms", "telegram"))


class SendRules(Protocol):
    """Send windows, quiet hours and caps, re-checked at send time because facts change."""

    def check(self, session: Session, item: OutboxItem, tenant: Tenant, now: datetime) -> RuleDecision: ...


class AllowAll:
    """For rows that are not planned outreach: a reply to a tenant who just wrote may go at once."""

    def check(self, session: Session, item: OutboxItem, tenant: Tenant, now: datetime) -> RuleDecision:
        return RuleDecision(True)


@dataclass
class DispatcherConfig:
    batch_size: int = 50
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 8
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 900.0
    concurrency: int = 8
    """Sends in flight at once (tenants in parallel, one tenant's rows in order). Twilio's client
    pools 10 connections per host; more would open and drop connections."""
    rates_per_second: dict[str, float] = field(
        default_factory=lambda: {"sms": 20.0, "telegram": 25.0, "simulator": 1000.0}
    )


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    deferred: int = 0
    failed: int = 0
    withdrawn: int = 0
    reconciled: int = 0
    errors: int = 0

    def add(self, other: DispatchStats) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class SendPlan:
    """Everything needed to call the provider, decided and committed before the call."""

    item_id: int
    message_id: int
    channel: str
    address: str
    text: str
    buttons: tuple[Button, ...] = ()


T = TypeVar("T")


def _is_sqlite(sessions: sessionmaker[Session]) -> bool:
    bind = sessions.kw.get("bind")
    return getattr(getattr(bind, "dialect", None), "name", None) == "sqlite"


def utc_now() -> datetime:
    return datetime.now(UTC)


# Statements the dispatcher runs for every message, built once: building a SQLAlchemy expression
# costs about as much as executing it on SQLite.
_OUTBOX: Table = OutboxItem.__table__  # type: ignore[assignment]
_ACTIVE_CONTACT_POINTS = (
    select(ContactPoint)
    .where(ContactPoint.tenant_id == bindparam("tenant_id"), ContactPoint.active.is_(True))
    .order_by(ContactPoint.priority, ContactPoint.id)
)
_OUTBOX_SENT = (
    update(_OUTBOX).where(_OUTBOX.c.id == bindparam("item_id"))
    .values(status=OutboxStatus.SENT, claimed_by=None, claimed_until=None, last_error=None,
            updated_at=bindparam("at"))
)


def claim_due_rows(
    session: Session, worker: str, now: datetime, limit: int, lease: timedelta
) -> list[tuple[int, int]]:
    """Claim up to ``limit`` due rows for ``worker`` in one statement; ``(id, tenant_id)`` by id."""
    skip_locked = " FOR UPDATE SKIP LOCKED" if session.get_bind().dialect.name == "postgresql" else ""
    statement = text(
        "UPDATE outbox SET status = 'sending', claimed_by = :worker, claimed_until = :until, "
        "attempts = attempts + 1, updated_at = :now "
        "WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND due_at <= :now "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= :now) "
        f"ORDER BY due_at, id LIMIT :limit{skip_locked}) RETURNING id, tenant_id"
    ).bindparams(
        # The column type stores times exactly as the ORM does (SQLite compares them as text).
        bindparam("until", type_=UTCDateTime()),
        bindparam("now", type_=UTCDateTime()),
    )
    params = {"worker": worker, "until": now + lease, "now": now, "limit": limit}
    return sorted((row[0], row[1]) for row in session.execute(statement, params))


def claim_due(session: Session, worker: str, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Claim up to ``limit`` due rows for ``worker`` in one statement; return their ids."""
    return [item_id for item_id, _tenant in claim_due_rows(session, worker, now, limit, lease)]


def by_tenant(rows: list[tuple[int, int]]) -> list[list[int]]:
    """Claimed ``(id, tenant_id)`` rows as one id list per tenant, each in id order."""
    groups: dict[int, list[int]] = {}
    for item_id, tenant_id in sorted(rows):
        groups.setdefault(tenant_id, []).append(item_id)
    return list(groups.values())


class Dispatcher:
    """Claims due outbox rows and sends them; one instance per process (any number of processes)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: ChannelDirectory,
        rules: SendRules,
        *,
        worker: str,
        config: DispatcherConfig | None = None,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        simulate_all: bool = False,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.rules = rules
        self.worker = worker
        self.config = config or DispatcherConfig()
        self.clock = clock
        self.rng = rng or random.Random()
        self.simulate_all = simulate_all
        self.limiters = {name: RateLimiter(rate) for name, rate in self.config.rates_per_second.items()}
        self._serial: asyncio.Lock | None = None
        self._serialise_writes = _is_sqlite(sessions)

    async def _db(self, work: Callable[..., T], *args: object) -> T:
        """Run database work in a thread. On SQLite, one unit at a time per dispatcher: SQLite has
        one writer anyway, and threads queueing on its lock sleep in its busy handler's growing
        steps (up to 100 ms) instead of taking turns; sends still overlap each other."""
        if not self._serialise_writes:
            return await asyncio.to_thread(work, *args)
        if self._serial is None:
            self._serial = asyncio.Lock()  # created on the running loop
        async with self._serial:
            return await asyncio.to_thread(work, *args)

    # ----------------------------------------------------------------- the loop

    async def run_once(self, *, reconcile: bool = True) -> DispatchStats:
        """Reconcile abandoned rows (unless a separate job does), then claim one batch and send it."""
        stats = await self.reconcile() if reconcile else DispatchStats()
        now = self.clock()

        def claim() -> list[tuple[int, int]]:
            with transaction(self.sessions) as session:
                return claim_due_rows(session, self.worker, now, self.config.batch_size, self.config.lease)

        rows = await self._db(claim)
        stats.claimed += len(rows)
        gate = asyncio.Semaphore(max(1, self.config.concurrency))

        async def send_in_order(ids: list[int]) -> DispatchStats:
            done = DispatchStats()
            async with gate:
                for item_id in ids:
                    done.add(await self._process_guarded(item_id))
            return done

        for result in await asyncio.gather(*(send_in_order(ids) for ids in by_tenant(rows))):
            stats.add(result)
        return stats

    async def reconcile(self) -> DispatchStats:
        """:meth:`reconcile_abandoned` off the event loop (the reconcile job calls this)."""
        return await self._db(self.reconcile_abandoned)

    async def drain(self, max_rounds: int = 10_000) -> DispatchStats:
        """Run until nothing is due (tests and ``bokvar worker --once``)."""
        total = DispatchStats()
        for _ in range(max_rounds):
            stats = await self.run_once()
            total.add(stats)
            if stats.claimed == 0 and stats.reconciled == 0:
                break
        return total

    # ------------------------------------------------------------ one outbox row

    async def _process_guarded(self, item_id: int) -> DispatchStats:
        """:meth:`process`, but one row's unexpected failure (a bug, a lost database) does not stop
        the rows of other tenants. The row stays claimed in ``sending``: once its lease ends it is
        reconciled like a crashed dispatcher's row, never re-sent blindly."""
        try:
            return await self.process(item_id)
        except Exception as error:  # logged without its message, which may hold personal data
            log.error("outbox row %s failed in the dispatcher (%s); it will be reconciled after its lease",
                      item_id, type(error).__name__)
            return DispatchStats(errors=1)

    async def process(self, item_id: int) -> DispatchStats:
        stats = DispatchStats()
        tried: set[str] = set()
        while True:
            plan = await self._db(self._prepare, item_id, tried, stats)
            if plan is None:
                return stats
            limiter = self.limiters.get(plan.channel)
            if limiter is not None:
                await limiter.acquire()
            channel = self._channel(plan.channel)
            try:
                sent = await channel.send(plan.address, plan.text, plan.buttons)
            except PermanentAddressError as error:
                await self._db(self._permanent_failure, plan, error)
                tried.add(plan.channel)
                continue  # fall back to the next channel of the row
            except TransientError as error:
                await self._db(self._transient_failure, plan, error, stats)
                return stats
            except ChannelError as error:
                await self._db(self._message_refused, plan, error, stats)
                return stats
            await self._db(self._record_sent, plan, sent)
            stats.sent += 1
            return stats

    def _channel(self, name: str):  # noqa: ANN202 - one of the channel classes
        if self.simulate_all:
            return self.channels.simulator
        channel = self.channels.by_name(name)
        if channel is None:
            raise ConfigurationError(f"channel {name} is not configured")
        return channel

    def _usable(self, name: str) -> bool:
        return self.simulate_all or self.channels.by_name(name) is not None

    def _pick_contact(
        self, session: Session, item: OutboxItem, tried: set[str]
    ) -> ContactPoint | None:
        order = item.channel_order or list(DEFAULT_CHANNEL_ORDER)
        points = session.scalars(_ACTIVE_CONTACT_POINTS, {"tenant_id": item.tenant_id}).all()
        may_reach_opted_out = item.template_key == OPT_OUT_CONFIRMATION_KEY
        for name in order:
            if name in tried or not self._usable(name):
                continue
            for point in points:
                if point.channel.value == name and (not point.opted_out or may_reach_opted_out):
                    return point
        return None

    def _render(self, session: Session, item: OutboxItem, language: str) -> tuple[RenderedMessage, int | None]:
        published: dict[tuple[str, str], TemplateVersion | None] = {}

        def latest(key: str, lang: str) -> TemplateVersion | None:
            if (key, lang) not in published:  # the renderer and the version number ask the same question
                published[key, lang] = latest_published(session, key, lang)
            return published[key, lang]

        def lookup(key: str, lang: str) -> str | None:
            version = latest(key, lang)
            return version.body if version is not None else catalogue.default_text(key, lang)

        assert item.template_key is not None
        rendered = render(item.template_key, language, decode_values(item.template_key, item.values), lookup=lookup)
        version = latest(item.template_key, rendered.language_used)
        return rendered, version.version if version is not None else None

    def _prepare(self, item_id: int, tried: set[str], stats: DispatchStats) -> SendPlan | None:
        now = self.clock()
        with transaction(self.sessions) as session:
            item = session.get(OutboxItem, item_id)
            if item is None or item.status is not OutboxStatus.SENDING or item.claimed_by != self.worker:
                return None
            tenant = session.get(Tenant, item.tenant_id)
            assert tenant is not None
            rules = self.rules if item.kind is OutboxKind.PLANNED else AllowAll()
            decision = rules.check(session, item, tenant, now)
            if not decision.allowed:
                self._release(item, now, decision)
                if decision.withdraw:
                    stats.withdrawn += 1
                else:
                    stats.deferred += 1
                return None
            point = self._pick_contact(session, item, tried)
            if point is None:
                self._give_up(session, item, now, "no usable channel left")
                stats.failed += 1
                return None
            previous = session.get(Message, item.message_id) if item.message_id else None
            unsettled = previous is not None and previous.status is MessageStatus.SENDING and not previous.provider_id
            if unsettled:
                assert previous is not None
                try:
                    settled = self._reconcile_message(session, item, previous, now)
                except ChannelError as error:  # the lookup itself failed: ask again later, send nothing
                    self._retry_later(item, now, error)
                    stats.retried += 1
                    return None
                if settled:
                    stats.reconciled += 1
                    return None
            if item.attempts > self.config.max_attempts:
                # Only reached after an ambiguous last failure whose lookup found nothing.
                self._give_up(session, item, now, f"gave up after {item.attempts - 1} attempts")
                stats.failed += 1
                return None
            language = self._language(session, tenant)
            if item.body is not None:
                body, key, version, language_used, segments = item.body, None, None, language, None
            else:
                try:
                    rendered, version = self._render(session, item, language)
                except (MessagesError, KeyError, TypeError, ValueError) as error:
                    self._give_up(session, item, now, f"the message could not be written: {error}")
                    stats.failed += 1
                    return None
                body, key, language_used = rendered.text, item.template_key, rendered.language_used
                segments = rendered.segments
            channel_name = Channel.SIMULATOR if self.simulate_all else point.channel
            message = Message(
                tenant_id=tenant.id, case_id=item.case_id, contact_point_id=point.id, direction=Direction.OUTBOUND,
                channel=channel_name, body=body, language=language_used, template_key=key,
                template_version=version, status=MessageStatus.SENDING, segments=segments, created_at=now,
            )
            session.add(message)
            session.flush()
            item.message_id = message.id
            buttons = tuple(Button(**button) for button in (item.values or {}).get("_buttons", []))
            return SendPlan(item.id, message.id, point.channel.value, point.address, body, buttons)

    @staticmethod
    def _language(session: Session, tenant: Tenant) -> str:
        state = session.get(ConversationState, tenant.id)
        return (state.language if state is not None and state.language else None) or tenant.preferred_language

    def _release(self, item: OutboxItem, now: datetime, decision: RuleDecision) -> None:
        item.claimed_by = None
        item.claimed_until = None
        if decision.withdraw:
            item.status = OutboxStatus.WITHDRAWN
            item.withdrawn_reason = decision.reason[:64]
            return
        item.status = OutboxStatus.PENDING
        item.attempts = max(0, item.attempts - 1)  # waiting for a window is not a failed attempt
        item.due_at = decision.retry_at or now + timedelta(minutes=15)
        item.last_error = decision.reason

    def _record_sent(self, plan: SendPlan, sent: SentMessage) -> None:
        """Record the provider id, apply callbacks that overtook us, close the row.

        :func:`storage.delivery.apply_pending_events` runs every time, not only when an early callback
        is visible: on PostgreSQL it takes the lock that orders this transaction against a callback
        being stored at this very moment. The outbox row is closed with a prebuilt UPDATE; loading
        it would only cost time (on SQLite, time the write lock is held)."""
        now = self.clock()
        with transaction(self.sessions) as session:
            message = session.get(Message, plan.message_id)
            assert message is not None
            message.provider_id = sent.provider_id
            message.status = sent.status
            message.status_updated_at = now
            if sent.segments:
                message.segments = sent.segments
            apply_pending_events(session, message, now)
            session.execute(_OUTBOX_SENT, {"item_id": plan.item_id, "at": now})

    def _permanent_failure(self, plan: SendPlan, error: PermanentAddressError) -> None:
        now = self.clock()
        with transaction(self.sessions) as session:
            message = session.get(Message, plan.message_id)
            assert message is not None
            message.status = MessageStatus.FAILED
            message.error_code = error.code
            point = session.get(ContactPoint, message.contact_point_id) if message.contact_point_id else None
            if point is not None:
                source = f"{plan.channel}_{error.code or 'refused'}"
                mark_unreachable(point, error.opted_out, source, now)

    def _backoff(self, attempts: int, retry_after: float | None) -> timedelta:
        exponential = min(self.config.backoff_cap_seconds, self.config.backoff_base_seconds * 2 ** max(0, attempts - 1))
        delay = exponential * self.rng.uniform(0.5, 1.5)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return timedelta(seconds=delay)

    def _retry_later(self, item: OutboxItem, now: datetime, error: ChannelError) -> None:
        item.status = OutboxStatus.PENDING
        item.claimed_by = None
        item.claimed_until = None
        item.last_error = str(error)[:500]
        item.next_attempt_at = now + self._backoff(item.attempts, getattr(error, "retry_after", None))

    def _transient_failure(self, plan: SendPlan, error: TransientError, stats: DispatchStats) -> None:
        now = self.clock()
        with transaction(self.sessions) as session:
            item = session.get(OutboxItem, plan.item_id)
            message = session.get(Message, plan.message_id)
            assert item is not None and message is not None
            message.error_code = error.code
            if not error.maybe_sent:
                message.status = MessageStatus.FAILED
            # else: the message stays "sending" without a provider id, so the next attempt looks
            # it up at the provider before sending again, and so does the give-up (in _prepare).
            if item.attempts >= self.config.max_attempts and not error.maybe_sent:
                self._give_up(session, item, now, f"gave up after {item.attempts} attempts: {error}")
                stats.failed += 1
                return
            self._retry_later(item, now, error)
            stats.retried += 1

    def _message_refused(self, plan: SendPlan, error: ChannelError, stats: DispatchStats) -> None:
        now = self.clock()
        with transaction(self.sessions) as session:
            item = session.get(OutboxItem, plan.item_id)
            message = session.get(Message, plan.message_id)
            assert item is not None and message is not None
            message.status = MessageStatus.FAILED
            message.error_code = error.code
            self._give_up(session, item, now, f"the provider refused the message: {error}")
            stats.failed += 1

    def _give_up(self, session: Session, item: OutboxItem, now: datetime, reason: str) -> None:
        """No channel can carry this message: a person must (never silently dropped)."""
        item.status = OutboxStatus.FAILED
        item.claimed_by = None
        item.claimed_until = None
        item.last_error = reason[:500]
        session.add(
            Task(
                kind=TaskKind.REACH_IN_PERSON, priority=REACH_IN_PERSON_PRIORITY, tenant_id=item.tenant_id,
                case_id=item.case_id, message_id=item.message_id, dedupe_key=f"outbox:{item.id}:reach",
                summary=f"A message could not be delivered ({item.template_key or 'staff reply'}): {reason}. "
                "Reach the tenant by phone or a visit.",
                due_at=now + timedelta(days=1), created_at=now,
            )
        )

    # ------------------------------------------------------------ reconciliation

    def _reconcile_message(self, session: Session, item: OutboxItem, message: Message, now: datetime) -> bool:
        """Settle a message that may have reached the provider; True if the row is now settled.

        Returns False when the provider has no trace of it: then it is safe to send (again).
        """
        channel_name = message.channel.value
        channel = None if self.simulate_all else self.channels.by_name(channel_name)
        finder = getattr(channel, "find_sent", None)
        point = session.get(ContactPoint, message.contact_point_id) if message.contact_point_id else None
        if channel_name == Channel.SIMULATOR.value or (finder is None and channel is None):
            message.status = MessageStatus.FAILED
            return False
        if finder is None or point is None:
            message.status = MessageStatus.FAILED
            message.error_code = "unknown"
            item.status = OutboxStatus.FAILED
            item.claimed_by = None
            item.last_error = "unknown whether the provider accepted it"
            session.add(
                Task(
                    kind=TaskKind.RECONCILE_SEND, priority=RECONCILE_PRIORITY, tenant_id=item.tenant_id,
                    case_id=item.case_id, message_id=message.id, dedupe_key=f"outbox:{item.id}:reconcile",
                    summary=f"Bokvar may or may not have sent a message on {channel_name} (the sender stopped "
                    "mid-way). Check with the tenant before sending it again.",
                    due_at=now + timedelta(hours=4), created_at=now,
                )
            )
            return True
        found = finder(point.address, message.body, message.created_at)
        if found is not None and self._recorded_elsewhere(session, message, found.provider_id):
            # The same text to the same number from another row (a second "menu"): that one is not
            # ours, and recording its SID twice would break the unique (channel, provider_id).
            found = None
        if found is None:
            message.status = MessageStatus.FAILED
            return False
        message.provider_id = found.provider_id
        message.status = found.status
        message.status_updated_at = now
        apply_pending_events(session, message, now)
        item.status = OutboxStatus.SENT
        item.claimed_by = None
        item.claimed_until = None
        return True

    @staticmethod
    def _recorded_elsewhere(session: Session, message: Message, provider_id: str) -> bool:
        other = session.scalar(
            select(Message.id).where(
                Message.channel == message.channel, Message.provider_id == provider_id, Message.id != message.id
            )
        )
        return other is not None

    def reconcile_abandoned(self) -> DispatchStats:
        """Rows left in ``sending`` by a dispatcher that died: settle them, never re-send blindly."""
        stats = DispatchStats()
        now = self.clock()
        with transaction(self.sessions) as session:
            abandoned = session.scalars(
                select(OutboxItem).where(OutboxItem.status == OutboxStatus.SENDING, OutboxItem.claimed_until < now)
                .order_by(OutboxItem.id).limit(self.config.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            for item in abandoned:
                message = session.get(Message, item.message_id) if item.message_id else None
                if message is not None and message.provider_id is not None:
                    item.status = OutboxStatus.SENT  # sent and recorded; only the row was not closed
                elif message is not None and message.status is MessageStatus.SENDING:
                    try:
                        settled = self._reconcile_message(session, item, message, now)
                    except ChannelError as error:  # the provider cannot answer now: look again next time
                        log.warning("outbox row %s: the provider lookup failed (%s); retrying later",
                                    item.id, type(error).__name__)
                        continue
                    if not settled:
                        item.status = OutboxStatus.PENDING  # the provider never got it: send it
                else:
                    item.status = OutboxStatus.PENDING  # died before anything left
                item.claimed_by = None
                item.claimed_until = None
                stats.reconciled += 1
        return stats

