"""The ASGI app that ``bokvar serve`` runs.

This is the composition root: later parts mount their routes here (webhooks, the staff console and
simulator). It serves a health check and a status page, so an operator can see that the process is
up and which database it uses, with a link to the staff console, mounted at ``/console`` as an app
of its own (its session cookie and security headers stay off the provider webhooks).

With ``jobs=True`` (what ``bokvar serve`` asks for) the lifespan also runs the scheduler's jobs
(:mod:`scheduler.jobs`: planner, dispatcher, reconcile, task escalation) with the channels built
here. They start after the channels and stop before them, so an in-flight send can still record its
provider id. ``jobs`` is off by default because tests and benchmarks build this app too: a planner
and a dispatcher running behind their back would change their database, and with provider
settings would call the provider.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import escape

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route

from bot.background import bot_jobs, warm_up_language_models
from bot.channels.base import ChannelError
from bot.channels.registry import Channels, build_channels
from bot.settings import Settings
from bot.webhooks import Clock, utc_now, webhook_routes
from scheduler.jobs import SchedulerJobs
from staff.web import PREFIX as CONSOLE_PREFIX
from staff.web import create_console
from storage.models import Case, Tenant

log = logging.getLogger("bokvar.app")


def create_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    channels: Channels | None = None,
    clock: Clock = utc_now,
    *,
    jobs: bool = False,
) -> Starlette:
    channels = channels or build_channels(settings)

    @asynccontextmanager
    async def lifespan(instance: Starlette) -> AsyncIterator[None]:
        telegram = channels.telegram
        if telegram is not None:
            try:
                await telegram.start()
            except ChannelError as error:
                log.error("Telegram is unavailable: %s", error)
        await warm_up_language_models()
        scheduler = None
        if jobs:
            scheduler = SchedulerJobs(sessions, channels, clock=clock, extra_jobs=bot_jobs(sessions, clock))
        instance.state.jobs = scheduler
        if scheduler is not None:
            await scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if telegram is not None:
                await telegram.stop()

    async def health(_request: Request) -> JSONResponse:
        try:
            with sessions() as session:
                session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "channels": settings.channels})

    async def status(_request: Request) -> HTMLResponse:
        with sessions() as session:
            tenants = session.scalar(select(func.count()).select_from(Tenant)) or 0
            open_cases = session.scalar(select(func.count()).select_from(Case).where(Case.closed_at.is_(None)))
        channels = ", ".join(settings.channels)
        backend = escape(settings.database_url.get_backend_name())
        body = f"""<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Bokvar</title></head>
<body><main><h1>Bokvar</h1>
<p>Bokvar is running: {tenants} tenants, {open_cases or 0} open cases ({backend} database).</p>
<p>Channels: {escape(channels)}.</p>
<p><a href="{CONSOLE_PREFIX}/">Open the staff console</a></p></main></body></html>"""
        return HTMLResponse(body)

    routes = [
        Route("/", status),
        Route("/healthz", health),
        *webhook_routes(channels, sessions, clock),
        Mount(CONSOLE_PREFIX, app=create_console(settings, sessions, clock)),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.channels = channels
    return app
