"""The console in a real browser: Debian's Chromium, headless, driven by Playwright.

Each test starts the real app on 127.0.0.1 with its own SQLite file and demo data. The
screenshots in ``docs/screenshots`` are taken here, so the documentation shows the console as it
is today.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from scheduler.outbox_values import encode_values
from storage.database import transaction
from storage.models import Meeting, Message, OutboxItem, OutboxKind, OutboxStatus, TemplateVersion
from tests.staff.browser_support import (
    ADMIN_EMAIL,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SCREENSHOTS,
    STAFF_EMAIL,
    LiveConsole,
    Seeded,
    live_console,
    seed_console,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)")
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[LiveConsole, Seeded]]:
    with live_console(tmp_path) as live:
        yield live, seed_console(live.sessions)


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="sv-SE",  # type: ignore[attr-defined]
                                  timezone_id="Europe/Stockholm", device_scale_factor=1)
    context.set_default_timeout(8000)
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page: object, url: str, email: str) -> None:
    page.goto(f"{url}/console/")  # type: ignore[attr-defined]
    page.get_by_label("E-post").fill(email)  # type: ignore[attr-defined]
    page.get_by_label("Lösenord").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Logga in").click()  # type: ignore[attr-defined]


def test_login_and_logout(console, page) -> None:
    live, _ = console
    page.goto(f"{live.url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.get_by_label("E-post").fill(STAFF_EMAIL)
    page.get_by_label("Lösenord").fill("wrong password!")
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("alert")).to_contain_text("Fel e-postadress eller lösenord")
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", name="Inkorg", level=1)).to_be_visible()
    expect(page.get_by_text("Hanna Handläggare")).to_be_visible()
    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(re.compile(r"/console/login"))
    expect(page.get_by_role("status")).to_contain_text("Du är utloggad")
    page.goto(f"{live.url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login"))


def test_staff_works_the_urgent_task_from_reply_to_close(console, page) -> None:
    live, seeded = console
    log_in(page, live.url, STAFF_EMAIL)
    first = page.locator(".task-row").first
    expect(first).to_contain_text("Akut")
    expect(first).to_contain_text("Mariam Haddad")
    page.screenshot(path=str(SCREENSHOTS / "inbox.png"), full_page=False)

    first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Mariam Haddad")).to_be_visible()
    thread = page.locator("[data-test=thread]")
    expect(thread).to_contain_text("هل يمكن أن يتصل بي أحد اليوم")
    arabic = thread.locator("[lang=ar][dir=auto]").last
    expect(arabic).to_have_attribute("dir", "auto")
    expect(page.locator("[data-test=amount]")).to_have_text(re.compile(r"14\s220,00\s*kr"))
    page.get_by_role("button", name="Tilldela mig").click()
    expect(page.get_by_role("status")).to_contain_text("Uppgiften är nu din")

    page.get_by_label("Meddelande", exact=True).fill("مرحبا مريم، سنتصل بك اليوم قبل الساعة الثالثة. حنا")
    expect(page.locator("#reply-counter")).to_contain_text("UCS-2")
    page.screenshot(path=str(SCREENSHOTS / "task-arabic.png"), full_page=True)
    page.get_by_role("button", name="Köa meddelandet").click()
    expect(page.get_by_role("status")).to_contain_text("köat")
    expect(thread).to_contain_text("سنتصل بك اليوم")

    assert live.drain_outbox().sent == 1
    page.goto(f"{live.url}/console/simulator/{seeded.arabic_tenant_id}")
    expect(page.locator("[data-test=sim-received]").last).to_contain_text("سنتصل بك اليوم")
    with live.sessions() as session:
        reply = session.scalars(select(Message).where(Message.body.contains("سنتصل بك اليوم"))).one()
    assert reply.status.value == "delivered"

    page.goto(f"{live.url}/console/tasks/{seeded.urgent_task_id}")
    page.get_by_label("Vad blev resultatet?").select_option("payment_plan")
    page.get_by_role("button", name="Registrera resultat").click()
    expect(page.get_by_role("status")).to_contain_text("Resultatet är registrerat")
    page.get_by_role("button", name="Stäng uppgiften").click()
    expect(page.get_by_role("heading", name="Inkorg", level=1)).to_be_visible()
    expect(page.locator(".task-row").first).not_to_contain_text("Mariam Haddad")


def test_staff_is_refused_the_template_editor(console, page) -> None:
    live, _ = console
    log_in(page, live.url, STAFF_EMAIL)
    expect(page.get_by_role("link", name="Mallar")).to_have_count(0)
    response = page.goto(f"{live.url}/console/templates/menu")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Inte tillåtet")).to_be_visible()


def test_admin_edits_a_template_and_the_next_send_uses_it(console, page) -> None:
    live, seeded = console
    log_in(page, live.url, ADMIN_EMAIL)
    page.get_by_role("link", name="Mallar").click()
    page.get_by_role("link", name="payment_acknowledged").click()
    card = page.locator("[data-test=editor-sv]")
    area = card.get_by_label("Text på svenska")

    area.fill("Tack {{ name }}! Vi kontrollerar betalningen.")
    expect(card.locator("[data-problems]")).to_contain_text("unknown placeholder")
    card.get_by_role("button", name="Spara ny version").click()
    card = page.locator("[data-test=editor-sv]")
    expect(card.get_by_role("alert")).to_contain_text("Inte sparad")
    expect(card.get_by_role("alert")).to_contain_text("unknown placeholder '{{ name }}'")
    with live.sessions() as session:
        assert session.scalars(select(TemplateVersion)).all() == []

    new_text = "Tack för beskedet! Vi kontrollerar betalningen och hör av oss inom två bankdagar."
    card.get_by_label("Text på svenska").fill(new_text)
    expect(card.locator("[data-preview]")).to_have_text(new_text)
    expect(card.locator("[data-counter]")).to_contain_text("GSM-7")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "template-editor.png"), full_page=False)
    card.get_by_role("button", name="Spara ny version").click()
    expect(page.get_by_role("status")).to_contain_text("version 1")
    expect(page.locator("[data-test=editor-sv]")).to_contain_text("Version 1")

    with transaction(live.sessions) as session:
        session.add(OutboxItem(dedupe_key="browser-test:ack", kind=OutboxKind.REPLY,
                               tenant_id=seeded.swedish_tenant_id, template_key="payment_acknowledged",
                               values=encode_values({}), channel_order=["sms"], status=OutboxStatus.PENDING,
                               due_at=datetime.now(UTC)))
    assert live.drain_outbox().sent == 1
    with live.sessions() as session:
        sent = session.scalars(select(Message).where(Message.template_key == "payment_acknowledged")).one()
    assert sent.body == new_text and sent.template_version == 1


def test_a_simulated_tenant_books_a_meeting_that_shows_in_the_meetings_view(console, page) -> None:
    live, seeded = console
    log_in(page, live.url, STAFF_EMAIL)
    page.get_by_role("link", name="Simulator").click()
    page.get_by_role("link", name="Sara Johansson").click()
    page.get_by_label("Svara som Sara Johansson").fill("2")
    page.get_by_role("button", name="Skicka").click()
    live.drain_outbox()
    page.reload()
    offer = page.locator("[data-test=sim-received]").last
    expect(offer).to_contain_text("1)")
    page.get_by_label("Svara som Sara Johansson").fill("1")
    page.get_by_role("button", name="Skicka").click()
    live.drain_outbox()
    with live.sessions() as session:
        assert session.scalars(select(Meeting).where(Meeting.tenant_id == seeded.booking_tenant_id)).one()
    page.get_by_role("link", name="Möten").click()
    booked = page.locator("[data-test=booked-meeting]")
    expect(booked).to_have_count(1)
    expect(booked).to_contain_text("Sara Johansson")
    page.screenshot(path=str(SCREENSHOTS / "meetings.png"), full_page=False)
