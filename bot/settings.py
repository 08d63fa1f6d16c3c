"""Settings from environment variables (and an optional ``.env``), validated once at start.

Every wrong value is reported with the name of the setting and what would be right, all at once,
so an operator fixes a deployment in one go instead of one traceback at a time. Real variables win
over ``.env``; ``.env`` is never written back into the process environment.

No provider configured means the simulator channel only, so a fresh checkout runs without any
credentials.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from dotenv import dotenv_values
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError

from storage.database import normalise_url

DEFAULT_DATABASE_URL = "sqlite:///bokvar.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEZONE = "Europe/Stockholm"

_TWILIO_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_TWILIO_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
_TELEGRAM_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
MIN_SECRET_KEY_LENGTH = 32


@dataclass(frozen=True)
class SettingProblem:
    """One wrong value: the variable's name and a sentence an operator can act on."""

    setting: str
    problem: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.problem}"


class SettingsError(Exception):
    """All the problems found in the configuration, one per line when printed."""

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str = field(repr=False)
    messaging_service_sid: str | None
    from_number: str | None
    api_url: str | None


@dataclass(frozen=True)
class TelegramSettings:
    bot_token: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_url: str | None


@dataclass(frozen=True)
class Settings:
    database_url: URL
    public_url: str
    secret_key: str = field(repr=False)
    secret_key_generated: bool
    timezone: ZoneInfo
    twilio: TwilioSettings | None
    telegram: TelegramSettings | None

    @property
    def channels(self) -> list[str]:
        """The channels that can send: providers that are configured, else the simulator."""
        configured = [name for name, on in (("sms", self.twilio), ("telegram", self.telegram)) if on]
        return configured or ["simulator"]


def _http_url(value: str) -> str | None:
    """The URL without a trailing slash if it is an absolute http(s) URL, else None."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return value.rstrip("/")


class _Reader:
    """Reads variables from a mapping and collects problems instead of stopping at the first."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.problems: list[SettingProblem] = []

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def fail(self, name: str, problem: str) -> None:
        self.problems.append(SettingProblem(name, problem))

    def url(self, name: str, default: str | None = None) -> str | None:
        raw = self.get(name) or default
        if raw is None:
            return None
        url = _http_url(raw)
        if url is None:
            self.fail(name, f"{raw!r} is not an absolute http(s) URL, e.g. https://bokvar.example.se")
        return url


def _database_url(reader: _Reader) -> URL | None:
    name = "BOKVAR_DATABASE_URL"
    raw = reader.get(name) or DEFAULT_DATABASE_URL
    example = "e.g. sqlite:///bokvar.db or postgresql://user@host:5432/bokvar"
    try:
        url = normalise_url(raw)
    except (ArgumentError, ValueError):
        reader.fail(name, f"{raw!r} is not a database URL; {example}")
        return None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        reader.fail(name, f"database {backend!r} is not supported (only sqlite and postgresql); {example}")
        return None
    if backend == "postgresql" and not url.host and not url.query.get("host"):
        reader.fail(name, f"{raw!r} names no PostgreSQL host; {example}")
        return None
    if backend == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).expanduser().resolve().parent
        if not folder.is_dir():
            reader.fail(name, f"the folder {str(folder)!r} for the SQLite file does not exist")
            return None
    return url


