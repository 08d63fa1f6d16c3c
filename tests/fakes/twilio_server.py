"""A fake Twilio Programmable Messaging API that the real ``twilio`` client talks to over HTTP.

Why a server and not a mock: the production channel relies on details of the client (how it turns a
4xx body into ``TwilioRestException.code``, how it pages lists, Basic auth), and those are exactly the
things a mock would paper over. Message JSON, error bodies and the list envelope follow
twilio-python's own integration fixtures (``tests/integration/api/v2010/account/test_message.py``).

Faults are injected per request (``fail_next``), per number (``unsubscribed_numbers``) or at a
seeded random rate (``fail_randomly``), so the dispatcher's exactly-once guarantees can be tested
against lost answers (``accept_then_500``, ``accept_then_drop``), rate limits and outages.

Status callbacks are posted like Twilio posts them: form-encoded, after the API answer, signed with
``X-Twilio-Signature`` over the exact callback URL, optionally out of order.

Fast enough for thousands of messages per test: with callbacks off (and no callback delay) a
message's status lifecycle runs inline after the answer instead of hopping to the callback pool,
list requests filtered by ``To`` use an index instead of scanning every message, and tests wait on
a condition (:meth:`FakeTwilio.wait_for_messages`) instead of polling.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes._http import Answer, FakeRequest, FakeServer, http_post

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "FAULT_KINDS",
    "FakeTwilio",
    "FakeTwilioHttpClient",
    "count_segments",
]

# The same values as tests/bot/webhook_support.py, so settings built there fit the fake as it is.
DEFAULT_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
DEFAULT_AUTH_TOKEN = "test-auth-token-0123456789"
DEFAULT_SERVICE_NUMBER = "+46766861004"
API_VERSION = "2010-04-01"

FAULT_KINDS = frozenset(
    {"500", "503", "429", "21610", "21211", "auth", "slow", "accept_then_500", "drop", "accept_then_drop"}
)
ENDPOINTS = frozenset({"send", "fetch", "list", "any"})
FAILED_STATUSES = frozenset({"failed", "undelivered"})

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")
_MESSAGES = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json")
_MESSAGE = re.compile(r"/2010-04-01/Accounts/(?P<account>[^/]+)/Messages/(?P<sid>[^/]+)\.json")

# Forward-only ordering of message statuses: callbacks may arrive out of order, the state may not go back.
_RANK = {
    "accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3,
    "delivered": 4, "undelivered": 4, "failed": 4, "canceled": 4, "read": 5,
}

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


def count_segments(body: str) -> int:
    """SMS segments as Twilio bills them (GSM-7 160/153, else UCS-2 70/67).

    Deliberately independent of Bokvar's own segment counter: the fake is the reference the code is
    tested against, not a copy of it.
    """
    if all(char in _GSM7 or char in _GSM7_EXTENDED for char in body):
        length = sum(2 if char in _GSM7_EXTENDED else 1 for char in body)
        single, part = 160, 153
    else:
        length = len(body.encode("utf-16-le")) // 2
        single, part = 70, 67
    if length <= single:
        return 1
    return -(-length // part)


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment is not None else None


def twilio_error(status: int, code: int, message: str, **extra: Any) -> dict[str, Any]:
    """Twilio's legacy error body: the client reads ``code`` and ``message`` from it.

    It must not contain ``type`` and ``title`` together with ``status``/``code``: the client would
    take it for an RFC 9457 problem and raise ``TwilioServiceException`` instead.
    """
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status, **extra}


@dataclass
class _Fault:
    kind: str
    endpoint: str
    retry_after: float | None = None
    delay: float | None = None


class FakeTwilioHttpClient(TwilioHttpClient):
    """The real Twilio HTTP client, sending every request to ``base_url`` (scheme and host replaced).

    It also keeps the last response *per thread*: the client raises ``TwilioRestException`` without
    the response headers, so ``Retry-After`` has to be read here. The base class's
    ``_test_only_last_response`` is shared by all threads and would mix answers up in concurrent sends.
    """

    def __init__(self, base_url: str, timeout: float | None = 10.0) -> None:
        super().__init__(timeout=timeout)
        self._base = urlsplit(base_url)
        self._local = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        url = urlunsplit(
            (self._base.scheme, self._base.netloc, self._base.path.rstrip("/") + parts.path, parts.query, "")
        )
        self._local.response = None
        response = super().request(method, url, *args, **kwargs)
        self._local.response = response
        return response

    @property
    def last_response(self) -> Response | None:
        """This thread's last answer (``status_code``, ``text``, ``headers``), or None."""
        return getattr(self._local, "response", None)

    def retry_after(self) -> float | None:
        """Seconds from ``Retry-After`` of this thread's last answer, if there was one."""
        response = self.last_response
        value = response.headers.get("Retry-After") if response is not None and response.headers else None
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


