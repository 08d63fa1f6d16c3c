"""Settings: defaults that run with no credentials, and one clear line per wrong value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings

SID = "AC" + "a" * 32
SERVICE = "MG" + "b" * 32
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as info:
        load_settings(environ, env_file=None)
    return [str(problem) for problem in info.value.problems]


def test_defaults_need_no_credentials() -> None:
    settings = load_settings({}, env_file=None)
    assert settings.database_url.render_as_string() == "sqlite:///bokvar.db"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert str(settings.timezone) == "Europe/Stockholm"
    assert settings.channels == ["simulator"]
    assert settings.secret_key_generated and len(settings.secret_key) >= 32


def test_postgres_urls_use_psycopg3() -> None:
    for raw in ("postgresql://u@db/bokvar", "postgres://u@db/bokvar", "postgresql+psycopg2://u@db/bokvar"):
        settings = load_settings({"BOKVAR_DATABASE_URL": raw}, env_file=None)
        assert settings.database_url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"BOKVAR_DATABASE_URL": "not a url"}, "BOKVAR_DATABASE_URL: 'not a url' is not a database URL"),
        ({"BOKVAR_DATABASE_URL": "mysql://x@y/z"}, "BOKVAR_DATABASE_URL: database 'mysql' is not supported"),
        ({"BOKVAR_DATABASE_URL": "sqlite:////no/such/dir/b.db"}, "BOKVAR_DATABASE_URL: the folder '/no/such/dir'"),
        ({"BOKVAR_PUBLIC_URL": "bokvar.example.se"}, "BOKVAR_PUBLIC_URL: 'bokvar.example.se' is not an absolute"),
        ({"BOKVAR_TIMEZONE": "Europe/Stokholm"}, "BOKVAR_TIMEZONE: 'Europe/Stokholm' is not a time zone"),
        ({"BOKVAR_SECRET_KEY": "short"}, "BOKVAR_SECRET_KEY: too short (5 characters)"),
        ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t"}, "TWILIO_MESSAGING_SERVICE_SID: missing"),
        ({"TWILIO_ACCOUNT_SID": "nope", "TWILIO_AUTH_TOKEN": "t", "TWILIO_MESSAGING_SERVICE_SID": SERVICE},
         "TWILIO_ACCOUNT_SID: not an account SID"),
        ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+4670"},
         "TWILIO_FROM_NUMBER: '+4670' is not a valid phone number"),
        ({"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "Hyresvärden AB"},
         "TWILIO_FROM_NUMBER: neither an E.164 number"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN}, "TELEGRAM_WEBHOOK_SECRET: missing"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": "has space"}, "TELEGRAM_WEBHOOK_SECRET: must be"),
        ({"BOKVAR_TWILIO_API_URL": "ftp://x"}, "BOKVAR_TWILIO_API_URL: 'ftp://x' is not an absolute"),
    ],
)
def test_each_wrong_value_is_named(environ: dict[str, str], expected: str) -> None:
    found = problems(environ)
    assert len(found) == 1
    assert found[0].startswith(expected)


def test_all_problems_are_reported_together() -> None:
    found = problems({"BOKVAR_DATABASE_URL": "x", "BOKVAR_TIMEZONE": "Nowhere/City"})
    assert [line.split(":")[0] for line in found] == ["BOKVAR_DATABASE_URL", "BOKVAR_TIMEZONE"]


def test_providers_switch_on_with_their_variables() -> None:
    settings = load_settings(
        {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": "secret-token",
            "TWILIO_MESSAGING_SERVICE_SID": SERVICE,
            "BOKVAR_TWILIO_API_URL": "http://127.0.0.1:9999/",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": "s3cr3t_-",
        },
        env_file=None,
    )
    assert settings.channels == ["sms", "telegram"]
    assert settings.twilio is not None and settings.twilio.api_url == "http://127.0.0.1:9999"
    assert "secret-token" not in repr(settings)


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BOKVAR_TIMEZONE=Europe/Helsinki\nBOKVAR_PUBLIC_URL=https://from-file.example\n")
    settings = load_settings({"BOKVAR_PUBLIC_URL": "https://from-env.example"}, env_file=env_file)
    assert str(settings.timezone) == "Europe/Helsinki"
    assert settings.public_url == "https://from-env.example"
