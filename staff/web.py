"""The staff console's HTTP face: thin routes over the plain functions of ``staff/``.

Every route is declared in one table (:func:`console_routes`) with the role it needs, and one
wrapper (:func:`_guard`) enforces, in order: a signed-in, active user (else a redirect to the login
page), the role (else 403), and on every POST the session's CSRF token (else 403). No handler can
forget a check, and a test walks the table to prove it.

Handlers are synchronous functions run in the thread pool; each does its work in one
:func:`storage.database.transaction`, so a page view and its audit entry commit together.

The console is its own Starlette app, mounted at ``/console`` by :mod:`bot.app`, so its session
cookie and security headers never touch the provider webhooks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.settings import Settings
from messages import catalogue
from messages.errors import MessagesError, TemplateError
from staff import (
    auth,
    csrf,
    i18n,
    inbox,
    meetings,
    replies,
    simulator_page,
    tasks,
    template_editor,
    users,
)
from staff.accounts import AccountError
from staff.audit import recent_entries
from staff.auth import AddressThrottle, LoginOutcome, Viewer
from staff.disclosure import DisclosureRefused, share_with_social_services
from storage.database import transaction
from storage.models import CaseOutcome, StaffRole

PREFIX = "/console"
STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "bokvar_console"
SESSION_MAX_AGE = 10 * 60 * 60  # one working day; then log in again
Clock = Callable[[], datetime]


def N_(text: str) -> str:  # noqa: N802 - the gettext convention for "translate when shown"
    """Marks a text for the message catalogue; it is translated where it is shown."""
    return text


@dataclass
class Console:
    """What every handler may need: configuration, the database and the clock."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    throttle: AddressThrottle = field(default_factory=AddressThrottle)

    @property
    def simulator_role(self) -> StaffRole:
        """Anyone may play a tenant on a simulator-only install; with real providers, admins only."""
        return StaffRole.STAFF if self.settings.channels == ["simulator"] else StaffRole.ADMIN


@dataclass
class Page:
    """One request as a handler sees it."""

    request: Request
    console: Console
    viewer: Viewer | None
    lang: str
    now: datetime
    form: FormData | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def gettext(self, text: str, **values: Any) -> str:
        translated = i18n.translations(self.lang).gettext(text)
        return translated % values if values else translated

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value if isinstance(value, str) else default

    def param(self, name: str) -> str:
        return str(self.request.path_params[name])

    def int_param(self, name: str) -> int:
        return int(self.request.path_params[name])

    def flash(self, text: str, kind: str = "success") -> None:
        self.request.session.setdefault("flash", []).append([kind, text])

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        session = self.request.session
        flashes = session.pop("flash", [])
        body = i18n.environment(self.lang).get_template(template).render(
            viewer=self.viewer, csrf_token=csrf.token_for(session), flashes=flashes,
            path=self.request.url.path, simulator_role=self.console.simulator_role, now=self.now, **context,
        )
        return HTMLResponse(body, status_code=status)

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(path, status_code=303)


Handler = Callable[[Page], Response]


@dataclass(frozen=True)
class ConsoleRoute:
    """A console route and the role it needs; ``role=None`` marks the few public ones."""

    path: str
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    role: StaffRole | None = StaffRole.STAFF
    name: str | None = None


def _forbidden(page: Page) -> Response:
    return page.render("error.html", status=403, code=403,
                       message=page.gettext("You do not have access to this page."))


def _not_found(page: Page) -> Response:
    return page.render("error.html", status=404, code=404, message=page.gettext("There is nothing here."))


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    if not target or not target.startswith(PREFIX + "/") or target.startswith("//") or "\\" in target:
        return PREFIX + "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return PREFIX + "/"
    return target