CallbackSender = Callable[[str, dict[str, str], dict[str, str]], int]
"""``(url, params, headers) -> HTTP status``: delivers a status callback without HTTP (e.g. a TestClient)."""


class FakeTwilio(FakeServer):
    """Twilio's Messages API on ``http://127.0.0.1:PORT``: point ``BOKVAR_TWILIO_API_URL`` at :attr:`url`.

    Records: :attr:`messages` (accepted messages, in order), :attr:`requests` (every request, with the
    status answered and the fault injected), :attr:`callback_results` (every status callback posted),
    :attr:`faults_injected` (a Counter by kind).
    """

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        seed: int = 0,
        callback_statuses: Iterable[str] = ("sent", "delivered"),
        callbacks_enabled: bool = True,
        reverse_callbacks: bool = False,
        callback_delay: float = 0.0,
        callback_target: str | None = None,
        callback_sender: CallbackSender | None = None,
        callback_workers: int = 4,
        callback_timeout: float = 5.0,
        callback_error_code: str = "30003",
        service_number: str = DEFAULT_SERVICE_NUMBER,
    ) -> None:
        """``callback_target`` delivers callbacks to another base URL while signing over the URL the
        message named, as a reverse proxy in front of the app would (so ``BOKVAR_PUBLIC_URL`` can stay
        ``https://…``). ``callback_sender`` replaces HTTP delivery altogether."""
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.seed = seed
        self.callback_statuses: tuple[str, ...] = tuple(callback_statuses)
        self.callbacks_enabled = callbacks_enabled
        self.reverse_callbacks = reverse_callbacks
        self.callback_delay = callback_delay
        self.callback_target = callback_target
        self.callback_sender = callback_sender
        self.callback_workers = callback_workers
        self.callback_timeout = callback_timeout
        self.callback_error_code = callback_error_code
        self.service_number = service_number
        # Per-number behaviour: these always get 21610; these run another status lifecycle.
        self.unsubscribed_numbers: set[str] = set()
        self.number_statuses: dict[str, tuple[str, ...]] = {}

        self.messages: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.callback_results: list[dict[str, Any]] = []
        self.faults_injected: Counter[str] = Counter()

        self._by_sid: dict[str, dict[str, Any]] = {}
        self._by_to: dict[str, list[dict[str, Any]]] = {}
        self._faults: deque[_Fault] = deque()
        self._random_rate = 0.0
        self._random_kinds: tuple[str, ...] = ()
        self._random_retry_after: float | None = 0
        self._random_endpoints: frozenset[str] = frozenset({"send"})
        self._fault_rng = random.Random(seed)
        self._sid_rng = random.Random(f"twilio-sids-{seed}")
        self._validator = RequestValidator(auth_token)
        self._callbacks_done = threading.Condition(self._lock)
        self._accepted = threading.Condition(self._lock)
        self._pending_lifecycles = 0
        self._executor: ThreadPoolExecutor | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeTwilio:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.callback_workers, thread_name_prefix="fake-twilio-callback")
        super().start()
        return self

    def _on_stop(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def client(self, timeout: float | None = 10.0) -> Client:
        """A real ``twilio.rest.Client`` talking to this fake (its ``http_client`` has ``retry_after()``)."""
        return Client(
            self.account_sid, self.auth_token, http_client=FakeTwilioHttpClient(self.url, timeout), environment={}
        )

    def reset(self) -> None:
        """Forget messages, requests, callbacks and pending faults (keeps settings and the seed's stream)."""
        with self._lock:
            self.messages.clear()
            self.requests.clear()
            self.callback_results.clear()
            self.faults_injected.clear()
            self._by_sid.clear()
            self._by_to.clear()
            self._faults.clear()
            self._random_rate = 0.0

    # -- faults ------------------------------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        count: int = 1,
        *,
        retry_after: float | None = None,
        delay: float | None = None,
        endpoint: str = "send",
    ) -> None:
        """Answer the next ``count`` requests to ``endpoint`` ("send", "fetch", "list" or "any") with ``kind``.

        Kinds: "500", "503", "429" (``Retry-After`` = ``retry_after``, default 1), "21610", "21211",
        "auth" (401, 20003), "slow" (a normal answer after ``delay`` s, default 1), "accept_then_500"
        (the message is accepted, callbacks follow, but the answer is a 500: a lost answer),
        "drop" (connection closed, nothing accepted), "accept_then_drop" (accepted, connection closed
        without an answer). ``delay`` also slows any other kind.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        if endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {sorted(ENDPOINTS)}")
        with self._lock:
            self._faults.extend(_Fault(kind, endpoint, retry_after, delay) for _ in range(count))

    def fail_randomly(
        self,
        rate: float,
        kinds: Iterable[str] = ("500", "429"),
        retry_after: float | None = 0,
        *,
        endpoints: Iterable[str] = ("send",),
    ) -> None:
        """Answer a seeded random ``rate`` of requests with one of ``kinds`` (``rate=0`` switches it off).

        The decision sequence depends only on ``seed``; with concurrent senders *which* message gets
        which decision depends on arrival order, so assert on outcomes, not on particular messages.
        """
        kinds = tuple(kinds)
        unknown = set(kinds) - FAULT_KINDS
        if unknown or not 0 <= rate <= 1:
            raise ValueError(f"bad random faults: rate={rate}, unknown kinds={sorted(unknown)}")
        with self._lock:
            self._random_rate, self._random_kinds, self._random_retry_after = rate, kinds, retry_after
            self._random_endpoints = frozenset(endpoints)

    def _take_fault(self, endpoint: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in (endpoint, "any"):
                    self._faults.remove(fault)
                    return fault
            if (self._random_rate and endpoint in self._random_endpoints
                    and self._fault_rng.random() < self._random_rate):
                return _Fault(self._fault_rng.choice(self._random_kinds), endpoint, self._random_retry_after)
        return None

    def clear_faults(self) -> None:
        """Drop faults queued by :meth:`fail_next` and switch random faults off (records are kept)."""
        with self._lock:
            self._faults.clear()
            self._random_rate = 0.0

    @property
    def pending_faults(self) -> int:
        """Faults queued by :meth:`fail_next` and not yet used."""
        with self._lock:
            return len(self._faults)

    # -- HTTP --------------------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> Answer:
        record: dict[str, Any] = {
            "method": request.method, "path": request.path,
            "query": {key: values[-1] for key, values in request.query.items()},
            "form": request.form() if request.method == "POST" else {},
            "auth_user": self._auth_user(request), "status": None, "fault": None,
        }
        with self._lock:
            self.requests.append(record)
        answer = self._route(request, record)
        record["status"] = None if answer.drop else answer.status
        return answer

    def _auth_user(self, request: FakeRequest) -> str | None:
        header = request.headers.get("Authorization") or ""
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return user if (user, password) == (self.account_sid, self.auth_token) else None

    def _route(self, request: FakeRequest, record: dict[str, Any]) -> Answer:
        many, one = _MESSAGES.fullmatch(request.path), _MESSAGE.fullmatch(request.path)
        match = many or one
        if match is None:
            return self._not_found(request.path)
        if record["auth_user"] is None:
            return self._unauthorised()
        if match["account"] != self.account_sid:
            return self._not_found(request.path)
        if many and request.method == "POST":
            endpoint = "send"
        elif many and request.method == "GET":
            endpoint = "list"
        elif one and request.method == "GET":
            endpoint = "fetch"
        else:
            return Answer.json(405, twilio_error(405, 20004, "Method not allowed"))

        fault = self._take_fault(endpoint)
        if fault is not None:
            record["fault"] = fault.kind
            with self._lock:
                self.faults_injected[fault.kind] += 1
            early = self._fault_answer(fault)
            if early is not None:
                return early

        if endpoint == "send":
            answer = self._send(request)
        elif endpoint == "list":
            answer = self._list(request)
        else:
            answer = self._fetch(request, one["sid"] if one else "")

        if fault is not None:
            answer.delay = fault.delay if fault.delay is not None else (1.0 if fault.kind == "slow" else 0.0)
            if answer.status >= 300:
                return answer  # refused anyway (e.g. an invalid number): nothing was accepted to lose
            if fault.kind == "accept_then_500":
                answer = Answer.json(500, twilio_error(500, 20500, "Internal Server Error"),
                                     delay=answer.delay, after=answer.after)
            elif fault.kind == "accept_then_drop":
                answer.drop = True
        return answer

    def _fault_answer(self, fault: _Fault) -> Answer | None:
        """The answer of a fault that stops the request, or None for faults that let it through."""
        delay = fault.delay or 0.0
        kind = fault.kind
        if kind in ("slow", "accept_then_500", "accept_then_drop"):
            return None
        if kind == "drop":
            return Answer(0, drop=True, delay=delay)
        if kind == "auth":
            return self._unauthorised(delay=delay)
        if kind == "429":
            retry_after = 1 if fault.retry_after is None else fault.retry_after
            seconds = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
            return Answer.json(429, twilio_error(429, 20429, "Too Many Requests"),
                               headers={"Retry-After": seconds}, delay=delay)
        if kind == "500":
            return Answer.json(500, twilio_error(500, 20500, "Internal Server Error"), delay=delay)
        if kind == "503":
            return Answer.json(503, twilio_error(503, 20503, "Service Unavailable"),
                               headers={"Retry-After": str(int(fault.retry_after or 1))}, delay=delay)
        if kind == "21610":
            return Answer.json(400, twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"), delay=delay)
        if kind == "21211":
            return Answer.json(400, twilio_error(400, 21211, "Invalid 'To' Phone Number"), delay=delay)
        raise AssertionError(kind)

    def _unauthorised(self, delay: float = 0.0) -> Answer:
        body = twilio_error(401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect.")
        return Answer.json(401, body, headers={"WWW-Authenticate": 'Basic realm="Twilio API"'}, delay=delay)

    def _not_found(self, path: str) -> Answer:
        return Answer.json(404, twilio_error(404, 20404, f"The requested resource {path} was not found"))

    def _send(self, request: FakeRequest) -> Answer:
        form = request.form()
        to = form.get("To", "")
        sender = form.get("From") or None
        service = form.get("MessagingServiceSid") or None
        body = form.get("Body", "")
        if not to:
            return Answer.json(400, twilio_error(400, 21604, "A 'To' phone number is required."))
        if not _E164.fullmatch(to):
            return Answer.json(400, twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}"))
        if sender is None and service is None:
            return Answer.json(400, twilio_error(400, 21603, "A 'From' phone number is required."))
        if sender is not None and not (_E164.fullmatch(sender) or _ALPHANUMERIC_SENDER.fullmatch(sender)):
            return Answer.json(400, twilio_error(400, 21212, f"Invalid From Number (caller ID): {sender}"))
        if not body and not form.get("MediaUrl"):
            return Answer.json(400, twilio_error(400, 21602, "Message body is required."))
        if len(body) > 1600:
            return Answer.json(
                400, twilio_error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
            )
        if to in self.unsubscribed_numbers:
            return Answer.json(400, twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"))

        now = datetime.now(UTC).replace(microsecond=0)
        with self._lock:
            sid = f"SM{self._sid_rng.getrandbits(128):032x}"
            message: dict[str, Any] = {
                "sid": sid, "account_sid": self.account_sid, "to": to, "from_": sender,
                "messaging_service_sid": service, "body": body, "status_callback": form.get("StatusCallback") or None,
                "status": "accepted" if service and not sender else "queued", "error_code": None,
                "num_segments": count_segments(body), "date_created": now, "date_updated": now, "date_sent": None,
            }
            self.messages.append(message)
            self._by_sid[sid] = message
            self._by_to.setdefault(to, []).append(message)
            payload = self._message_json(message)
            self._pending_lifecycles += 1
            self._accepted.notify_all()
        return Answer.json(201, payload, after=lambda: self._schedule_lifecycle(sid))

    def _fetch(self, request: FakeRequest, sid: str) -> Answer:
        with self._lock:
            message = self._by_sid.get(sid)
            if message is not None:
                return Answer.json(200, self._message_json(message))
        return self._not_found(request.path)

    def _list(self, request: FakeRequest) -> Answer:
        query = {key: values[-1] for key, values in request.query.items()}
        try:
            page_size = max(1, min(1000, int(query.get("PageSize", 50))))
            page = max(0, int(query.get("Page", 0)))
        except ValueError:
            return Answer.json(400, twilio_error(400, 20001, "Invalid paging parameters"))
        with self._lock:
            candidates = self._by_to.get(query["To"], []) if "To" in query else self.messages
            selected = [
                message for message in reversed(candidates)  # Twilio lists newest first
                if "From" not in query or message["from_"] == query["From"]
            ]
            records = [self._message_json(m) for m in selected[page * page_size:(page + 1) * page_size]]
        filters = {key: query[key] for key in ("To", "From") if key in query}
        base = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"

        def uri(number: int) -> str:
            return f"{base}?{urlencode({**filters, 'PageSize': page_size, 'Page': number})}"

        has_next = (page + 1) * page_size < len(selected)
        # Exactly one non-meta key ("messages"): twilio.base.page.Page finds the records that way.
        return Answer.json(200, {
            "end": page * page_size + max(0, len(records) - 1),
            "first_page_uri": uri(0),
            "messages": records,
            "next_page_uri": uri(page + 1) if has_next else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "start": page * page_size,
            "uri": uri(page),
        })

    def _message_json(self, message: Mapping[str, Any]) -> dict[str, Any]:
        sid, account = message["sid"], message["account_sid"]
        sender = message["from_"]
        if sender is None and _RANK[message["status"]] >= _RANK["sending"]:
            sender = self.service_number  # a Messaging Service picks the sender once it sends
        error_code = message["error_code"]
        return {
            "account_sid": account,
            "api_version": API_VERSION,
            "body": message["body"],
            "date_created": _rfc2822(message["date_created"]),
            "date_sent": _rfc2822(message["date_sent"]),
            "date_updated": _rfc2822(message["date_updated"]),
            "direction": "outbound-api",
            "error_code": int(error_code) if error_code is not None else None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": message["messaging_service_sid"],
            "num_media": "0",
            "num_segments": str(message["num_segments"]),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": message["status"],
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Media.json",
                "feedback": f"/2010-04-01/Accounts/{account}/Messages/{sid}/Feedback.json",
            },
            "to": message["to"],
            "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
        }

    # -- status lifecycle and callbacks ---------------------------------------------------------

    def _schedule_lifecycle(self, sid: str) -> None:
        if not self.callbacks_enabled and not self.callback_delay:
            self._run_lifecycle(sid)  # nothing to post and nothing to wait for: no thread hop
            return
        executor = self._executor
        if executor is None:
            self._lifecycle_done()
            return
        try:
            executor.submit(self._run_lifecycle, sid)
        except RuntimeError:  # shutting down
            self._lifecycle_done()

    def _lifecycle_done(self) -> None:
        with self._callbacks_done:
            self._pending_lifecycles -= 1
            self._callbacks_done.notify_all()

    def _run_lifecycle(self, sid: str) -> None:
        """Move the message through its statuses, posting a callback for each (Twilio sends none for
        the initial status). The stored status only moves forward, whatever order callbacks go in."""
        try:
            with self._lock:
                message = self._by_sid.get(sid)
            if message is None:
                return
            statuses = self.number_statuses.get(message["to"], self.callback_statuses)
            if self.reverse_callbacks:
                statuses = tuple(reversed(statuses))
            if self.callback_delay:
                self.pause(self.callback_delay)
            for status in statuses:
                if self._stopping.is_set():
                    return
                error_code = self.callback_error_code if status in FAILED_STATUSES else None
                self._advance(message, status, error_code)
                if self.callbacks_enabled and message["status_callback"]:
                    self._post_callback(message, status, error_code, message["status_callback"])
        finally:
            self._lifecycle_done()

    def _advance(self, message: dict[str, Any], status: str, error_code: str | None, force: bool = False) -> None:
        with self._lock:
            if not force and _RANK.get(status, 0) <= _RANK.get(message["status"], 0):
                return
            now = datetime.now(UTC).replace(microsecond=0)
            message["status"] = status
            message["date_updated"] = now
            if status in FAILED_STATUSES:
                message["error_code"] = error_code
            if status in ("sent", "delivered", "read") and message["date_sent"] is None:
                message["date_sent"] = now

    def set_status(self, sid: str, status: str, error_code: str | None = None) -> None:
        """Force a message's status (no callback), e.g. for reconciliation tests that fetch it."""
        with self._lock:
            message = self._by_sid[sid]
        self._advance(message, status, error_code, force=True)
        if error_code is not None:
            with self._lock:
                message["error_code"] = error_code

    def callback_params(self, message: Mapping[str, Any], status: str, error_code: str | None = None) -> dict[str, str]:
        """The form fields Twilio posts to a status callback."""
        params = {
            "AccountSid": message["account_sid"],
            "ApiVersion": API_VERSION,
            "From": message["from_"] or self.service_number,
            "MessageSid": message["sid"],
            "MessageStatus": status,
            "SmsSid": message["sid"],
            "SmsStatus": status,
            "To": message["to"],
        }
        if message["messaging_service_sid"]:
            params["MessagingServiceSid"] = message["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    def _post_callback(self, message: Mapping[str, Any], status: str, error_code: str | None, url: str) -> int | None:
        params = self.callback_params(message, status, error_code)
        signature = self._validator.compute_signature(url, params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
            "X-Twilio-Signature": signature,
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        target = url
        if self.callback_target:
            base, parts = urlsplit(self.callback_target), urlsplit(url)
            target = urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, ""))
        status_code: int | None = None
        error: str | None = None
        try:
            if self.callback_sender is not None:
                status_code = self.callback_sender(target, params, headers)
            else:
                status_code, _ = http_post(target, urlencode(params).encode(), headers, self.callback_timeout)
        except Exception as failure:  # the receiver's problem, recorded for the test to see
            error = f"{type(failure).__name__}: {failure}"
        with self._callbacks_done:
            self.callback_results.append({
                "sid": message["sid"], "status": status, "error_code": error_code, "url": url, "target": target,
                "params": params, "signature": signature, "status_code": status_code, "error": error,
            })
            self._callbacks_done.notify_all()
        return status_code

    def send_status_callback(
        self, sid: str, status: str, error_code: str | None = None, *, url: str | None = None
    ) -> int | None:
        """Post one signed callback now (in this thread) and return the receiver's HTTP status.

        The stored status moves forward only, so a late "sent" after "delivered" can be replayed.
        """
        with self._lock:
            message = self._by_sid[sid]
        target = url or message["status_callback"]
        if not target:
            raise ValueError(f"message {sid} has no StatusCallback; pass url=")
        self._advance(message, status, error_code)
        return self._post_callback(message, status, error_code, target)

    def wait_for_callbacks(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until ``count`` callbacks have been posted (answered or failed); TimeoutError otherwise."""
        with self._callbacks_done:
            if not self._callbacks_done.wait_for(lambda: len(self.callback_results) >= count, timeout):
                raise TimeoutError(f"expected {count} status callbacks, {len(self.callback_results)} posted")
            return list(self.callback_results)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until every accepted message has finished its status lifecycle (callbacks included)."""
        with self._callbacks_done:
            if not self._callbacks_done.wait_for(lambda: self._pending_lifecycles <= 0, timeout):
                raise TimeoutError(f"{self._pending_lifecycles} message lifecycles still running")

    # -- assertions helpers ----------------------------------------------------------------------

    def message(self, sid: str) -> dict[str, Any]:
        with self._lock:
            return self._by_sid[sid]

    def messages_to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._by_to.get(number, []))

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> int:
        """Block until at least ``count`` messages have been accepted; TimeoutError otherwise."""
        with self._accepted:
            if not self._accepted.wait_for(lambda: len(self.messages) >= count, timeout):
                raise TimeoutError(f"expected {count} accepted messages, {len(self.messages)} within {timeout} s")
            return len(self.messages)

    def bodies(self) -> Counter[str]:
        """How often each body was accepted: exactly-once tests assert every count is 1."""
        with self._lock:
            return Counter(message["body"] for message in self.messages)
