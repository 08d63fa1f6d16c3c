"""Publishing meeting times, the day view and the .ics file."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from staff import meetings
from storage.database import transaction
from storage.models import Channel, Meeting, MeetingSlotStatus, MeetingStatus
from tests.factories import make_tenant
from tests.staff.staff_factories import NOW, as_viewer, make_staff

DAY = date(2026, 12, 3)


def test_times_parse_leniently_and_refuse_nonsense() -> None:
    assert meetings.parse_times("14:00, 9:30;10") == [time(9, 30), time(10), time(14)]
    for bad in ("", "kl 10", "25:00"):
        with pytest.raises(meetings.SlotError):
            meetings.parse_times(bad)


def test_published_slots_and_booked_meetings_show_per_stockholm_day(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session, language="ar", name="Mariam Haddad")
        slots = meetings.publish_slots(session, viewer, DAY, [time(10), time(14)], timedelta(minutes=45),
                                       "Kundcenter, Storgatan 1", NOW)
        session.add(Meeting(slot_id=slots[1].id, tenant_id=tenant.id, status=MeetingStatus.BOOKED,
                            booked_via=Channel.SMS, include_social_services=True))
        slots[1].status = MeetingSlotStatus.BOOKED
        meetings.cancel_slot(session, viewer, slots[0].id, NOW)
        meetings.publish_slots(session, viewer, DAY + timedelta(days=1), [time(9)], timedelta(minutes=30), "", NOW)
        days = meetings.schedule(session, DAY, 7)
    assert [d.day for d in days] == [DAY, DAY + timedelta(days=1)]
    [booked] = days[0].slots
    assert booked.tenant_name == "Mariam Haddad" and booked.include_social_services and days[0].booked == 1
    assert booked.starts_at.astimezone(meetings.STOCKHOLM).hour == 14


def test_slots_in_the_past_or_too_long_are_refused(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        with pytest.raises(meetings.SlotError, match="in_the_past"):
            meetings.publish_slots(session, viewer, date(2020, 1, 2), [time(10)], timedelta(minutes=30), "", NOW)
        with pytest.raises(meetings.SlotError, match="bad_length"):
            meetings.publish_slots(session, viewer, DAY, [time(10)], timedelta(hours=5), "", NOW)


def test_the_ics_file_is_valid_icalendar_without_the_tenants_name(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session, "HG-10234", name="Mariam Haddad")
        [slot] = meetings.publish_slots(session, viewer, DAY, [time(13, 30)], timedelta(minutes=45),
                                        "Kundcenter; Storgatan 1, Trelleborg", NOW)
        meeting = Meeting(slot_id=slot.id, tenant_id=tenant.id, status=MeetingStatus.BOOKED, booked_at=NOW)
        session.add(meeting)
        session.flush()
        ics = meetings.meeting_ics(session, meeting.id, NOW, "bokvar.example.se")
        assert meetings.meeting_ics(session, 999_999, NOW) is None
    lines = ics.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR" and ics.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261203T123000Z" in lines and "DTEND:20261203T131500Z" in lines
    assert f"UID:meeting-{meeting.id}@bokvar.example.se" in lines
    assert "LOCATION:Kundcenter\\; Storgatan 1\\, Trelleborg" in lines
    assert "HG-10234" in ics and "Mariam" not in ics
    assert all(len(line.encode()) <= 75 for line in lines)
