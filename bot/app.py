"""The ASGI app that ``bokvar serve`` runs.

This is the composition root: later parts mount their routes here (webhooks, the staff console and
simulator) and start the scheduler in the lifespan. Until then it serves a health check and a
status page, so an operator can see that the process is up and which database it uses.
"""

from __future__ import annotations

from html import escape

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from bot.settings import Settings
from storage.models import Case, Tenant


def create_app(settings: Settings, sessions: sessionmaker[Session]) -> Starlette:
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
<p>Channels: {escape(channels)}.</p></main></body></html>"""
        return HTMLResponse(body)

    return Starlette(routes=[Route("/", status), Route("/healthz", health)])
