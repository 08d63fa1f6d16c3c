"""Helpers for webhook tests: settings with providers switched on, and signing like Twilio does."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

from bot.settings import Settings, load_settings

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-0123456789"
PUBLIC_URL = "https://bokvar.example.se"
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TELEGRAM_SECRET = "webhook-secret_42"


def provider_settings(database_url: str, twilio_api_url: str | None = None, telegram_api_url: str | None = None,
                      public_url: str = PUBLIC_URL, telegram: bool = True) -> Settings:
    """Settings with both providers on. Telegram is only switched on when asked, and a test that
    starts the app's lifespan must give ``telegram_api_url`` (a fake server): no network here."""
    environ = {
        "BOKVAR_DATABASE_URL": database_url,
        "BOKVAR_PUBLIC_URL": public_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+46766861004",
    }
    if telegram:
        environ.update({"TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET})
    if twilio_api_url:
        environ["BOKVAR_TWILIO_API_URL"] = twilio_api_url
    if telegram_api_url:
        environ["BOKVAR_TELEGRAM_API_URL"] = telegram_api_url
    return load_settings(environ, env_file=None)


def twilio_signature(url: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, dict(params))


def inbound_sms(sid: str = "SM" + "a" * 32, sender: str = "+46701740605", body: str = "ja", **extra: str) -> dict:
    return {
        "MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": sender, "To": "+46766861004",
        "Body": body, "NumMedia": "0", "NumSegments": "1", "FromCountry": "SE", **extra,
    }
