"""Meeting times: staff publish when they can meet, tenants book them (through the dialogue), and
staff see each day's meetings and take one into their calendar as an ``.ics`` file.

The ``.ics`` carries the tenant's reference, not their name: calendar systems are shared, synced
to phones and kept for years, and the reference is enough to find the case in the console.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from staff import audit
from staff.auth import Viewer
from storage.models import Meeting, MeetingSlot, MeetingSlotStatus, MeetingStatus, StaffUser, Task, Tenant

STOCKHOLM = ZoneInfo("Europe/Stockholm")
MAX_SLOT_LENGTH = timedelta(hours=4)
MAX_SLOTS_AT_ONCE = 40


class SlotError(ValueError):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def parse_times(raw: str) -> list[time]:
    """``"10:00, 14:30"`` → two start times; raises :class:`SlotError` on anything else."""
    times = []
    for part in raw.replace(";", ",").replace(" ", ",").split(","):
        if not part:
            continue
        hours, _, minutes = part.replace(".", ":").partition(":")
        if not hours.isdigit() or not (minutes or "0").isdigit():
            raise SlotError("bad_time")
        try:
            times.append(time(int(hours), int(minutes or "0")))
        except ValueError:
            raise SlotError("bad_time") from None
    if not times:
        raise SlotError("no_times")
    return sorted(set(times))


def publish_slots(session: Session, viewer: Viewer, day: date, starts: list[time], length: timedelta,
                  location: str, now: datetime) -> list[MeetingSlot]:
    """Open one slot per start time on ``day`` (Stockholm time) for ``viewer``."""
    if length <= timedelta(0) or length > MAX_SLOT_LENGTH:
        raise SlotError("bad_length")
    if len(starts) > MAX_SLOTS_AT_ONCE:
        raise SlotError("too_many")
    slots = []
    for start in starts:
        begins = datetime.combine(day, start, tzinfo=STOCKHOLM)
        if begins <= now:
            raise SlotError("in_the_past")
        slot = MeetingSlot(staff_user_id=viewer.id, starts_at=begins, ends_at=begins + length,
                           location=location.strip()[:200] or None, status=MeetingSlotStatus.OPEN, created_at=now)
        session.add(slot)
        slots.append(slot)
    session.flush()
    audit.record(session, viewer, "slots_published", "meeting_slot", ",".join(str(s.id) for s in slots)[:64], now,
                 count=len(slots))
    return slots


def cancel_slot(session: Session, viewer: Viewer, slot_id: int, now: datetime) -> None:
    slot = session.get(MeetingSlot, slot_id)
    if slot is None or slot.status is not MeetingSlotStatus.OPEN:
        raise SlotError("not_open")
    slot.status = MeetingSlotStatus.CANCELLED
    audit.record(session, viewer, "slot_cancelled", "meeting_slot", slot.id, now)


@dataclass(frozen=True)
class SlotRow:
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    location: str | None
    status: MeetingSlotStatus
    staff: str | None
    meeting_id: int | None = None
    tenant_id: int | None = None
    tenant_name: str | None = None
    tenant_ref: str | None = None
    tenant_language: str | None = None
    include_social_services: bool = False
    task_id: int | None = None


@dataclass(frozen=True)
class Day:
    day: date
    slots: list[SlotRow] = field(default_factory=list)

    @property
    def booked(self) -> int:
        return sum(1 for slot in self.slots if slot.meeting_id is not None)


def schedule(session: Session, start: date, days: int = 14) -> list[Day]:
    """Slots and booked meetings from ``start`` for ``days`` days, grouped by Stockholm day."""
    begin = datetime.combine(start, time(0), tzinfo=STOCKHOLM)
    end = begin + timedelta(days=days)
    found = session.execute(
        select(MeetingSlot, Meeting, Tenant, StaffUser.display_name)
        .outerjoin(Meeting, (Meeting.slot_id == MeetingSlot.id) & (Meeting.status != MeetingStatus.CANCELLED))
        .outerjoin(Tenant, Tenant.id == Meeting.tenant_id)
        .outerjoin(StaffUser, StaffUser.id == MeetingSlot.staff_user_id)
        .where(MeetingSlot.starts_at >= begin, MeetingSlot.starts_at < end,
               MeetingSlot.status != MeetingSlotStatus.CANCELLED)
        .order_by(MeetingSlot.starts_at, MeetingSlot.id)
    ).all()
    tenant_ids = [tenant.id for _, _, tenant, _ in found if tenant is not None]
    tasks = {}
    if tenant_ids:
        for task in session.scalars(select(Task).where(Task.tenant_id.in_(tenant_ids)).order_by(Task.created_at)):
            tasks[task.tenant_id] = task.id
    by_day: dict[date, Day] = {}
    for slot, meeting, tenant, staff in found:
        local_day = slot.starts_at.astimezone(STOCKHOLM).date()
        row = SlotRow(
            slot.id, slot.starts_at, slot.ends_at, slot.location, slot.status, staff,
            meeting.id if meeting else None, tenant.id if tenant else None, tenant.name if tenant else None,
            tenant.external_ref if tenant else None, tenant.preferred_language if tenant else None,
            bool(meeting and meeting.include_social_services), tasks.get(tenant.id) if tenant else None,
        )
        by_day.setdefault(local_day, Day(local_day)).slots.append(row)
    return [by_day[d] for d in sorted(by_day)]


# --- iCalendar (RFC 5545) ---------------------------------------------------------------------


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded with CRLF + space, never inside a UTF-8 sequence."""
    out, current = [], b""
    for ch in line:
        encoded = ch.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current)
            current = b""
        current += encoded
    out.append(current)
    return "\r\n ".join(part.decode() for part in out)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def meeting_ics(session: Session, meeting_id: int, now: datetime, host: str = "bokvar") -> str | None:
    """An iCalendar file with one event for the meeting, or None if there is no such meeting."""
    found = session.execute(
        select(Meeting, MeetingSlot, Tenant).join(MeetingSlot, MeetingSlot.id == Meeting.slot_id)
        .join(Tenant, Tenant.id == Meeting.tenant_id).where(Meeting.id == meeting_id)
    ).first()
    if found is None:
        return None
    meeting, slot, tenant = found
    summary = f"Bokvar: möte med hyresgäst {tenant.external_ref}"
    if meeting.include_social_services:
        summary = f"Bokvar: trepartsmöte, hyresgäst {tenant.external_ref}"
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Bokvar//Staff console//SV", "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH", "BEGIN:VEVENT", f"UID:meeting-{meeting.id}@{host}", f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(slot.starts_at)}", f"DTEND:{_utc(slot.ends_at)}", f"SUMMARY:{_escape(summary)}",
    ]
    if slot.location:
        lines.append(f"LOCATION:{_escape(slot.location)}")
    lines += [
        f"DESCRIPTION:{_escape(f'Hyresgäst {tenant.external_ref}, bokat {meeting.booked_at:%Y-%m-%d}.')}",
        "STATUS:CONFIRMED" if meeting.status is MeetingStatus.BOOKED else "STATUS:CANCELLED",
        "END:VEVENT", "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
