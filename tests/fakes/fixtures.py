"""Pytest fixtures for the fake providers. In ``tests/conftest.py``::

    from tests.fakes.fixtures import fake_telegram, fake_twilio, twilio_client, webhook_receiver  # noqa: F401

Each fixture starts a fresh server per test and stops it afterwards (closing keep-alive connections
and cancelling pending status callbacks), so faults and records never leak between tests.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from twilio.rest import Client

from tests.fakes._http import RecordingReceiver
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.twilio_server import FakeTwilio

__all__ = ["fake_telegram", "fake_twilio", "twilio_client", "webhook_receiver"]


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """A running :class:`FakeTwilio` with the default account SID and auth token."""
    with FakeTwilio() as fake:
        yield fake
    assert not fake.errors, "the fake Twilio server failed:\n" + "\n".join(fake.errors)


@pytest.fixture
def twilio_client(fake_twilio: FakeTwilio) -> Client:
    """The real ``twilio.rest.Client`` talking to ``fake_twilio`` (``client.http_client.retry_after()``)."""
    return fake_twilio.client()


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """A running :class:`FakeTelegram` with the default bot token."""
    with FakeTelegram() as fake:
        yield fake
    assert not fake.errors, "the fake Telegram server failed:\n" + "\n".join(fake.errors)


@pytest.fixture
def webhook_receiver() -> Iterator[RecordingReceiver]:
    """A tiny server that records what the fakes post (status callbacks, updates) and answers 204."""
    with RecordingReceiver() as receiver:
        yield receiver