def _guard(console: Console, route: ConsoleRoute) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        lang = i18n.pick(request.session.get("lang"))
        now = console.clock()
        viewer: Viewer | None = None
        if route.role is not None:
            user_id = request.session.get("uid")
            viewer = await run_in_threadpool(_load_viewer, console, user_id)
            if viewer is None:
                request.session.pop("uid", None)
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":
                    target = PREFIX + "/"
                return RedirectResponse(f"{PREFIX}/login?next={quote(target)}", status_code=303)
        page = Page(request, console, viewer, lang, now)
        if request.method == "POST":
            if request.headers.get("content-type", "").startswith("application/json"):
                try:
                    page.data = json.loads(await request.body() or b"{}")
                except ValueError:
                    return JSONResponse({"error": "bad json"}, status_code=400)
                submitted = request.headers.get(csrf.HEADER)
            else:
                page.form = await request.form(max_files=0, max_fields=200)
                submitted = page.field(csrf.FIELD) or request.headers.get(csrf.HEADER)
            if not csrf.is_valid(request.session, submitted):
                return await run_in_threadpool(
                    lambda: page.render("error.html", status=403, code=403,
                                        message=page.gettext("The form had expired. Go back, reload and try again."))
                )
        if viewer is not None and route.role is not None and not viewer.may(route.role):
            return await run_in_threadpool(_forbidden, page)
        return await run_in_threadpool(route.handler, page)

    return endpoint


def _load_viewer(console: Console, user_id: object) -> Viewer | None:
    with console.sessions() as session:
        return auth.load_viewer(session, user_id)


# --- login ------------------------------------------------------------------------------------


def login_form(page: Page) -> Response:
    if page.request.session.get("uid") is not None and _load_viewer(page.console, page.request.session["uid"]):
        return page.redirect(PREFIX + "/")
    return page.render("login.html", next=_safe_next(page.request.query_params.get("next")), email="")


def login_submit(page: Page) -> Response:
    email, password = page.field("email"), page.field("password")
    target = _safe_next(page.field("next"))
    client = page.request.client.host if page.request.client else "unknown"
    if page.console.throttle.blocked(client):
        return page.render("login.html", status=429, next=target, email=email,
                           error=page.gettext("Too many attempts. Wait a quarter of an hour and try again."))
    with transaction(page.console.sessions) as session:
        result = auth.authenticate(session, email, password, page.now)
    if result.outcome is not LoginOutcome.OK or result.viewer is None:
        page.console.throttle.failed(client)
        message = (page.gettext("Too many attempts. Wait a quarter of an hour and try again.")
                   if result.outcome is LoginOutcome.LOCKED else page.gettext("Wrong e-mail or password."))
        return page.render("login.html", status=429 if result.outcome is LoginOutcome.LOCKED else 401,
                           next=target, email=email, error=message)
    page.console.throttle.succeeded(client)
    session_data = page.request.session
    lang = session_data.get("lang")
    session_data.clear()  # a fresh session (and CSRF token) at every login
    session_data["uid"] = result.viewer.id
    if lang:
        session_data["lang"] = lang
    csrf.token_for(session_data)
    return page.redirect(target)


def logout(page: Page) -> Response:
    lang = page.request.session.get("lang")
    page.request.session.clear()
    if lang:
        page.request.session["lang"] = lang
    page.flash(page.gettext("You are logged out."))
    return page.redirect(PREFIX + "/login")


def switch_language(page: Page) -> Response:
    page.request.session["lang"] = i18n.pick(page.field("lang"))
    return page.redirect(_safe_next(page.field("next")))


# --- inbox and tasks --------------------------------------------------------------------------


def inbox_page(page: Page) -> Response:
    assert page.viewer is not None
    filters = inbox.InboxFilters.from_query(page.request.query_params)
    with page.console.sessions() as session:
        result = inbox.list_tasks(session, page.viewer, filters, page.now)
    return page.render("inbox.html", inbox=result, nav="inbox")


def _task_or_404(page: Page, action: Callable[[Session], Response]) -> Response:
    try:
        with transaction(page.console.sessions) as session:
            return action(session)
    except tasks.TaskNotFound:
        return _not_found(page)


def task_view(page: Page) -> Response:
    assert page.viewer is not None
    viewer = page.viewer
    task_id = page.int_param("task_id")

    def show(session: Session) -> Response:
        data = tasks.task_page(session, viewer, task_id, page.now)
        return page.render("task.html", page_data=data, nav="inbox", reply_error=None, reply_text="",
                           max_reply=replies.MAX_REPLY_LENGTH)

    return _task_or_404(page, show)


def _back_to_task(page: Page, task_id: int, anchor: str = "") -> Response:
    return page.redirect(f"{PREFIX}/tasks/{task_id}{anchor}")


def task_assign(page: Page) -> Response:
    assert page.viewer is not None
    task_id = page.int_param("task_id")
    try:
        with transaction(page.console.sessions) as session:
            tasks.assign_to_me(session, page.viewer, task_id, page.now)
    except tasks.TaskNotFound:
        return _not_found(page)
    except tasks.TaskActionError:
        page.flash(page.gettext("The task is closed."), "error")
        return _back_to_task(page, task_id)
    page.flash(page.gettext("The task is now yours."))
    return _back_to_task(page, task_id)


