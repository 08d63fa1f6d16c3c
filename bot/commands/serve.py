"""``bokvar serve``: run the web app and the scheduler's jobs in one process (the embedded default).

``--no-jobs`` runs the web app alone, for deployments that run the jobs in ``bokvar worker``
processes instead.
"""

from __future__ import annotations

import argparse
import logging

import uvicorn

from bot.app import create_app
from bot.commands.runtime import Runtime, runtime
from bot.demo import DEMO_DATABASE, create_demo_database, demo_settings

log = logging.getLogger("bokvar")


def serve_command(args: argparse.Namespace) -> int:
    context = runtime()
    if args.demo:
        summary, accounts = create_demo_database()
        context = Runtime(demo_settings(context.settings))
        print(f"demo database {DEMO_DATABASE} created ({summary})")
        for account in accounts:
            print(f"  {account.role.value:<6} {account.email}  password: {account.password}")
    if context.settings.database_url.get_backend_name() == "sqlite":
        context.upgrade_database()  # embedded default: one process owns the file
    else:
        context.require_current_schema()  # several processes: migrations are an explicit step
    if context.settings.secret_key_generated:
        log.warning("BOKVAR_SECRET_KEY is not set: a random key is used and sessions end at restart")
    app = create_app(context.settings, context.sessions, jobs=not args.no_jobs)
    print(f"Bokvar serves on http://{args.host}:{args.port}/ (channels: {', '.join(context.settings.channels)})")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the web app",
        description="Run the web app. On SQLite, migrations are applied at start; on PostgreSQL run "
        "'bokvar db upgrade' first.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help=f"start on a fresh demo database ({DEMO_DATABASE}) with the example tenants and cases",
    )
    serve.add_argument(
        "--no-jobs",
        action="store_true",
        help="do not run the planner and dispatcher in this process (run 'bokvar worker' instead)",
    )
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(handler=serve_command)
