"""The console's guards, checked over the whole route table rather than route by route."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from staff.web import Console, console_routes
from storage.database import transaction
from storage.models import AuditEntry, StaffRole, TaskNote, TemplateVersion
from tests.factories import make_tenant
from tests.staff.staff_factories import (
    ConsoleClient,
    console_settings,
    make_admin,
    make_message,
    make_staff,
    make_task,
)

PUBLIC = {("/login", "GET"), ("/login", "POST"), ("/language", "POST")}


def _route_table(database_url: str, sessions) -> list[tuple[str, str, StaffRole | None]]:
    console = Console(console_settings(database_url), sessions, clock=lambda: None)  # type: ignore[arg-type]
    return [(r.path, method, r.role) for r in console_routes(console) for method in r.methods]


def _concrete(path: str) -> str:
    """A real URL for a route pattern: ids become 1, a template key a real one."""
    path = re.sub(r"\{\w+:int\}", "1", path)
    return "/console" + path.replace("{key}", "menu").replace("{lang}", "sv")


@pytest.fixture
def client(database_url, sessions) -> ConsoleClient:
    with transaction(sessions) as session:
        make_staff(session)
        make_admin(session)
        tenant = make_tenant(session)
        make_message(session, tenant, "Jag behöver hjälp")
        make_task(session, tenant)
    return ConsoleClient(database_url, sessions)


def test_only_login_and_language_are_public_and_every_other_route_declares_a_role(database_url, sessions) -> None:
    table = _route_table(database_url, sessions)
    assert {(path, method) for path, method, role in table if role is None} == PUBLIC
    assert all(role in (StaffRole.STAFF, StaffRole.ADMIN) for path, method, role in table
               if (path, method) not in PUBLIC)


def test_every_console_route_without_a_session_redirects_to_login(database_url, sessions, client) -> None:
    for path, method, role in _route_table(database_url, sessions):
        if role is None:
            continue
        response = client.http.request(method, _concrete(path), data={"csrf_token": "x"} if method == "POST" else None)
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/console/login?next="), (method, path)


def test_staff_are_refused_every_admin_route(database_url, sessions, client) -> None:
    client.login("hanna@bokvar.test")
    admin_routes = [(p, m) for p, m, role in _route_table(database_url, sessions) if role is StaffRole.ADMIN]
    assert ("/templates", "GET") in admin_routes and ("/users", "GET") in admin_routes
    for path, method in admin_routes:
        url = _concrete(path)
        response = client.post(url, {"body": "x"}) if method == "POST" else client.get(url)
        assert response.status_code == 403, (method, path)
    with sessions() as session:
        assert session.scalars(select(TemplateVersion)).all() == []


def test_a_form_post_without_the_csrf_token_is_refused(sessions, client) -> None:
    client.login("hanna@bokvar.test")
    for data in ({"body": "forged"}, {"body": "forged", "csrf_token": "not-the-token"}):
        response = client.post("/console/tasks/1/note", data, token=False)
        assert response.status_code == 403
    assert client.post("/console/tasks/1/note", {"body": "real"}).status_code == 303
    with sessions() as session:
        assert [note.body for note in session.scalars(select(TaskNote))] == ["real"]
    assert client.http.post("/console/api/segments", json={"text": "hej"}).status_code == 403


def test_the_login_form_itself_needs_its_token(client) -> None:
    client.refresh_token()
    response = client.post("/console/login", {"email": "hanna@bokvar.test", "password": "x" * 20}, token=False)
    assert response.status_code == 403


def test_the_template_editor_refuses_a_sandbox_escape(sessions, client) -> None:
    client.login("adam@bokvar.test")
    response = client.post("/console/templates/payment_acknowledged/sv", {"body": "{{ ''.__class__ }}"})
    assert response.status_code == 422 and "attribute access &#39;.__class__&#39; is not allowed" in response.text
    check = client.post_json("/console/api/templates/check",
                             {"key": "payment_acknowledged", "lang": "sv", "source": "{{ ''.__class__ }}"}).json()
    assert check["ok"] is False and "attribute access '.__class__' is not allowed (line 1)" in check["problems"]
    with sessions() as session:
        assert session.scalars(select(TemplateVersion)).all() == []


def test_every_conversation_view_is_audited_without_message_text(sessions, client) -> None:
    client.login("hanna@bokvar.test")
    for _ in range(2):
        assert client.get("/console/tasks/1").status_code == 200
    assert client.get("/console/simulator/1").status_code == 200
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "view_conversation")
                                  .order_by(AuditEntry.id)).all()
    assert [(e.object_type, e.object_id, e.details.get("via")) for e in entries] == [
        ("tenant", "1", "task"), ("tenant", "1", "task"), ("tenant", "1", "simulator")]
    assert all(e.actor == "staff" and e.actor_staff_id is not None and e.at is not None for e in entries)
    assert all("hjälp" not in str(e.details) for e in entries)


def test_the_session_cookie_is_signed_httponly_and_samesite(client) -> None:
    response = client.login("hanna@bokvar.test")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie
    assert "secure" not in cookie  # http://127.0.0.1 in tests; https deployments get Secure


def test_https_deployments_get_secure_cookies(database_url, sessions) -> None:
    from starlette.middleware.sessions import SessionMiddleware

    from staff.web import create_console

    app = create_console(console_settings(database_url, BOKVAR_PUBLIC_URL="https://bokvar.example.se"),
                         sessions, clock=lambda: None)  # type: ignore[arg-type]
    [session_middleware] = [m for m in app.user_middleware if m.cls is SessionMiddleware]
    assert session_middleware.kwargs["https_only"] is True


def test_login_redirects_only_inside_the_console(client) -> None:
    client.refresh_token()
    for target, expected in [("https://evil.example/", "/console/"), ("//evil.example/", "/console/"),
                             ("/console/meetings", "/console/meetings")]:
        client.http.cookies.clear()
        client.refresh_token()
        response = client.post("/console/login", {"email": "hanna@bokvar.test",
                                                   "password": "correct horse battery staple", "next": target})
        assert response.headers["location"] == expected


def test_security_headers_forbid_framing_and_inline_script(client) -> None:
    response = client.get("/console/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
