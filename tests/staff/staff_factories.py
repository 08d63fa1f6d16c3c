"""One-line test data and clients for the staff console: "a staff member", "an urgent task",
"a client logged in as an admin"."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.channels.registry import Channels
from bot.settings import Settings, load_settings
from staff.accounts import create_user
from staff.auth import Viewer, viewer_of
from storage.models import (
    Channel,
    Consent,
    ConsentStatus,
    Direction,
    Message,
    MessageStatus,
    Municipality,
    StaffRole,
    StaffUser,
    Task,
    TaskKind,
    Tenant,
)

with warnings.catch_warnings():  # Starlette 1.x would rather use httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"
SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_staff(session: Session, email: str = "hanna@bokvar.test", role: StaffRole = StaffRole.STAFF,
               name: str | None = None, password: str = PASSWORD) -> StaffUser:
    return create_user(session, email, role, password, name or email.split("@")[0].title())


def make_admin(session: Session, email: str = "adam@bokvar.test", name: str = "Adam Admin") -> StaffUser:
    return make_staff(session, email, StaffRole.ADMIN, name)


def as_viewer(user: StaffUser) -> Viewer:
    return viewer_of(user)


def make_task(session: Session, tenant: Tenant | None, *, kind: TaskKind = TaskKind.REPLY_NEEDED,
              priority: int = 50, summary: str = "The tenant wrote something staff should read.",
              due_at: datetime | None = None, case_id: int | None = None, assignee: StaffUser | None = None,
              created_at: datetime = NOW - timedelta(hours=2), message_id: int | None = None) -> Task:
    task = Task(kind=kind, priority=priority, tenant_id=tenant.id if tenant else None, case_id=case_id,
                summary=summary, due_at=due_at, assignee_id=assignee.id if assignee else None,
                created_at=created_at, message_id=message_id)
    session.add(task)
    session.flush()
    return task


def make_message(session: Session, tenant: Tenant, body: str, *, inbound: bool = True, language: str | None = None,
                 at: datetime = NOW - timedelta(hours=3), status: MessageStatus | None = None,
                 channel: Channel = Channel.SMS, template_key: str | None = None) -> Message:
    message = Message(
        tenant_id=tenant.id, direction=Direction.INBOUND if inbound else Direction.OUTBOUND, channel=channel,
        body=body, language=language, template_key=template_key,
        status=status or (MessageStatus.RECEIVED if inbound else MessageStatus.DELIVERED),
        provider_id=f"p-{tenant.id}-{at.timestamp()}-{len(body)}-{inbound}", created_at=at,
    )
    session.add(message)
    session.flush()
    return message


def make_consent(session: Session, tenant: Tenant, *, status: ConsentStatus = ConsentStatus.GIVEN,
                 expires_at: datetime | None = NOW + timedelta(days=300), municipality: Municipality | None = None,
                 withdrawn_at: datetime | None = None, direction: str = "both",
                 captured_at: datetime = NOW - timedelta(days=10)) -> Consent:
    town = municipality or tenant.municipality
    consent = Consent(
        tenant_id=tenant.id, status=status, municipality_id=town.id, counterparty=f"Socialnämnden i {town.name}",
        direction=direction, data_categories=["rent_debt", "contact_details"], purpose="Prevent eviction",
        template_key="consent_request", template_version=None, text_sha256="0" * 64, language="sv",
        captured_channel=Channel.SMS, captured_at=captured_at, valid_from=captured_at, expires_at=expires_at,
        withdrawn_at=withdrawn_at,
    )
    session.add(consent)
    session.flush()
    return consent


def municipality(session: Session, name: str) -> Municipality:
    return session.scalars(select(Municipality).where(Municipality.name == name)).one()


def console_settings(database_url: str, **extra: str) -> Settings:
    return load_settings({"BOKVAR_DATABASE_URL": database_url, "BOKVAR_SECRET_KEY": SECRET_KEY, **extra},
                         env_file=None)


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class ConsoleClient:
    """A test client for the real app that knows how to log in and post forms with their token."""

    def __init__(self, database_url: str, sessions: sessionmaker[Session], clock: Any = lambda: NOW) -> None:
        app = create_app(console_settings(database_url), sessions, channels=Channels(), clock=clock)
        self.http = TestClient(app, base_url="http://testserver", follow_redirects=False)
        self.token = ""

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.http.get(path, **kwargs)

    def refresh_token(self, path: str = "/console/login") -> str:
        response = self.http.get(path, follow_redirects=True)
        self.token = csrf_token(response.text)
        return self.token

    def login(self, email: str, password: str = PASSWORD) -> Any:
        self.refresh_token()
        response = self.http.post("/console/login", data={"email": email, "password": password,
                                                          "csrf_token": self.token, "next": "/console/"})
        if response.status_code == 303:
            self.refresh_token("/console/")
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, *, token: bool = True, **kwargs: Any) -> Any:
        form = dict(data or {})
        if token:
            form["csrf_token"] = self.token
        return self.http.post(path, data=form, **kwargs)

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        return self.http.post(path, json=payload, headers={"X-CSRF-Token": self.token})