REPLY_ERRORS = {
    "choose_one": N_("Write a message or choose a template."),
    "too_long": N_("The message is too long."),
    "unreachable": N_("The tenant cannot be reached on any channel (none on file, or all opted out)."),
    "template_unavailable": N_("That template cannot be sent for this case."),
}


def task_reply(page: Page) -> Response:
    assert page.viewer is not None
    viewer = page.viewer
    task_id = page.int_param("task_id")

    def reply(session: Session) -> Response:
        task, tenant = tasks.task_with_tenant(session, task_id)
        mode = page.field("mode", "text")
        body = page.field("body") if mode == "text" else ""
        key = page.field("template_key") if mode == "template" else ""
        try:
            queued = replies.queue_reply(session, viewer, tenant, page.now, body=body, template_key=key or None,
                                         case=tasks.case_of(session, task), in_reply_to_message_id=task.message_id,
                                         task_id=task.id)
        except replies.ReplyError as error:
            session.rollback()
            page.flash(page.gettext(REPLY_ERRORS.get(error.code, "The message could not be queued.")), "error")
            return _back_to_task(page, task_id, "#reply")
        page.flash(page.gettext("Your message is queued and will be sent by %(channel)s.",
                                channel=queued.channels[0].upper()))
        return _back_to_task(page, task_id, "#conversation")

    return _task_or_404(page, reply)


def task_note(page: Page) -> Response:
    assert page.viewer is not None
    task_id = page.int_param("task_id")
    try:
        with transaction(page.console.sessions) as session:
            tasks.add_note(session, page.viewer, task_id, page.field("body"), page.now)
    except tasks.TaskNotFound:
        return _not_found(page)
    except tasks.TaskActionError:
        page.flash(page.gettext("The note is empty."), "error")
        return _back_to_task(page, task_id, "#notes")
    page.flash(page.gettext("Note added."))
    return _back_to_task(page, task_id, "#notes")


def task_outcome(page: Page) -> Response:
    assert page.viewer is not None
    task_id = page.int_param("task_id")
    raw = page.field("outcome")
    if raw not in CaseOutcome._value2member_map_:
        page.flash(page.gettext("Choose an outcome."), "error")
        return _back_to_task(page, task_id, "#outcome")
    try:
        with transaction(page.console.sessions) as session:
            tasks.record_outcome(session, page.viewer, task_id, CaseOutcome(raw), page.now)
            if page.field("close") == "1":
                tasks.close_task(session, page.viewer, task_id, page.now)
    except tasks.TaskNotFound:
        return _not_found(page)
    except tasks.TaskActionError:
        page.flash(page.gettext("Choose an outcome."), "error")
        return _back_to_task(page, task_id, "#outcome")
    page.flash(page.gettext("Outcome recorded."))
    return _back_to_task(page, task_id)


def task_close(page: Page) -> Response:
    assert page.viewer is not None
    task_id = page.int_param("task_id")
    try:
        with transaction(page.console.sessions) as session:
            tasks.close_task(session, page.viewer, task_id, page.now)
    except tasks.TaskNotFound:
        return _not_found(page)
    page.flash(page.gettext("Task closed."))
    return page.redirect(PREFIX + "/")


def task_reopen(page: Page) -> Response:
    assert page.viewer is not None
    task_id = page.int_param("task_id")
    try:
        with transaction(page.console.sessions) as session:
            tasks.reopen_task(session, page.viewer, task_id, page.now)
    except tasks.TaskNotFound:
        return _not_found(page)
    page.flash(page.gettext("Task reopened."))
    return _back_to_task(page, task_id)


DISCLOSURE_REASONS = {
    "none": N_("There is no consent on file. Ask the tenant first; Bokvar can send the consent request."),
    "refused": N_("The tenant said no to sharing. Nothing may be shared."),
    "withdrawn": N_("The tenant withdrew their consent. Nothing more may be shared."),
    "expired": N_("The consent has expired. Ask the tenant to give it again."),
    "not_yet_valid": N_("The consent is not valid yet."),
    "other_municipality": N_("The consent is for another municipality than the tenant's."),
    "wrong_direction": N_("The consent does not cover sharing from the landlord."),
}


