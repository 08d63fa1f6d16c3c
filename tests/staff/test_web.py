"""The console's pages over HTTP: thin routes, so these check wiring, wording and status codes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from staff.auth import MAX_FAILURES
from storage.database import transaction
from storage.models import ConsentDisclosure, MeetingSlot, OutboxItem, StaffUser, TaskKind
from tests.factories import make_case, make_tenant
from tests.staff.staff_factories import (
    NOW,
    ConsoleClient,
    make_admin,
    make_consent,
    make_message,
    make_staff,
    make_task,
)


@pytest.fixture
def client(database_url, sessions) -> ConsoleClient:
    with transaction(sessions) as session:
        make_staff(session, name="Hanna Handläggare")
        make_admin(session)
        mariam = make_tenant(session, "T-1", language="ar", name="Mariam Haddad")
        make_case(session, mariam, amount_ore=1_422_000)
        make_message(session, mariam, "لا أستطيع الدفع", language="ar")
        make_task(session, mariam, kind=TaskKind.URGENT, priority=0, summary="Ber om samtal i dag")
        erik = make_tenant(session, "T-2", name="Erik Lindqvist", phone="+46701740606", municipality="Lund")
        make_task(session, erik, kind=TaskKind.HELP_REQUEST, priority=20, summary="Vill ha hjälp",
                  due_at=NOW - timedelta(hours=1))
        make_consent(session, erik)
    console = ConsoleClient(database_url, sessions)
    console.login("hanna@bokvar.test")
    return console


def test_the_inbox_lists_urgent_first_and_filters(client) -> None:
    page = client.get("/console/").text
    assert page.index("Mariam Haddad") < page.index("Erik Lindqvist")
    assert 'lang="sv"' in page and "Inkorg" in page
    overdue = client.get("/console/?overdue=1").text
    assert "Erik Lindqvist" in overdue and "Mariam Haddad" not in overdue


def test_the_task_page_shows_arabic_right_to_left_and_money_in_kronor(client) -> None:
    page = client.get("/console/tasks/1").text
    assert 'dir="auto" lang="ar">لا أستطيع الدفع' in page
    assert "14\u00a0220,00\u00a0kr" in page
    assert "det finns inget samtycke" in page  # sharing is explained, not offered
    assert client.get("/console/tasks/999").status_code == 404


def test_reply_queues_an_outbox_row_and_says_so(client, sessions) -> None:
    response = client.post("/console/tasks/1/reply", {"mode": "text", "body": "Vi ringer i dag."})
    assert response.status_code == 303
    page = client.get("/console/tasks/1").text
    assert "köat och skickas via SMS" in page and "Vi ringer i dag." in page
    with sessions() as session:
        [item] = session.scalars(select(OutboxItem)).all()
    assert item.body == "Vi ringer i dag." and item.created_by_staff_id is not None


def test_the_segment_counter_uses_the_shared_analyser(client) -> None:
    swedish = client.post_json("/console/api/segments", {"text": "Hej, vi ringer på måndag."}).json()
    arabic = client.post_json("/console/api/segments", {"text": "مرحبا " * 20}).json()
    assert (swedish["encoding"], swedish["segments"]) == ("GSM-7", 1)
    assert (arabic["encoding"], arabic["segments"]) == ("UCS-2", 2) and arabic["non_gsm"]


def test_share_with_social_services_only_with_consent(client, sessions) -> None:
    refused = client.post("/console/tasks/1/share", {"note": ""})
    assert refused.status_code == 303 and "Det finns inget samtycke" in client.get("/console/tasks/1").text
    assert client.post("/console/tasks/2/share", {"note": "skuld"}).status_code == 303
    assert "Delat med Socialnämnden i Lund" in client.get("/console/tasks/2").text
    with sessions() as session:
        assert len(session.scalars(select(ConsentDisclosure)).all()) == 1


def test_outcome_and_close_from_the_page(client) -> None:
    client.post("/console/tasks/2/outcome", {"outcome": "payment_plan", "close": "1"})
    assert "Erik Lindqvist" not in client.get("/console/").text
    assert client.post("/console/tasks/2/outcome", {"outcome": "nonsense"}).status_code == 303


def test_publishing_times_and_downloading_nothing_that_does_not_exist(client, sessions) -> None:
    response = client.post("/console/meetings/slots", {"day": "2026-12-03", "times": "10:00, 14:00",
                                                       "length": "45", "location": "Kundcenter"})
    assert response.status_code == 303
    with sessions() as session:
        assert len(session.scalars(select(MeetingSlot)).all()) == 2
    assert "Kundcenter" in client.get("/console/meetings?from=2026-12-01").text
    assert client.get("/console/meetings/1.ics").status_code == 404


def test_the_language_switch_turns_the_console_english(client) -> None:
    client.post("/console/language", {"lang": "en", "next": "/console/"})
    page = client.get("/console/").text
    assert 'lang="en"' in page and "Inbox" in page and "Svenska" in page


def test_repeated_wrong_passwords_lock_the_account(database_url, sessions, client) -> None:
    fresh = ConsoleClient(database_url, sessions)
    statuses = [fresh.login("adam@bokvar.test", "wrong password").status_code for _ in range(MAX_FAILURES)]
    assert statuses[:-1] == [401] * (MAX_FAILURES - 1) and statuses[-1] == 429
    assert fresh.login("adam@bokvar.test").status_code == 429
    with sessions() as session:
        assert session.scalars(select(StaffUser).where(StaffUser.email == "adam@bokvar.test")).one().locked_until


def test_an_admin_adds_a_user_and_sees_the_password_once(database_url, sessions) -> None:
    admin = ConsoleClient(database_url, sessions)
    with transaction(sessions) as session:
        make_admin(session)
    admin.login("adam@bokvar.test")
    page = admin.post("/console/users", {"email": "ny@bokvar.test", "name": "Ny", "role": "staff"}).text
    assert "Lösenordet visas bara den här gången" in page
    assert "Lösenordet visas" not in admin.get("/console/users").text
