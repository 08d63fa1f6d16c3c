"""Fake Twilio and Telegram servers for tests: real HTTP on 127.0.0.1 for the real client libraries.

Fixtures live in :mod:`tests.fakes.fixtures`; the classes are importable from here.
"""

from tests.fakes._http import ReceivedRequest, RecordingReceiver
from tests.fakes.telegram_server import DEFAULT_TELEGRAM_TOKEN, FakeTelegram
from tests.fakes.twilio_server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio, FakeTwilioHttpClient

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "DEFAULT_TELEGRAM_TOKEN",
    "FakeTelegram",
    "FakeTwilio",
    "FakeTwilioHttpClient",
    "ReceivedRequest",
    "RecordingReceiver",
]
