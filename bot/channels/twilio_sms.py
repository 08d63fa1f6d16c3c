"""SMS through Twilio with the real ``twilio`` client, and Twilio's webhooks.

Sending runs the synchronous client in a worker thread: its ``requests`` session honours timeouts
(the async client ignores ``timeout=``, twilio-python issue 925). ``BOKVAR_TWILIO_API_URL`` points
every request at another base URL (a proxy, or the fake server the tests start) by rewriting the
scheme and host of the final URL, the one place all requests pass through.

Webhooks are authenticated with ``X-Twilio-Signature`` over the *public* URL
(``BOKVAR_PUBLIC_URL`` + path + query) and every posted field, so a proxy in front of us does not
break validation, and a signature made for another URL is refused.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import (
    Button,
    ConfigurationError,
    ForgedRequest,
    Inbound,
    PermanentAddressError,
    SentMessage,
    StatusUpdate,
    TransientError,
)
from bot.settings import TwilioSettings
from storage.models import Channel as ChannelName
from storage.models import MessageStatus

INBOUND_PATH = "/webhooks/twilio/sms"
STATUS_PATH = "/webhooks/twilio/status"
SEND_TIMEOUT_SECONDS = 10.0

# Twilio error codes that say "this number will not work" (see Twilio's error dictionary).
UNSUBSCRIBED = "21610"
PERMANENT_ADDRESS_CODES = {
    "21211",  # invalid 'To' number
    "21214",  # 'To' number cannot be reached
    "21408",  # region not enabled
    "21610",  # recipient replied STOP
    "21612",  # cannot route to this number
    "21614",  # not a mobile number
    "30003",  # unreachable handset
    "30004",  # message blocked
    "30005",  # unknown destination
    "30006",  # landline or unreachable carrier
}
CONFIGURATION_CODES = {"20003", "20404", "21606", "21659", "21660", "21703", "21705"}

_STATUSES = {status.value: status for status in MessageStatus}


class BokvarHttpClient(TwilioHttpClient):
    """Twilio's HTTP client with an optional base URL and a per-thread view of the last answer.

    With ``base_url`` every request goes there instead of Twilio's host, keeping path and query.
    The last response is remembered per thread, because sends run in a thread pool and a
    ``Retry-After`` header must be read from this thread's answer, not a neighbour's.
    """

    def __init__(self, base_url: str | None = None, timeout: float = SEND_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url) if base_url else None
        self._local = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self._base is not None:
            parts = urlsplit(url)
            path = self._base.path.rstrip("/") + parts.path
            url = urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, parts.fragment))
        self._local.response = None
        response = super().request(method, url, *args, **kwargs)
        self._local.response = response
        return response

    def retry_after(self) -> float | None:
        """Seconds from the ``Retry-After`` header of this thread's last answer, if any."""
        response = getattr(self._local, "response", None)
        value = response.headers.get("Retry-After") if response is not None and response.headers else None
        try:
            return max(0.0, float(value)) if value is not None else None
        except ValueError:
            return None


def make_client(settings: TwilioSettings) -> tuple[Client, BokvarHttpClient]:
    http_client = BokvarHttpClient(settings.api_url)
    # environment={} keeps TWILIO_EDGE/TWILIO_REGION from redirecting requests behind our back.
    client = Client(settings.account_sid, settings.auth_token, http_client=http_client, environment={})
    return client, http_client


def classify(error: TwilioRestException, retry_after: float | None = None) -> Exception:
    """Turn Twilio's answer into the dispatcher's three cases."""
    code = str(error.code) if error.code is not None else None
    message = f"Twilio answered {error.status}" + (f" (error {code})" if code else "")
    if code == UNSUBSCRIBED:
        return PermanentAddressError(message, code=code, opted_out=True)
    if code in PERMANENT_ADDRESS_CODES:
        return PermanentAddressError(message, code=code)
    if error.status == 429:
        return TransientError(message, code=code, retry_after=retry_after)
    if error.status >= 500:
        return TransientError(message, code=code, retry_after=retry_after, maybe_sent=True)
    if error.status in (401, 403) or code in CONFIGURATION_CODES:
        return ConfigurationError(message, code=code)
    return PermanentAddressError(message, code=code)


