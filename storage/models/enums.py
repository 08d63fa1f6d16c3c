"""The closed vocabularies of the domain, as ``StrEnum`` so they read well in code, JSON and SQL."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    SIMULATOR = "simulator"


class HouseholdType(StrEnum):
    """Kept only for anonymous reports (evictions concentrate among single men aged 20-39)."""

    SINGLE = "single"
    SINGLE_WITH_CHILDREN = "single_with_children"
    COUPLE = "couple"
    COUPLE_WITH_CHILDREN = "couple_with_children"
    OTHER = "other"


class CaseKind(StrEnum):
    ARREARS = "arrears"
    NOTICE = "notice"
    KRONOFOGDEN = "kronofogden"


class CaseStage(StrEnum):
    """Where a case stands on the legal timeline of ``shared/domain.md``."""

    OVERDUE = "overdue"
    GRACE_ENDED = "grace_ended"
    NOTICE_SERVED = "notice_served"
    RECOVERY_PERIOD = "recovery_period"
    KRONOFOGDEN_APPLIED = "kronofogden_applied"
    EVICTION_SCHEDULED = "eviction_scheduled"
    CLOSED = "closed"


class CaseOutcome(StrEnum):
    """Moving out "voluntarily" is tracked apart from eviction: it is far more common."""

    PAID = "paid"
    PAYMENT_PLAN = "payment_plan"
    SOCIAL_SERVICES_COMMITMENT = "social_services_commitment"
    MOVED_OUT = "moved_out"
    EVICTED = "evicted"
    WITHDRAWN = "withdrawn"
    OTHER = "other"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(StrEnum):
    """Provider delivery states, in the order they normally advance (see ``storage.status_order``)."""

    RECEIVED = "received"
    QUEUED = "queued"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    CANCELED = "canceled"


class OutboxKind(StrEnum):
    PLANNED = "planned"
    REPLY = "reply"
    STAFF = "staff"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


class Awaiting(StrEnum):
    """What the last message to the tenant asked for; the dialogue reads replies in this context."""

    NOTHING = "nothing"
    MENU = "menu"
    CONSENT = "consent"
    SLOT = "slot"


class TaskKind(StrEnum):
    URGENT = "urgent"
    HELP_REQUEST = "help_request"
    VERIFY_PAYMENT = "verify_payment"
    PHONE_TENANT = "phone_tenant"
    VISIT_TENANT = "visit_tenant"
    REACH_IN_PERSON = "reach_in_person"
    MEETING_REQUEST = "meeting_request"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    REPLY_NEEDED = "reply_needed"
    RECONCILE_SEND = "reconcile_send"
    OTHER = "other"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class ConsentStatus(StrEnum):
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class MeetingSlotStatus(StrEnum):
    OPEN = "open"
    BOOKED = "booked"
    CANCELLED = "cancelled"


class MeetingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    HELD = "held"
    NO_SHOW = "no_show"


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"


class StaffRole(StrEnum):
    STAFF = "staff"
    ADMIN = "admin"
