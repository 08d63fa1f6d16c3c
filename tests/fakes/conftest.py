"""Makes the fake-provider fixtures available to the tests in this folder (the lead imports them
the same way in ``tests/conftest.py`` for everything else)."""

from tests.fakes.fixtures import fake_telegram, fake_twilio, twilio_client, webhook_receiver  # noqa: F401
