"""``bokvar db upgrade``: apply the schema migrations."""

from __future__ import annotations

import argparse

from bot.commands.runtime import runtime
from storage.migrate import current_revision


def upgrade_command(_args: argparse.Namespace) -> int:
    context = runtime()
    context.upgrade_database()
    print(f"database schema is at revision {current_revision(context.engine)}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = subparsers.add_parser("db", help="manage the database schema", description="Manage the database schema.")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = actions.add_parser(
        "upgrade",
        help="apply all migrations (safe to repeat)",
        description="Apply every schema migration to the database in BOKVAR_DATABASE_URL. Safe to repeat.",
    )
    up.set_defaults(handler=upgrade_command)
