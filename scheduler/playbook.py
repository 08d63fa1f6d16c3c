"""Playbooks: which case gets which message or staff task, and when, as data.

A playbook is a list of *steps*. Each step sits at an offset from one of a case's dates (its
*anchor*: rent due date, notice served, recovery deadline, Kronofogden dates, eviction date, or a
booked meeting's start), has *conditions* (still unpaid, no reply since the last step, no consent
yet, …), and does one or both of: plan a message (a template key and a channel preference) and
open a staff task ("phone the tenant", "knock on the door"). The default playbook,
``scheduler/playbooks/default.toml``, follows the timeline table in ``shared/domain.md``; a
landlord can ship another file without touching code.

**Tracks, and cases first seen late.** Steps are grouped in *tracks* (the arrears messages, the
notice messages, the staff escalation of a notice, …). At any moment a track has at most one
*current* step: the latest one whose moment has come. Only the current step may fire; earlier
steps that never fired are *superseded*. So a case imported on day U+9 gets the U+7 reminder, not
the notice message, the consent request and the reminder at once; and a planner that was down
for two days catches up with one message per track, not a burst. A current step whose conditions
fail now is evaluated again on every run while it stays current, so it fires if they come true
(a consent withdrawn, a reply still missing after the wait). A step may also expire: ``until``
names an anchor through whose day the step stays valid (reminders of a recovery period end on
its deadline), ``valid_days`` counts days after its own moment.

**Values.** What the planner writes into ``OutboxItem.values`` is JSON, typed by the template's
declared placeholders (``messages.catalogue``), under the placeholder's name:

=====================  =========================================================================
placeholder type       JSON value
=====================  =========================================================================
money                  int, öre (``845000`` is 8 450,00 kr), exactly as on the case
date                   ``"YYYY-MM-DD"``
deadline, datetime     ISO 8601 with the Stockholm UTC offset, ``"2026-06-22T23:59:00+02:00"``
slots                  list of such ISO datetimes
text, link             str
=====================  =========================================================================

:func:`decode_values` turns them back into ``int`` / ``date`` / aware ``datetime`` for
``messages.render``; the dispatcher calls it. Deadlines are dates on the notice; they are sent
as that day at ``deadline_time`` (23:59 by default) in Stockholm, as the catalogue's sample does.

Everything here is pure: :func:`evaluate_case` takes a :class:`CaseFacts` snapshot and the time,
and says which steps are current and whether they may fire. Loading the facts and writing rows is
the planner's job.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from messages import catalogue
from messages.catalogue import PlaceholderType
from messages.errors import UnknownKeyError
from scheduler.calendar import STOCKHOLM, at_local, legal_deadline, previous_business_day, recovery_deadline
from storage.models import CaseOutcome, Channel, TaskKind

DEFAULT_PLAYBOOK = "default.toml"

# --- anchors -----------------------------------------------------------------------------------

DATE_ANCHORS: tuple[str, ...] = (
    "rent_due",
    "notice_served",
    "recovery_deadline",
    "kronofogden_applied",
    "kronofogden_response_deadline",
    "eviction",
)
MEETING_ANCHOR = "meeting"
ANCHORS: tuple[str, ...] = (*DATE_ANCHORS, MEETING_ANCHOR)


class PlaybookError(ValueError):
    """A playbook file that cannot be used; the message names the step and the field."""


# --- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A staff task a step opens, besides its message or instead of one.

    ``when`` adds conditions for the task only (the step's own conditions apply too), e.g. a final
    reminder goes to everyone unpaid, but the phone call only to those who did not answer.
    """

    kind: TaskKind
    priority: int
    summary: str
    when: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One point on the timeline. ``moment`` = anchor day + ``offset_days`` at ``at`` (Stockholm),
    or, for meetings, the meeting's start + ``offset_hours``.

    ``on_day_off = "earlier"`` moves a moment that falls on a weekend or holiday to the business
    day before: a "few days left" reminder is useless if the send window pushes it to the deadline
    itself. By default (``"later"``) the send window moves it forward.
    """

    id: str
    track: str
    anchor: str
    offset_days: int = 0
    offset_hours: int = 0
    at: time = time(9, 0)
    when: tuple[str, ...] = ()
    template: str | None = None
    channels: tuple[str, ...] = ()
    task: TaskSpec | None = None
    until: str | None = None
    valid_days: int | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    on_day_off: str = "later"
    order: int = 0

    @property
    def is_meeting_step(self) -> bool:
        return self.anchor == MEETING_ANCHOR


@dataclass(frozen=True, slots=True)
class Playbook:
    """A validated playbook: settings plus steps in file order."""

    name: str
    version: int
    channels: tuple[str, ...]
    reply_wait: timedelta
    deadline_time: time
    kronofogden_response_days: int
    meeting_lead: timedelta
    meeting_min_notice: timedelta
    reach_in_person_priority: int
    constants: Mapping[str, str]
    steps: tuple[Step, ...]
    by_id: Mapping[str, Step] = field(default_factory=dict)
    case_steps: tuple[Step, ...] = ()
    meeting_steps: tuple[Step, ...] = ()

    def step(self, step_id: str) -> Step | None:
        return self.by_id.get(step_id)


# --- facts and conditions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """Everything the conditions and values of a case need, loaded in batches by the planner.

    ``channels`` are the tenant's usable channels (active, not opted out); ``opted_out_channels``
    those the tenant stopped. ``last_planned_sent_at`` is when the latest planned message of this
    case went out, ``last_inbound_at`` when the tenant last wrote (any channel).
    """

    case_id: int
    case_ref: str
    tenant_id: int
    tenant_ref: str
    amount_overdue_ore: int
    rent_due_date: date | None = None
    notice_served_on: date | None = None
    recovery_deadline: date | None = None
    kronofogden_applied_on: date | None = None
    eviction_date: date | None = None
    outcome: str | None = None
    paid_at: datetime | None = None
    paused_until: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    municipality: str | None = None
    language: str = "sv"
    channels: tuple[str, ...] = ()
    opted_out_channels: tuple[str, ...] = ()
    has_consent: bool = False
    meeting_booked: bool = False
    last_inbound_at: datetime | None = None
    last_planned_sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Context:
    """What a condition may look at: the facts, the step's moment and its predecessor's, the time."""

    facts: CaseFacts
    playbook: Playbook
    now: datetime
    moment: datetime
    previous_moment: datetime | None


@dataclass(frozen=True, slots=True)
class Condition:
    """A named test; ``failure`` is the reason recorded when it fails (skip or withdrawal)."""

    name: str
    test: Callable[[Context], bool]
    failure: Callable[[Context], str]
    description: str


def _unpaid(ctx: Context) -> bool:
    f = ctx.facts
    return f.closed_at is None and f.paid_at is None and f.outcome is None


def _paid_reason(ctx: Context) -> str:
    f = ctx.facts
    if f.paid_at is not None or f.outcome == CaseOutcome.PAID:
        return "paid"
    return "closed" if f.closed_at is not None else "resolved"


def _no_reply_since_last_step(ctx: Context) -> bool:
    since = ctx.previous_moment or ctx.facts.opened_at
    last = ctx.facts.last_inbound_at
    return last is None or since is None or last < since


def _unanswered(ctx: Context) -> bool:
    sent, last = ctx.facts.last_planned_sent_at, ctx.facts.last_inbound_at
    if sent is None or ctx.now - sent < ctx.playbook.reply_wait:
        return False
    return last is None or last < sent


def _unanswered_reason(ctx: Context) -> str:
    sent, last = ctx.facts.last_planned_sent_at, ctx.facts.last_inbound_at
    if sent is None:
        return "no_message_sent_yet"
    if last is not None and last >= sent:
        return "replied"
    return "waiting_for_reply"


def _const(reason: str) -> Callable[[Context], str]:
    return lambda _ctx: reason


CONDITIONS: Mapping[str, Condition] = MappingProxyType(
    {
        c.name: c
        for c in (
            Condition("unpaid", _unpaid, _paid_reason, "case open, no paid_at, no outcome"),
            Condition(
                "notice_not_served", lambda c: c.facts.notice_served_on is None, _const("notice_served"),
                "no notice of termination yet (the arrears track ends when one is served)",
            ),
            Condition(
                "not_at_kronofogden", lambda c: c.facts.kronofogden_applied_on is None, _const("kronofogden"),
                "the landlord has not applied to Kronofogden",
            ),
            Condition(
                "no_reply_since_last_step", _no_reply_since_last_step, _const("replied"),
                "the tenant has not written since the previous step of this track (or since the case opened)",
            ),
            Condition(
                "unanswered", _unanswered, _unanswered_reason,
                "a planned message went out at least reply_wait_hours ago and the tenant has not written since",
            ),
            Condition("no_consent", lambda c: not c.facts.has_consent, _const("consent_given"),
                      "no valid consent to share with social services"),
            Condition("has_consent", lambda c: c.facts.has_consent, _const("no_consent"),
                      "a valid consent to share with social services"),
            Condition("meeting_booked", lambda c: c.facts.meeting_booked, _const("no_meeting"),
                      "a meeting is booked and has not started"),
            Condition("meeting_not_booked", lambda c: not c.facts.meeting_booked, _const("meeting_booked"),
                      "no upcoming meeting is booked"),
            Condition("has_telegram", lambda c: Channel.TELEGRAM in c.facts.channels, _const("no_telegram"),
                      "the tenant has a linked, usable Telegram chat"),
            Condition("no_telegram", lambda c: Channel.TELEGRAM not in c.facts.channels, _const("has_telegram"),
                      "the tenant has no usable Telegram chat"),
        )
    }
)


def first_failure(names: Iterable[str], ctx: Context) -> str | None:
    """The failure reason of the first condition in ``names`` that does not hold, or None."""
    for name in names:
        condition = CONDITIONS[name]
        if not condition.test(ctx):
            return condition.failure(ctx)
    return None


# --- anchors and moments -----------------------------------------------------------------------


def case_recovery_deadline(facts: CaseFacts) -> date | None:
    """The stored deadline (it is the notice's), else the one computed from the service date."""
    if facts.recovery_deadline is not None:
        return facts.recovery_deadline
    if facts.notice_served_on is not None:
        return recovery_deadline(facts.notice_served_on)
    return None


def anchor_date(anchor: str, facts: CaseFacts, playbook: Playbook) -> date | None:
    """The day ``anchor`` names for this case, or None when the case has no such date yet."""
    if anchor == "rent_due":
        return facts.rent_due_date
    if anchor == "notice_served":
        return facts.notice_served_on
    if anchor == "recovery_deadline":
        return case_recovery_deadline(facts)
    if anchor == "kronofogden_applied":
        return facts.kronofogden_applied_on
    if anchor == "kronofogden_response_deadline":
        if facts.kronofogden_applied_on is None:
            return None
        return legal_deadline(facts.kronofogden_applied_on + timedelta(days=playbook.kronofogden_response_days))
    if anchor == "eviction":
        return facts.eviction_date
    raise PlaybookError(f"unknown anchor {anchor!r}")


def step_moment(step: Step, facts: CaseFacts, playbook: Playbook) -> datetime | None:
    """When a case step is due (aware, UTC), or None if its anchor date is missing."""
    anchor = anchor_date(step.anchor, facts, playbook)
    if anchor is None:
        return None
    day = anchor + timedelta(days=step.offset_days)
    if step.on_day_off == "earlier":
        day = previous_business_day(day)
    return at_local(day, step.at)


def step_expires_at(step: Step, moment: datetime, facts: CaseFacts, playbook: Playbook) -> datetime | None:
    """The first instant the step is no longer valid, or None if it never expires."""
    ends: list[datetime] = []
    if step.valid_days is not None:
        last = moment.astimezone(STOCKHOLM).date() + timedelta(days=step.valid_days)
        ends.append(at_local(last + timedelta(days=1), time(0, 0)))
    if step.until is not None:
        day = anchor_date(step.until, facts, playbook)
        if day is not None:
            ends.append(at_local(day + timedelta(days=1), time(0, 0)))
    return min(ends) if ends else None


# --- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepDue:
    """A track's current step for one case, and whether its message and task may go now.

    ``blocked`` is the reason the step does nothing (a failed step condition), ``task_blocked``
    the reason its task is not opened (the step's or the task's own conditions). Channels and send
    windows are the planner's concern.
    """

    step: Step
    moment: datetime
    expires_at: datetime | None
    blocked: str | None
    task_blocked: str | None


Tracks = dict[str, list[tuple[datetime, Step]]]


def case_tracks(playbook: Playbook, facts: CaseFacts) -> Tracks:
    """Each track's steps with their moments for this case, in time order (anchors missing: left out).

    Pass the result to :func:`evaluate_case` and :func:`recheck_step` to compute it once per case.
    """
    return _track_moments(playbook, facts)


def _track_moments(playbook: Playbook, facts: CaseFacts) -> Tracks:
    tracks: dict[str, list[tuple[datetime, Step]]] = {}
    for step in playbook.case_steps:
        moment = step_moment(step, facts, playbook)
        if moment is not None:
            tracks.setdefault(step.track, []).append((moment, step))
    for entries in tracks.values():
        entries.sort(key=lambda entry: (entry[0], entry[1].order))
    return tracks


def _judge(step: Step, moment: datetime, previous: datetime | None, facts: CaseFacts,
           playbook: Playbook, now: datetime) -> StepDue:
    expires = step_expires_at(step, moment, facts, playbook)
    ctx = Context(facts, playbook, now, moment, previous)
    if facts.paused_until is not None and facts.paused_until > now:
        blocked: str | None = "paused"
    elif facts.closed_at is not None:
        blocked = "closed"
    else:
        blocked = first_failure(step.when, ctx)
    task_blocked = blocked
    if step.task is not None and task_blocked is None:
        task_blocked = first_failure(step.task.when, ctx)
    return StepDue(step, moment, expires, blocked, task_blocked)


def evaluate_case(playbook: Playbook, facts: CaseFacts, now: datetime, tracks: Tracks | None = None) -> list[StepDue]:
    """The current step of every track for this case at ``now`` (expired ones left out)."""
    due: list[StepDue] = []
    for entries in (tracks if tracks is not None else _track_moments(playbook, facts)).values():
        current = None
        for index, (moment, _step) in enumerate(entries):
            if moment <= now:
                current = index
        if current is None:
            continue
        moment, step = entries[current]
        previous = entries[current - 1][0] if current > 0 else None
        judged = _judge(step, moment, previous, facts, playbook, now)
        if judged.expires_at is not None and judged.expires_at <= now:
            continue
        due.append(judged)
    return due


def recheck_step(
    playbook: Playbook, step: Step, facts: CaseFacts, now: datetime, tracks: Tracks | None = None
) -> str | None:
    """Why an already planned, still pending message of ``step`` should now be withdrawn, or None.

    Facts change between planning and sending: a payment, a pause, a reply, a passed deadline.
    The step need not be current any more (a later step may have become due meanwhile); what
    matters is whether its own conditions still hold and whether it has expired.
    """
    entries = (tracks if tracks is not None else _track_moments(playbook, facts)).get(step.track, [])
    for index, (moment, candidate) in enumerate(entries):
        if candidate.id != step.id:
            continue
        previous = entries[index - 1][0] if index > 0 else None
        judged = _judge(step, moment, previous, facts, playbook, now)
        if judged.blocked is not None:
            return judged.blocked
        if judged.expires_at is not None and judged.expires_at <= now:
            return "expired"
        return None
    return "expired"  # its anchor date is gone (e.g. the notice date was removed)


def channel_order(step: Step, playbook: Playbook, facts: CaseFacts) -> list[str]:
    """The step's channel preference, keeping only channels the tenant can be reached on."""
    preference = step.channels or playbook.channels
    return [channel for channel in preference if channel in facts.channels]


def unreachable_reason(facts: CaseFacts) -> str:
    """Why no channel is left: the tenant said stop somewhere (opted_out), or we have no address."""
    return "opted_out" if facts.opted_out_channels else "no_contact"


# --- values ------------------------------------------------------------------------------------

DEFAULT_SOURCES: Mapping[str, str] = MappingProxyType(
    {
        "amount": "case.amount_overdue",
        "due_date": "case.rent_due_date",
        "deadline": "case.recovery_deadline",
        "eviction_date": "case.eviction_date",
        "municipality": "tenant.municipality",
        "landlord": "constant.landlord",
        "phone": "constant.phone",
        "meeting_time": "meeting.starts_at",
        "meeting_place": "meeting.location",
    }
)
SOURCES: tuple[str, ...] = (
    "case.amount_overdue",
    "case.rent_due_date",
    "case.recovery_deadline",
    "case.kronofogden_response_deadline",
    "case.eviction_date",
    "tenant.municipality",
    "meeting.starts_at",
    "meeting.location",
)


@dataclass(frozen=True, slots=True)
class MeetingFacts:
    """A booked meeting, for meeting steps and their values."""

    meeting_id: int
    tenant_id: int
    tenant_ref: str
    case_id: int | None
    starts_at: datetime
    location: str | None
    channels: tuple[str, ...] = ()
    opted_out_channels: tuple[str, ...] = ()


def _deadline_at(day: date | None, playbook: Playbook) -> datetime | None:
    return None if day is None else datetime.combine(day, playbook.deadline_time, tzinfo=STOCKHOLM)


def _source_value(source: str, playbook: Playbook, facts: CaseFacts | None, meeting: MeetingFacts | None) -> Any:
    if source.startswith("constant."):
        return playbook.constants[source.removeprefix("constant.")]
    if source.startswith("meeting."):
        if meeting is None:
            return None
        if source == "meeting.starts_at":
            return meeting.starts_at
        return meeting.location or playbook.constants.get("meeting_place")
    if facts is None:
        return None
    return {
        "case.amount_overdue": lambda: facts.amount_overdue_ore,
        "case.rent_due_date": lambda: facts.rent_due_date,
        "case.recovery_deadline": lambda: _deadline_at(case_recovery_deadline(facts), playbook),
        "case.kronofogden_response_deadline": lambda: _deadline_at(
            anchor_date("kronofogden_response_deadline", facts, playbook), playbook
        ),
        "case.eviction_date": lambda: facts.eviction_date,
        "tenant.municipality": lambda: facts.municipality,
    }[source]()


def step_values(
    step: Step, playbook: Playbook, facts: CaseFacts | None = None, meeting: MeetingFacts | None = None
) -> tuple[dict[str, Any], list[str]]:
    """The step's template values encoded for JSON, and the placeholders that have no value."""
    if step.template is None:
        return {}, []
    values: dict[str, Any] = {}
    missing: list[str] = []
    for name, ptype in catalogue.spec(step.template).placeholders.items():
        source = step.sources.get(name, DEFAULT_SOURCES.get(name, ""))
        value = _source_value(source, playbook, facts, meeting)
        if value is None or value == "":
            missing.append(name)
            continue
        values[name] = encode_value(ptype, value)
    return values, missing


def encode_value(ptype: PlaceholderType, value: Any) -> Any:
    """One typed value as JSON (see the module docstring for the convention)."""
    if ptype == PlaceholderType.MONEY:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("money must be an int number of öre")
        return value
    if ptype == PlaceholderType.DATE:
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError("a date placeholder needs a datetime.date")
        return value.isoformat()
    if ptype in (PlaceholderType.DEADLINE, PlaceholderType.DATETIME):
        return _encode_moment(value)
    if ptype == PlaceholderType.SLOTS:
        return [_encode_moment(slot) for slot in value]
    return str(value)


def _encode_moment(value: Any) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TypeError("a moment must be an aware datetime")
    return value.astimezone(STOCKHOLM).isoformat()


def decode_values(template_key: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``OutboxItem.values`` back to the typed values ``messages.render`` expects.

    Unknown names are passed through unchanged, so render's own validation reports them.
    """
    placeholders = catalogue.spec(template_key).placeholders
    typed: dict[str, Any] = {}
    for name, raw in values.items():
        ptype = placeholders.get(name)
        if ptype == PlaceholderType.DATE:
            typed[name] = date.fromisoformat(raw)
        elif ptype in (PlaceholderType.DEADLINE, PlaceholderType.DATETIME):
            typed[name] = datetime.fromisoformat(raw)
        elif ptype == PlaceholderType.SLOTS:
            typed[name] = [datetime.fromisoformat(item) for item in raw]
        else:
            typed[name] = raw
    return typed


# --- loading -----------------------------------------------------------------------------------


def _clock(raw: object, where: str) -> time:
    try:
        return time.fromisoformat(str(raw))
    except ValueError:
        raise PlaybookError(f"{where}: {raw!r} is not a time like \"09:00\"") from None


def _strings(raw: object, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str) or not isinstance(raw, Sequence) or not all(isinstance(x, str) for x in raw):
        raise PlaybookError(f"{where}: must be a list of strings")
    return tuple(raw)


def _channels(raw: object, where: str) -> tuple[str, ...]:
    names = _strings(raw, where)
    known = {c.value for c in Channel}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PlaybookError(f"{where}: unknown channel(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return names


def _conditions(raw: object, where: str) -> tuple[str, ...]:
    names = _strings(raw, where)
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        raise PlaybookError(f"{where}: unknown condition(s) {', '.join(unknown)}; known: {', '.join(CONDITIONS)}")
    return names


def _task(raw: object, where: str) -> TaskSpec:
    if not isinstance(raw, Mapping):
        raise PlaybookError(f"{where}: must be a table")
    try:
        kind = TaskKind(raw.get("kind"))
    except ValueError:
        raise PlaybookError(f"{where}.kind: {raw.get('kind')!r} is not one of {', '.join(k.value for k in TaskKind)}") \
            from None
    priority = raw.get("priority", 50)
    summary = raw.get("summary")
    if not isinstance(priority, int) or priority < 0:
        raise PlaybookError(f"{where}.priority: must be a whole number >= 0 (0 is urgent)")
    if not isinstance(summary, str) or not summary.strip():
        raise PlaybookError(f"{where}.summary: staff need a summary")
    return TaskSpec(kind, priority, summary.strip(), _conditions(raw.get("when"), f"{where}.when"))


def _step(raw: Mapping[str, Any], order: int, playbook_channels: tuple[str, ...], constants: Mapping[str, str]) -> Step:
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not step_id.replace("_", "").isalnum():
        raise PlaybookError(f"step {order + 1}: id must be letters, digits and _")
    where = f"step {step_id!r}"
    anchor = raw.get("anchor")
    if anchor not in ANCHORS:
        raise PlaybookError(f"{where}.anchor: {anchor!r} is not one of {', '.join(ANCHORS)}")
    until = raw.get("until")
    if until is not None and until not in DATE_ANCHORS:
        raise PlaybookError(f"{where}.until: {until!r} is not one of {', '.join(DATE_ANCHORS)}")
    template = raw.get("template")
    if template is not None:
        try:
            catalogue.spec(template)
        except UnknownKeyError:
            raise PlaybookError(f"{where}.template: {template!r} is not in messages.catalogue") from None
    task = _task(raw["task"], f"{where}.task") if "task" in raw else None
    if template is None and task is None:
        raise PlaybookError(f"{where}: a step needs a template, a task or both")
    if anchor == MEETING_ANCHOR and (task is not None or raw.get("when") or template is None):
        raise PlaybookError(f"{where}: a meeting step sends a template to a booked meeting; no task or conditions")
    on_day_off = raw.get("on_day_off", "later")
    if on_day_off not in ("later", "earlier"):
        raise PlaybookError(f"{where}.on_day_off: must be \"later\" (the send window moves it) or \"earlier\"")
    sources = raw.get("sources", {})
    if not isinstance(sources, Mapping):
        raise PlaybookError(f"{where}.sources: must be a table of placeholder = source")
    step = Step(
        id=step_id,
        track=str(raw.get("track") or step_id),
        anchor=anchor,
        offset_days=int(raw.get("offset_days", 0)),
        offset_hours=int(raw.get("offset_hours", 0)),
        at=_clock(raw.get("at", "09:00"), f"{where}.at"),
        when=_conditions(raw.get("when"), f"{where}.when"),
        template=template,
        channels=_channels(raw.get("channels"), f"{where}.channels") or playbook_channels,
        task=task,
        until=until,
        valid_days=None if raw.get("valid_days") is None else int(raw["valid_days"]),
        sources=MappingProxyType(dict(sources)),
        on_day_off=on_day_off,
        order=order,
    )
    if template is not None:
        for name in catalogue.spec(template).placeholders:
            source = step.sources.get(name, DEFAULT_SOURCES.get(name))
            if source is None:
                raise PlaybookError(f"{where}: no value source for placeholder {name!r}; set sources.{name}")
            if source.startswith("constant."):
                if source.removeprefix("constant.") not in constants:
                    raise PlaybookError(f"{where}: {source} is not in [constants]")
            elif source not in SOURCES:
                raise PlaybookError(f"{where}.sources.{name}: {source!r} is not one of {', '.join(SOURCES)}")
            if source.startswith("meeting.") != step.is_meeting_step:
                raise PlaybookError(f"{where}: {source} needs the step to be anchored on a meeting (and only then)")
    return step


def parse_playbook(text: str, origin: str = "playbook") -> Playbook:
    """Parse and validate a playbook from TOML text; raise :class:`PlaybookError` on any mistake."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlaybookError(f"{origin}: {error}") from None
    head = data.get("playbook", {})
    constants = {str(k): str(v) for k, v in data.get("constants", {}).items()}
    channels = _channels(head.get("channels", ["telegram", "sms", "simulator"]), "playbook.channels")
    raw_steps = data.get("step", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        raise PlaybookError(f"{origin}: no [[step]] entries")
    steps = tuple(_step(raw, index, channels, constants) for index, raw in enumerate(raw_steps))
    seen: set[str] = set()
    for step in steps:
        if step.id in seen:
            raise PlaybookError(f"{origin}: step id {step.id!r} is used twice")
        seen.add(step.id)
    return Playbook(
        name=str(head.get("name", origin)),
        version=int(head.get("version", 1)),
        channels=channels,
        reply_wait=timedelta(hours=int(head.get("reply_wait_hours", 48))),
        deadline_time=_clock(head.get("deadline_time", "23:59"), "playbook.deadline_time"),
        kronofogden_response_days=int(head.get("kronofogden_response_days", 7)),
        meeting_lead=timedelta(hours=int(head.get("meeting_lead_hours", 72))),
        meeting_min_notice=timedelta(hours=int(head.get("meeting_min_notice_hours", 2))),
        reach_in_person_priority=int(head.get("reach_in_person_priority", 15)),
        constants=MappingProxyType(constants),
        steps=steps,
        by_id=MappingProxyType({step.id: step for step in steps}),
        case_steps=tuple(step for step in steps if not step.is_meeting_step),
        meeting_steps=tuple(step for step in steps if step.is_meeting_step),
    )


def load_playbook(path: Path | str | None = None) -> Playbook:
    """The playbook in ``path``, or the shipped default playbook."""
    if path is None:
        text = (resources.files("scheduler") / "playbooks" / DEFAULT_PLAYBOOK).read_text(encoding="utf-8")
        return parse_playbook(text, DEFAULT_PLAYBOOK)
    file = Path(path)
    return parse_playbook(file.read_text(encoding="utf-8"), file.name)