def _timezone(reader: _Reader) -> ZoneInfo | None:
    raw = reader.get("BOKVAR_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        reader.fail("BOKVAR_TIMEZONE", f"{raw!r} is not a time zone name, e.g. Europe/Stockholm")
        return None


def _secret_key(reader: _Reader) -> tuple[str, bool]:
    raw = reader.get("BOKVAR_SECRET_KEY")
    if raw is None:
        return secrets.token_urlsafe(48), True
    if len(raw) < MIN_SECRET_KEY_LENGTH:
        reader.fail(
            "BOKVAR_SECRET_KEY",
            f"too short ({len(raw)} characters); use at least {MIN_SECRET_KEY_LENGTH} random characters, "
            "e.g. from: python -c 'import secrets; print(secrets.token_urlsafe(48))'",
        )
    return raw, False


def _twilio(reader: _Reader) -> TwilioSettings | None:
    sid = reader.get("TWILIO_ACCOUNT_SID")
    token = reader.get("TWILIO_AUTH_TOKEN")
    service = reader.get("TWILIO_MESSAGING_SERVICE_SID")
    sender = reader.get("TWILIO_FROM_NUMBER")
    api_url = reader.url("BOKVAR_TWILIO_API_URL")
    if not any((sid, token, service, sender)):
        return None
    before = len(reader.problems)
    if sid is None:
        reader.fail("TWILIO_ACCOUNT_SID", "missing; SMS needs the account SID (AC followed by 32 hex digits)")
    elif not _TWILIO_ACCOUNT_SID.fullmatch(sid):
        reader.fail("TWILIO_ACCOUNT_SID", "not an account SID (AC followed by 32 hex digits)")
    if token is None:
        reader.fail("TWILIO_AUTH_TOKEN", "missing; SMS needs the auth token (it also verifies webhooks)")
    if service and sender:
        reader.fail("TWILIO_FROM_NUMBER", "set either TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER, not both")
    elif not service and not sender:
        reader.fail("TWILIO_MESSAGING_SERVICE_SID", "missing; set it or TWILIO_FROM_NUMBER to choose the sender")
    elif service and not _TWILIO_SERVICE_SID.fullmatch(service):
        reader.fail("TWILIO_MESSAGING_SERVICE_SID", "not a Messaging Service SID (MG followed by 32 hex digits)")
    elif sender:
        sender = _sender(reader, sender)
    if len(reader.problems) > before:
        return None
    assert sid is not None and token is not None
    return TwilioSettings(sid, token, service, sender, api_url)


def _sender(reader: _Reader, sender: str) -> str:
    """An E.164 number (two-way) or an alphanumeric sender ID (one-way: tenants cannot reply)."""
    if sender.startswith("+"):
        try:
            number = phonenumbers.parse(sender, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            reader.fail("TWILIO_FROM_NUMBER", f"{sender!r} is not a valid phone number in E.164 (+46...)")
            return sender
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not _ALPHANUMERIC_SENDER.fullmatch(sender):
        reader.fail(
            "TWILIO_FROM_NUMBER",
            "neither an E.164 number (+46...) nor an alphanumeric sender ID (1-11 letters/digits, one letter)",
        )
    return sender


def _telegram(reader: _Reader) -> TelegramSettings | None:
    token = reader.get("TELEGRAM_BOT_TOKEN")
    secret = reader.get("TELEGRAM_WEBHOOK_SECRET")
    api_url = reader.url("BOKVAR_TELEGRAM_API_URL")
    if token is None and secret is None:
        return None
    before = len(reader.problems)
    if token is None:
        reader.fail("TELEGRAM_BOT_TOKEN", "missing; TELEGRAM_WEBHOOK_SECRET is set but no bot token")
    elif not _TELEGRAM_TOKEN.fullmatch(token):
        reader.fail("TELEGRAM_BOT_TOKEN", "not a bot token as given by @BotFather (digits:letters)")
    if secret is None:
        reader.fail("TELEGRAM_WEBHOOK_SECRET", "missing; webhooks without a secret could be forged")
    elif not _TELEGRAM_SECRET.fullmatch(secret):
        reader.fail("TELEGRAM_WEBHOOK_SECRET", "must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    if len(reader.problems) > before:
        return None
    assert token is not None and secret is not None
    return TelegramSettings(token, secret, api_url)


def load_settings(environ: Mapping[str, str], env_file: Path | None = Path(".env")) -> Settings:
    """Read and validate every setting; raise :class:`SettingsError` listing all problems."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({key: value for key, value in dotenv_values(env_file).items() if value is not None})
    values.update(environ)
    reader = _Reader(values)
    database_url = _database_url(reader)
    public_url = reader.url("BOKVAR_PUBLIC_URL", DEFAULT_PUBLIC_URL)
    secret_key, generated = _secret_key(reader)
    timezone = _timezone(reader)
    twilio = _twilio(reader)
    telegram = _telegram(reader)
    if reader.problems:
        raise SettingsError(reader.problems)
    assert database_url is not None and public_url is not None and timezone is not None
    return Settings(database_url, public_url, secret_key, generated, timezone, twilio, telegram)