def task_share(page: Page) -> Response:
    assert page.viewer is not None
    viewer = page.viewer
    task_id = page.int_param("task_id")

    def share(session: Session) -> Response:
        task, tenant = tasks.task_with_tenant(session, task_id)
        try:
            disclosure = share_with_social_services(session, viewer, tenant, page.now, page.field("note"), task.id)
        except DisclosureRefused as refused:
            page.flash(page.gettext(DISCLOSURE_REASONS[refused.state.value]), "error")
            return _back_to_task(page, task_id, "#consent")
        page.flash(page.gettext("Shared with %(recipient)s and logged as a disclosure.",
                                recipient=disclosure.recipient))
        return _back_to_task(page, task_id, "#consent")

    return _task_or_404(page, share)


# --- small JSON helpers for the live counters -------------------------------------------------


def api_segments(page: Page) -> Response:
    text = page.data.get("text", "")
    if not isinstance(text, str):
        return JSONResponse({"error": "text must be a string"}, status_code=400)
    info = replies.count_segments(text[:5000])
    return JSONResponse({"encoding": info.encoding, "segments": info.segments, "characters": info.characters,
                         "units": info.units, "per_segment": info.per_segment, "non_gsm": list(info.non_gsm)})


def api_task_template(page: Page) -> Response:
    task_id = page.int_param("task_id")
    key = page.data.get("key", "")
    with page.console.sessions() as session:
        try:
            task, tenant = tasks.task_with_tenant(session, task_id)
        except tasks.TaskNotFound:
            return JSONResponse({"error": "no such task"}, status_code=404)
        try:
            rendered = replies.preview_template(tenant, tasks.case_of(session, task), str(key))
        except (replies.ReplyError, MessagesError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
    return JSONResponse({"text": rendered.text, "language": rendered.language_used, "encoding": rendered.encoding,
                         "segments": rendered.segments, "budget": rendered.budget})


def api_template_check(page: Page) -> Response:
    key, lang, source = (page.data.get(name) for name in ("key", "lang", "source"))
    if not all(isinstance(v, str) for v in (key, lang, source)):
        return JSONResponse({"error": "key, lang and source are required"}, status_code=400)
    assert isinstance(key, str) and isinstance(lang, str) and isinstance(source, str)
    try:
        rendered = template_editor.check(key, lang, source)
    except TemplateError as error:
        return JSONResponse({"ok": False, "problems": list(error.problems)})
    except MessagesError as error:
        return JSONResponse({"ok": False, "problems": [str(error)]})
    return JSONResponse({"ok": True, "text": rendered.text, "encoding": rendered.encoding,
                         "segments": rendered.segments, "budget": rendered.budget,
                         "within_budget": rendered.within_budget})


# --- meetings ---------------------------------------------------------------------------------


SLOT_ERRORS = {
    "bad_time": N_("Write the start times as 10:00, 14:30."),
    "no_times": N_("Give at least one start time."),
    "bad_length": N_("A meeting lasts between 5 minutes and 4 hours."),
    "too_many": N_("At most 40 times at once."),
    "in_the_past": N_("That time has already passed."),
    "not_open": N_("Only an open time can be cancelled."),
}


def meetings_page(page: Page) -> Response:
    today = page.now.astimezone(meetings.STOCKHOLM).date()
    raw = page.request.query_params.get("from", "")
    try:
        start = date.fromisoformat(raw) if raw else today
    except ValueError:
        start = today
    with page.console.sessions() as session:
        days = meetings.schedule(session, start, 14)
    return page.render("meetings.html", days=days, start=start, today=today, nav="meetings",
                       previous=start - timedelta(days=14), following=start + timedelta(days=14),
                       default_day=(today + timedelta(days=1)).isoformat())


def meetings_publish(page: Page) -> Response:
    assert page.viewer is not None
    try:
        day = date.fromisoformat(page.field("day"))
        length = timedelta(minutes=int(page.field("length", "45") or "45"))
    except ValueError:
        page.flash(page.gettext("Choose a day and a length in minutes."), "error")
        return page.redirect(PREFIX + "/meetings")
    try:
        starts = meetings.parse_times(page.field("times"))
        if length < timedelta(minutes=5):
            raise meetings.SlotError("bad_length")
        with transaction(page.console.sessions) as session:
            slots = meetings.publish_slots(session, page.viewer, day, starts, length, page.field("location"),
                                           page.now)
    except meetings.SlotError as error:
        page.flash(page.gettext(SLOT_ERRORS[error.code]), "error")
        return page.redirect(PREFIX + "/meetings")
    page.flash(page.gettext("%(count)s meeting times published.", count=len(slots)))
    return page.redirect(f"{PREFIX}/meetings?from={day.isoformat()}")


def meetings_cancel_slot(page: Page) -> Response:
    assert page.viewer is not None
    try:
        with transaction(page.console.sessions) as session:
            meetings.cancel_slot(session, page.viewer, page.int_param("slot_id"), page.now)
    except meetings.SlotError as error:
        page.flash(page.gettext(SLOT_ERRORS[error.code]), "error")
        return page.redirect(PREFIX + "/meetings")
    page.flash(page.gettext("The time was cancelled."))
    return page.redirect(PREFIX + "/meetings")


def meeting_ics(page: Page) -> Response:
    host = urlsplit(page.console.settings.public_url).hostname or "bokvar"
    with page.console.sessions() as session:
        body = meetings.meeting_ics(session, page.int_param("meeting_id"), page.now, host)
    if body is None:
        return _not_found(page)
    return Response(body, media_type="text/calendar; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="bokvar-meeting-{page.int_param("meeting_id")}.ics"'})


# --- template editor (admins) -----------------------------------------------------------------


def templates_index(page: Page) -> Response:
    with page.console.sessions() as session:
        summaries = template_editor.key_summaries(session)
    return page.render("templates_index.html", summaries=summaries, nav="templates")


def _key_or_404(page: Page) -> str | None:
    key, known = page.param("key"), catalogue.keys()
    return key if key in known else None


def template_key_page(page: Page, errors: dict[str, tuple[str, ...]] | None = None,
                      drafts: dict[str, str] | None = None, status: int = 200) -> Response:
    key = _key_or_404(page)
    if key is None:
        return _not_found(page)
    with page.console.sessions() as session:
        columns = template_editor.key_columns(session, key)
    return page.render("template_key.html", key=key, spec=catalogue.spec(key), columns=columns,
                       errors=errors or {}, drafts=drafts or {}, nav="templates", status=status,
                       placeholders={name: catalogue.PLACEHOLDERS[name] for name in catalogue.spec(key).placeholders})


def template_save(page: Page) -> Response:
    assert page.viewer is not None
    key, lang = _key_or_404(page), page.param("lang")
    if key is None or lang not in catalogue.languages():
        return _not_found(page)
    source = page.field("body")
    try:
        with transaction(page.console.sessions) as session:
            version = template_editor.save_version(session, page.viewer, key, lang, source, page.now)
    except TemplateError as error:
        return template_key_page(page, errors={lang: error.problems}, drafts={lang: source}, status=422)
    except template_editor.NothingChanged:
        page.flash(page.gettext("Nothing changed, so no new version was saved."), "info")
        return page.redirect(f"{PREFIX}/templates/{key}#lang-{lang}")
    page.flash(page.gettext("Saved %(key)s (%(lang)s) as version %(version)s. It is used from the next message.",
                            key=key, lang=lang, version=version.version))
    return page.redirect(f"{PREFIX}/templates/{key}#lang-{lang}")


def template_history(page: Page) -> Response:
    key, lang = _key_or_404(page), page.param("lang")
    if key is None or lang not in catalogue.languages():
        return _not_found(page)
    with page.console.sessions() as session:
        rows = template_editor.history(session, key, lang)
    diffs = [template_editor.diff(older.body, newer.body) for newer, older in zip(rows, rows[1:], strict=False)]
    info = catalogue.languages()[lang]
    return page.render("template_history.html", key=key, lang_code=lang, info=info, rows=rows, diffs=diffs,
                       nav="templates")


def template_revert(page: Page) -> Response:
    assert page.viewer is not None
    key, lang = _key_or_404(page), page.param("lang")
    if key is None or lang not in catalogue.languages():
        return _not_found(page)
    try:
        version_number = int(page.field("version"))
        with transaction(page.console.sessions) as session:
            version = template_editor.revert(session, page.viewer, key, lang, version_number, page.now)
    except (ValueError, LookupError):
        page.flash(page.gettext("That version cannot be restored."), "error")
        return page.redirect(f"{PREFIX}/templates/{key}/{lang}/history")
    except TemplateError as error:
        page.flash("; ".join(error.problems), "error")
        return page.redirect(f"{PREFIX}/templates/{key}/{lang}/history")
    page.flash(page.gettext("Version %(old)s restored as version %(new)s.", old=version_number, new=version.version))
    return page.redirect(f"{PREFIX}/templates/{key}/{lang}/history")


def template_review(page: Page) -> Response:
    assert page.viewer is not None
    key, lang = _key_or_404(page), page.param("lang")
    if key is None or lang not in catalogue.languages():
        return _not_found(page)
    try:
        version_number = int(page.field("version"))
        with transaction(page.console.sessions) as session:
            template_editor.mark_reviewed(session, page.viewer, key, lang, version_number, page.now)
    except (ValueError, LookupError):
        return _not_found(page)
    page.flash(page.gettext("Version %(version)s marked as reviewed.", version=version_number))
    target = page.field("back") or "history"
    return page.redirect(f"{PREFIX}/templates/{key}#lang-{lang}" if target == "key"
                         else f"{PREFIX}/templates/{key}/{lang}/history")


# --- simulator --------------------------------------------------------------------------------


SIMULATOR_ERRORS = {
    "empty": N_("Write a reply first."),
    "too_long": N_("The reply is too long."),
    "no_tenant": N_("There is no such tenant."),
}


def simulator_index(page: Page) -> Response:
    with page.console.sessions() as session:
        people = simulator_page.tenants(session)
    return page.render("simulator_index.html", people=people, nav="simulator")


def simulator_tenant(page: Page) -> Response:
    assert page.viewer is not None
    with transaction(page.console.sessions) as session:
        found = simulator_page.thread(session, page.viewer, page.int_param("tenant_id"), page.now)
        if found is None:
            return _not_found(page)
        tenant, lines = found
        return page.render("simulator_tenant.html", tenant=tenant, lines=lines, nav="simulator",
                           municipality=tenant.municipality.name)


def simulator_reply(page: Page) -> Response:
    assert page.viewer is not None
    tenant_id = page.int_param("tenant_id")
    try:
        with transaction(page.console.sessions) as session:
            simulator_page.reply(session, page.viewer, tenant_id, page.field("text"), page.now)
    except simulator_page.SimulatorError as error:
        if error.code == "no_tenant":
            return _not_found(page)
        page.flash(page.gettext(SIMULATOR_ERRORS[error.code]), "error")
    return page.redirect(f"{PREFIX}/simulator/{tenant_id}#reply")


# --- users and audit (admins) -----------------------------------------------------------------


def users_page(page: Page, created: tuple[str, str] | None = None, error: str | None = None,
               status: int = 200) -> Response:
    with page.console.sessions() as session:
        rows = users.list_users(session, page.now)
    return page.render("users.html", rows=rows, created=created, error=error, nav="users", status=status,
                       roles=list(StaffRole))


def users_add(page: Page) -> Response:
    assert page.viewer is not None
    role = page.field("role")
    if role not in StaffRole._value2member_map_:
        return users_page(page, error=page.gettext("Choose a role."), status=422)
    try:
        with transaction(page.console.sessions) as session:
            user, password = users.add_user(session, page.viewer, page.field("email"), StaffRole(role),
                                            page.field("name"), page.now)
    except AccountError as error:
        return users_page(page, error=str(error), status=422)
    return users_page(page, created=(user.email, password))


def users_unlock(page: Page) -> Response:
    assert page.viewer is not None
    try:
        with transaction(page.console.sessions) as session:
            users.unlock(session, page.viewer, page.int_param("user_id"), page.now)
    except LookupError:
        return _not_found(page)
    page.flash(page.gettext("The account is unlocked."))
    return page.redirect(PREFIX + "/users")


def users_active(page: Page) -> Response:
    assert page.viewer is not None
    try:
        with transaction(page.console.sessions) as session:
            users.set_active(session, page.viewer, page.int_param("user_id"), page.field("active") == "1", page.now)
    except LookupError:
        return _not_found(page)
    except ValueError:
        page.flash(page.gettext("You cannot deactivate your own account."), "error")
        return page.redirect(PREFIX + "/users")
    page.flash(page.gettext("The account was updated."))
    return page.redirect(PREFIX + "/users")


def audit_page(page: Page) -> Response:
    with page.console.sessions() as session:
        rows = recent_entries(session, 300)
    return page.render("audit.html", rows=rows, nav="audit")


# --- the route table --------------------------------------------------------------------------


def console_routes(console: Console) -> list[ConsoleRoute]:
    """Every console route with the role it needs; the guard and the security tests read this."""
    admin, staff = StaffRole.ADMIN, StaffRole.STAFF
    sim = console.simulator_role
    return [
        ConsoleRoute("/login", login_form, ("GET",), None, "login"),
        ConsoleRoute("/login", login_submit, ("POST",), None, "login_submit"),
        ConsoleRoute("/language", switch_language, ("POST",), None, "language"),
        ConsoleRoute("/logout", logout, ("POST",), staff, "logout"),
        ConsoleRoute("/", inbox_page, ("GET",), staff, "inbox"),
        ConsoleRoute("/tasks/{task_id:int}", task_view, ("GET",), staff, "task"),
        ConsoleRoute("/tasks/{task_id:int}/assign", task_assign, ("POST",), staff),
        ConsoleRoute("/tasks/{task_id:int}/reply", task_reply, ("POST",), staff),
        ConsoleRoute("/tasks/{task_id:int}/note", task_note, ("POST",), staff),
        ConsoleRoute("/tasks/{task_id:int}/outcome", task_outcome, ("POST",), staff),
        ConsoleRoute("/tasks/{task_id:int}/close", task_close, ("POST",), staff),
        ConsoleRoute("/tasks/{task_id:int}/reopen", task_reopen, ("POST",), staff),
        ConsoleRoute("/tasks/{task_id:int}/share", task_share, ("POST",), staff),
        ConsoleRoute("/api/segments", api_segments, ("POST",), staff),
        ConsoleRoute("/api/tasks/{task_id:int}/template", api_task_template, ("POST",), staff),
        ConsoleRoute("/meetings", meetings_page, ("GET",), staff, "meetings"),
        ConsoleRoute("/meetings/slots", meetings_publish, ("POST",), staff),
        ConsoleRoute("/meetings/slots/{slot_id:int}/cancel", meetings_cancel_slot, ("POST",), staff),
        ConsoleRoute("/meetings/{meeting_id:int}.ics", meeting_ics, ("GET",), staff),
        ConsoleRoute("/templates", templates_index, ("GET",), admin, "templates"),
        ConsoleRoute("/templates/{key}", template_key_page, ("GET",), admin),
        ConsoleRoute("/templates/{key}/{lang}", template_save, ("POST",), admin),
        ConsoleRoute("/templates/{key}/{lang}/history", template_history, ("GET",), admin),
        ConsoleRoute("/templates/{key}/{lang}/revert", template_revert, ("POST",), admin),
        ConsoleRoute("/templates/{key}/{lang}/review", template_review, ("POST",), admin),
        ConsoleRoute("/api/templates/check", api_template_check, ("POST",), admin),
        ConsoleRoute("/simulator", simulator_index, ("GET",), sim, "simulator"),
        ConsoleRoute("/simulator/{tenant_id:int}", simulator_tenant, ("GET",), sim),
        ConsoleRoute("/simulator/{tenant_id:int}/reply", simulator_reply, ("POST",), sim),
        ConsoleRoute("/users", users_page, ("GET",), admin, "users"),
        ConsoleRoute("/users", users_add, ("POST",), admin),
        ConsoleRoute("/users/{user_id:int}/unlock", users_unlock, ("POST",), admin),
        ConsoleRoute("/users/{user_id:int}/active", users_active, ("POST",), admin),
        ConsoleRoute("/audit", audit_page, ("GET",), admin, "audit"),
    ]


class SecurityHeaders:
    """Headers for every console response: no framing, no inline script, no caching of personal data."""

    HEADERS = (
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                     b"script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                     b"base-uri 'none'; object-src 'none'"),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith(PREFIX + "/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += list(self.HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_console(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> Starlette:
    """The console as an ASGI app to mount at :data:`PREFIX`."""
    console = Console(settings, sessions, clock)
    routes: list[Route | Mount] = [
        Route(r.path, _guard(console, r), methods=list(r.methods), name=r.name) for r in console_routes(console)
    ]
    routes.append(Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"))
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie=SESSION_COOKIE,
                   max_age=SESSION_MAX_AGE, same_site="lax", https_only=settings.public_url.startswith("https://"),
                   path=PREFIX),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.console = console
    return app
