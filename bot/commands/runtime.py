"""What every command needs: validated settings and a database, or one clear line and an exit.

Operators read these lines, so a wrong setting or an unreachable database is reported as one
sentence naming the setting, never as a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings, SettingsError, load_settings
from storage.database import make_engine, make_session_factory
from storage.migrate import current_revision, head_revision, upgrade


class CommandError(Exception):
    """Ends a command with its message on stderr and exit code ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def settings_from_environment() -> Settings:
    try:
        return load_settings(os.environ)
    except SettingsError as error:
        lines = [f"configuration error: {problem}" for problem in error.problems]
        raise CommandError("\n".join(lines), code=2) from None


def database_failure(error: OperationalError) -> CommandError:
    reason = str(error.orig).strip().splitlines()[0] if error.orig else "connection failed"
    return CommandError(f"cannot use the database in BOKVAR_DATABASE_URL: {reason}", code=2)


@dataclass
class Runtime:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def upgrade_database(self) -> None:
        try:
            upgrade(self.engine)
        except OperationalError as error:
            raise database_failure(error) from None

    def require_current_schema(self) -> None:
        """Refuse to run against a database whose schema is older than this code."""
        try:
            current = current_revision(self.engine)
        except OperationalError as error:
            raise database_failure(error) from None
        if current != head_revision():
            raise CommandError(
                f"the database schema is at {current or 'nothing'}, this version needs {head_revision()}: "
                "run 'bokvar db upgrade' first",
                code=2,
            )


def runtime() -> Runtime:
    return Runtime(settings_from_environment())
