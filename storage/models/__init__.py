"""The domain's tables. Importing this package registers every model on ``Base.metadata``."""

from storage.models.base import Base, UTCDateTime, utc_now
from storage.models.cases import Case
from storage.models.consent import Consent, ConsentDisclosure
from storage.models.enums import (
    Awaiting,
    CaseKind,
    CaseOutcome,
    CaseStage,
    Channel,
    ConsentStatus,
    Direction,
    HouseholdType,
    MeetingSlotStatus,
    MeetingStatus,
    MessageStatus,
    OutboxKind,
    OutboxStatus,
    ReviewStatus,
    StaffRole,
    TaskKind,
    TaskStatus,
)
from storage.models.meetings import Meeting, MeetingSlot
from storage.models.messaging import ConversationState, DeliveryEvent, InboundReceipt, Message, OutboxItem
from storage.models.people import ContactPoint, Municipality, TelegramLinkCode, Tenant
from storage.models.staff import AuditEntry, StaffUser
from storage.models.tasks import Task, TaskNote
from storage.models.templates import TemplateVersion

__all__ = [
    "AuditEntry",
    "Awaiting",
    "Base",
    "Case",
    "CaseKind",
    "CaseOutcome",
    "CaseStage",
    "Channel",
    "Consent",
    "ConsentDisclosure",
    "ConsentStatus",
    "ContactPoint",
    "ConversationState",
    "DeliveryEvent",
    "Direction",
    "HouseholdType",
    "InboundReceipt",
    "Meeting",
    "MeetingSlot",
    "MeetingSlotStatus",
    "MeetingStatus",
    "Message",
    "MessageStatus",
    "Municipality",
    "OutboxItem",
    "OutboxKind",
    "OutboxStatus",
    "ReviewStatus",
    "StaffRole",
    "StaffUser",
    "Task",
    "TaskKind",
    "TaskNote",
    "TaskStatus",
    "Tenant",
    "TelegramLinkCode",
    "TemplateVersion",
    "UTCDateTime",
    "utc_now",
]