class TwilioSmsChannel:
    """Sends SMS and reads Twilio's webhooks for one account."""

    name = ChannelName.SMS

    def __init__(self, settings: TwilioSettings, public_url: str) -> None:
        self.settings = settings
        self.public_url = public_url.rstrip("/")
        self.client, self.http_client = make_client(settings)
        self.validator = RequestValidator(settings.auth_token)

    @property
    def status_callback_url(self) -> str:
        return self.public_url + STATUS_PATH

    def send_sync(self, to: str, text: str) -> SentMessage:
        sender: dict[str, str] = (
            {"messaging_service_sid": self.settings.messaging_service_sid}
            if self.settings.messaging_service_sid
            else {"from_": self.settings.from_number or ""}
        )
        try:
            message = self.client.messages.create(
                to=to, body=text, status_callback=self.status_callback_url, **sender
            )
        except TwilioRestException as error:
            raise classify(error, self.http_client.retry_after()) from None
        except (TwilioException, OSError) as error:
            raise TransientError(f"Twilio could not be reached: {type(error).__name__}", maybe_sent=True) from None
        segments = int(message.num_segments) if message.num_segments else None
        status = _STATUSES.get(str(message.status), MessageStatus.QUEUED)
        return SentMessage(provider_id=str(message.sid), status=status, segments=segments)

    async def send(self, to: str, text: str, buttons: tuple[Button, ...] = ()) -> SentMessage:
        """Buttons are ignored: SMS menus carry their numbers in the text itself."""
        return await asyncio.to_thread(self.send_sync, to, text)

    def find_sent(self, to: str, text: str, since: datetime) -> SentMessage | None:
        """Look for a message we may have sent (to ``to``, this exact text, created since ``since``).

        Used before re-sending after an ambiguous failure or a crash: Twilio keeps every accepted
        message, so "not found" means it was not accepted and sending again cannot double it.
        """
        try:
            # No DateSent filter: a message Twilio accepted but has not sent yet has no send date
            # and would be missed. The newest 50 to this number, filtered by creation time, suffice.
            candidates = self.client.messages.list(to=to, limit=50)
        except TwilioRestException as error:
            raise classify(error, self.http_client.retry_after()) from None
        except (TwilioException, OSError) as error:
            raise TransientError(f"Twilio could not be reached: {type(error).__name__}") from None
        for message in candidates:
            created = message.date_created
            if message.body == text and (created is None or created >= since - timedelta(minutes=5)):
                status = _STATUSES.get(str(message.status), MessageStatus.QUEUED)
                return SentMessage(provider_id=str(message.sid), status=status)
        return None

    def lookup_status(self, provider_id: str) -> MessageStatus | None:
        """Ask Twilio what became of a message (reconciling a send interrupted by a crash)."""
        try:
            message = self.client.messages(provider_id).fetch()
        except TwilioRestException as error:
            if error.status == 404:
                return None
            raise classify(error) from None
        return _STATUSES.get(str(message.status))

    def verify(self, path: str, query: str, params: Mapping[str, str], signature: str | None) -> None:
        """Raise :class:`ForgedRequest` unless ``signature`` signs the public URL and all params."""
        url = self.public_url + path + (f"?{query}" if query else "")
        if not signature or not self.validator.validate(url, dict(params), signature):
            raise ForgedRequest("X-Twilio-Signature does not match")

    def parse_inbound(self, params: Mapping[str, str]) -> Inbound:
        sid = params.get("MessageSid") or params.get("SmsSid")
        sender = params.get("From")
        if not sid or not sender:
            raise ValueError("an inbound SMS needs MessageSid and From")
        opt_out_type = (params.get("OptOutType") or "").upper()
        return Inbound(
            channel=ChannelName.SMS,
            address=sender,
            text=params.get("Body", ""),
            provider_id=sid,
            opt_out=opt_out_type == "STOP",
            opt_in=opt_out_type == "START",
        )

    def parse_status(self, params: Mapping[str, str]) -> StatusUpdate | None:
        sid = params.get("MessageSid") or params.get("SmsSid")
        status = _STATUSES.get((params.get("MessageStatus") or params.get("SmsStatus") or "").lower())
        if not sid or status is None:
            return None
        return StatusUpdate(
            channel=ChannelName.SMS, provider_id=sid, status=status, error_code=params.get("ErrorCode") or None
        )
