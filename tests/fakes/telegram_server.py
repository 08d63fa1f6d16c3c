"""A fake Telegram Bot API that the real python-telegram-bot ``Bot`` talks to over HTTP.

PTB 22 posts each method form-encoded to ``{base_url}{token}/{method}``; strings are sent as they
are and every other value (ints, bools, ``reply_markup``, ``allowed_updates``) as JSON text. Answers
use Telegram's envelope, ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ...,
"description": ...}``, and PTB picks its exception from the HTTP status plus
``parameters.retry_after``: that is what the fault kinds reproduce.

The fake also plays Telegram's other half: it posts updates to the webhook registered with
``setWebhook`` (with the secret header) and builds updates shaped like real ones, including the
fields PTB 22 insists on (``is_bot``, ``chat_instance``).
"""

from __future__ import annotations

import asyncio
import copy
import email.parser
import email.policy
import json
import random
import re
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from tests.fakes._http import Answer, FakeRequest, FakeServer, flatten_form, http_post

__all__ = ["DEFAULT_TELEGRAM_TOKEN", "FAULT_KINDS", "FakeTelegram", "TelegramApiError"]

# The same token as tests/bot/webhook_support.py, and one bot settings validation accepts.
DEFAULT_TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

FAULT_KINDS = frozenset({"429", "blocked", "chat_not_found", "500", "502", "slow", "accept_then_500", "drop"})
# Values PTB sends as plain strings that must not be JSON-decoded ("123" stays text, not a number).
_STRING_PARAMS = frozenset({
    "text", "caption", "url", "secret_token", "callback_query_id", "inline_message_id", "parse_mode",
    "ip_address", "business_connection_id", "message_effect_id", "action", "certificate",
})
_CHAT_METHODS = frozenset({"sendmessage", "editmessagetext", "editmessagereplymarkup", "sendchataction",
                           "deletemessage"})
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)")


class TelegramApiError(Exception):
    """Raised inside a method handler to answer ``{"ok": false, ...}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def answer(self, delay: float = 0.0) -> Answer:
        payload: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            payload["parameters"] = self.parameters
        return Answer.json(self.code, payload, delay=delay)


def _bad(description: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {description}")


@dataclass
class _Fault:
    method: str  # lower-case method name, or "*"
    kind: str
    retry_after: int | None = None
    delay: float | None = None


def _utf16_length(text: str) -> int:
    """Telegram measures entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram(FakeServer):
    """Telegram's Bot API on ``http://127.0.0.1:PORT``: ``Bot(token, base_url=fake.base_url)``.

    Records: :attr:`calls` (``(method, params)`` of every call with the right token, faults included),
    :attr:`sent` (params of each accepted ``sendMessage``, ``reply_markup`` decoded),
    :attr:`sent_messages` (the Message objects returned), :attr:`answered_callbacks`,
    :attr:`webhook` (the ``setWebhook`` params, or None), :attr:`posted_updates`, :attr:`requests`.
    """

    def __init__(
        self,
        token: str = DEFAULT_TELEGRAM_TOKEN,
        bot_username: str = "bokvar_test_bot",
        *,
        bot_name: str = "Bokvar",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.token = token
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.bot_id = int(token.split(":", 1)[0])
        self.seed = seed
        self.blocked_chats: set[int] = set()
        self.missing_chats: set[int] = set()  # "chat not found", e.g. a chat id that never existed

        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sent: list[dict[str, Any]] = []
        self.sent_messages: list[dict[str, Any]] = []
        self.answered_callbacks: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] | None = None
        self.posted_updates: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.faults_injected: Counter[str] = Counter()

        self._chat_messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._last_message_id: defaultdict[int | str, int] = defaultdict(lambda: 1000)
        self._next_update_id = 10000
        self._people: dict[int, dict[str, Any]] = {}
        self._faults: deque[_Fault] = deque()
        self._random_rate = 0.0
        self._random_kinds: tuple[str, ...] = ()
        self._random_methods: frozenset[str] = frozenset()
        self._random_retry_after = 1
        self._rng = random.Random(seed)
        self._ids_rng = random.Random(f"telegram-ids-{seed}")
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "answercallbackquery": self._answer_callback_query,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "sendchataction": lambda params: True,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "close": lambda params: True,
            "logout": lambda params: True,
        }
        self._canonical = {
            name.lower(): name for name in (
                "getMe", "sendMessage", "answerCallbackQuery", "editMessageText", "editMessageReplyMarkup",
                "deleteMessage", "sendChatAction", "setWebhook", "deleteWebhook", "getWebhookInfo", "getUpdates",
                "close", "logOut",
            )
        }

    # -- URLs --------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (PTB appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url``; the fake serves no files (404)."""
        return f"{self.url}/file/bot"

    def reset(self) -> None:
        """Forget calls, messages, webhook and pending faults."""
        with self._lock:
            for record in (self.calls, self.sent, self.sent_messages, self.answered_callbacks, self.posted_updates,
                           self.requests):
                record.clear()
            self.faults_injected.clear()
            self._chat_messages.clear()
            self._faults.clear()
            self._random_rate = 0.0
            self.webhook = None

    # -- faults ------------------------------------------------------------------------------------

    def fail_next(
        self, method: str, kind: str, count: int = 1, *, retry_after: int | None = None, delay: float | None = None
    ) -> None:
        """Answer the next ``count`` calls of ``method`` ("sendMessage", or "*" for any) with ``kind``.

        Kinds: "429" (``retry_after`` s, default 1; PTB raises RetryAfter), "blocked" (403, Forbidden),
        "chat_not_found" (400, BadRequest), "500"/"502" (NetworkError), "slow" (a normal answer after
        ``delay`` s, default 1), "accept_then_500" (the call takes effect, e.g. the message is sent,
        but the answer is a 500), "drop" (connection closed without an answer).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {sorted(FAULT_KINDS)}")
        with self._lock:
            self._faults.extend(_Fault(method.lower(), kind, retry_after, delay) for _ in range(count))

    def fail_randomly(
        self,
        rate: float,
        kinds: Iterable[str] = ("500", "429"),
        retry_after: int = 1,
        *,
        methods: Iterable[str] = ("sendMessage",),
    ) -> None:
        """Answer a seeded random ``rate`` of calls of ``methods`` with one of ``kinds`` (0 = off).

        ``retry_after`` below 1 is sent as 1: PTB only raises RetryAfter for a non-zero value.
        """
        kinds = tuple(kinds)
        if set(kinds) - FAULT_KINDS or not 0 <= rate <= 1:
            raise ValueError(f"bad random faults: rate={rate}, kinds={kinds}")
        with self._lock:
            self._random_rate, self._random_kinds = rate, kinds
            self._random_methods = frozenset(method.lower() for method in methods)
            self._random_retry_after = retry_after

    def _take_fault(self, method: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method in (method, "*"):
                    self._faults.remove(fault)
                    return fault
            if self._random_rate and method in self._random_methods and self._rng.random() < self._random_rate:
                return _Fault(method, self._rng.choice(self._random_kinds), self._random_retry_after)
        return None

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    # -- HTTP --------------------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> Answer:
        record: dict[str, Any] = {"method": request.method, "path": request.path, "status": None, "fault": None}
        with self._lock:
            self.requests.append(record)
        answer = self._route(request, record)
        record["status"] = None if answer.drop else answer.status
        return answer

    def _route(self, request: FakeRequest, record: dict[str, Any]) -> Answer:
        match = _PATH.fullmatch(request.path)
        if match is None:
            return TelegramApiError(404, "Not Found").answer()
        if match["token"] != self.token:
            return TelegramApiError(401, "Unauthorized").answer()
        key = match["method"].lower()
        method = self._canonical.get(key, match["method"])
        try:
            params = self._params(request)
        except ValueError as error:
            return _bad(f"can't parse request: {error}").answer()
        with self._lock:
            self.calls.append((method, params))
        record["api_method"] = method

        fault = self._take_fault(key)
        delay = 0.0
        if fault is not None:
            record["fault"] = fault.kind
            with self._lock:
                self.faults_injected[fault.kind] += 1
            delay = fault.delay if fault.delay is not None else (1.0 if fault.kind == "slow" else 0.0)
            early = self._fault_answer(fault, delay)
            if early is not None:
                return early

        handler = self._methods.get(key)
        if handler is None:
            return TelegramApiError(404, "Not Found").answer(delay)
        try:
            if key in _CHAT_METHODS:
                self._check_chat(params)
            result = handler(params)
        except TelegramApiError as error:
            return error.answer(delay)
        if fault is not None and fault.kind == "accept_then_500":
            return TelegramApiError(500, "Internal Server Error").answer(delay)
        return Answer.json(200, {"ok": True, "result": result}, delay=delay)

    def _fault_answer(self, fault: _Fault, delay: float) -> Answer | None:
        kind = fault.kind
        if kind in ("slow", "accept_then_500"):
            return None
        if kind == "drop":
            return Answer(0, drop=True, delay=delay)
        if kind == "429":
            seconds = max(1, int(fault.retry_after if fault.retry_after is not None else 1))
            return TelegramApiError(429, f"Too Many Requests: retry after {seconds}",
                                    {"retry_after": seconds}).answer(delay)
        if kind == "blocked":
            return TelegramApiError(403, "Forbidden: bot was blocked by the user").answer(delay)
        if kind == "chat_not_found":
            return _bad("chat not found").answer(delay)
        if kind == "500":
            return TelegramApiError(500, "Internal Server Error").answer(delay)
        if kind == "502":
            return TelegramApiError(502, "Bad Gateway").answer(delay)
        raise AssertionError(kind)

    def _params(self, request: FakeRequest) -> dict[str, Any]:
        """The call's parameters, decoded the way the Bot API reads them."""
        raw: dict[str, Any] = flatten_form(request.query)
        if request.content_type == "application/json":
            raw.update(json.loads(request.body or b"{}"))
            return raw
        if request.content_type == "multipart/form-data":
            header = f"Content-Type: {request.headers.get('Content-Type')}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + request.body)
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name and part.get_filename() is None:
                    raw[str(name)] = part.get_payload(decode=True).decode("utf-8")
        elif request.body:
            raw.update(flatten_form(parse_qs(request.body.decode("utf-8"), keep_blank_values=True)))
        return {name: self._decode(name, value) for name, value in raw.items()}

    @staticmethod
    def _decode(name: str, value: Any) -> Any:
        if not isinstance(value, str) or name in _STRING_PARAMS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value  # e.g. chat_id="@channelname"

    def _check_chat(self, params: dict[str, Any]) -> None:
        chat_id = params.get("chat_id")
        if chat_id is None and "inline_message_id" not in params:
            raise _bad("chat_id is empty")
        if chat_id in self.missing_chats:
            raise _bad("chat not found")
        if chat_id in self.blocked_chats:
            raise TelegramApiError(403, "Forbidden: bot was blocked by the user")

    # -- objects -----------------------------------------------------------------------------------

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    def _person(self, chat_id: int, first_name: str | None = None, last_name: str | None = None,
                username: str | None = None, language_code: str | None = None) -> dict[str, Any]:
        """The user behind a private chat, remembered so the chat looks the same in every object."""
        with self._lock:
            person = self._people.setdefault(chat_id, {"id": chat_id, "is_bot": False, "first_name": "Anna"})
            for key, value in (("first_name", first_name), ("last_name", last_name), ("username", username),
                               ("language_code", language_code)):
                if value is not None:
                    person[key] = value
            return dict(person)

    def chat(self, chat_id: int | str) -> dict[str, Any]:
        """A Chat object: private for positive ids, a group for negative ones."""
        if isinstance(chat_id, int) and chat_id > 0:
            person = self._person(chat_id)
            chat = {"id": chat_id, "type": "private", "first_name": person["first_name"]}
            for key in ("last_name", "username"):
                if key in person:
                    chat[key] = person[key]
            return chat
        return {"id": chat_id, "type": "group", "title": f"Group {chat_id}"}

    def _new_message_id(self, chat_id: int | str) -> int:
        with self._lock:
            self._last_message_id[chat_id] += 1
            return self._last_message_id[chat_id]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """A message the bot sent (current text and keyboard), or None."""
        with self._lock:
            found = self._chat_messages.get((chat_id, message_id))
            return copy.deepcopy(found) if found is not None else None

    # -- methods -----------------------------------------------------------------------------------

    def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False}

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise _bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                    raise _bad("BUTTON_DATA_INVALID")

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        if _utf16_length(text) > 4096:
            raise _bad("message is too long")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        chat_id = params["chat_id"]
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat_id),
            "from": self.bot_user,
            "chat": self.chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        with self._lock:
            self._chat_messages[(chat_id, message["message_id"])] = message
            self.sent.append(params)
            self.sent_messages.append(copy.deepcopy(message))
        return copy.deepcopy(message)

    def _stored(self, params: dict[str, Any]) -> dict[str, Any] | None:
        if "inline_message_id" in params:
            return None
        message = self._chat_messages.get((params.get("chat_id"), params.get("message_id")))
        if message is None:
            raise _bad("message to edit not found")
        return message

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        with self._lock:
            message = self._stored(params)
            if message is None:
                return True  # inline messages: Telegram answers True
            if message.get("text") == text and message.get("reply_markup") == markup:
                raise _bad("message is not modified: specified new message content and reply markup are exactly "
                           "the same as a current content and reply markup of the message")
            message["text"] = text
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)  # editing without reply_markup removes the keyboard
            message["edit_date"] = int(time.time())
            return copy.deepcopy(message)

    def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        markup = params.get("reply_markup")
        self._check_markup(markup)
        with self._lock:
            message = self._stored(params)
            if message is None:
                return True
            if message.get("reply_markup") == (markup or None):
                raise _bad("message is not modified: specified new message content and reply markup are exactly "
                           "the same as a current content and reply markup of the message")
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            message["edit_date"] = int(time.time())
            return copy.deepcopy(message)

    def _delete_message(self, params: dict[str, Any]) -> bool:
        with self._lock:
            if self._chat_messages.pop((params.get("chat_id"), params.get("message_id")), None) is None:
                raise _bad("message to delete not found")
        return True

    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        with self._lock:
            self.answered_callbacks.append(params)
        return True

    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.fullmatch(str(secret)):
            raise _bad("secret token contains unallowed characters")
        with self._lock:
            if not url:
                self.webhook = None
                return True
            self.webhook = {
                "url": url,
                "secret_token": secret,
                "allowed_updates": params.get("allowed_updates"),
                "drop_pending_updates": params.get("drop_pending_updates"),
                "max_connections": params.get("max_connections"),
                "ip_address": params.get("ip_address"),
            }
        return True

    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook = None
        return True

    def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            webhook = dict(self.webhook) if self.webhook else None
        info: dict[str, Any] = {"url": webhook["url"] if webhook else "", "has_custom_certificate": False,
                                "pending_update_count": 0}
        if webhook:
            info["max_connections"] = webhook["max_connections"] or 40
            if webhook["allowed_updates"] is not None:
                info["allowed_updates"] = webhook["allowed_updates"]
        return info

    def _get_updates(self, params: dict[str, Any]) -> list[Any]:
        if self.webhook is not None:
            raise TelegramApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                        "use deleteWebhook to delete the webhook first")
        self.pause(min(float(params.get("timeout") or 0), 1.0))  # a long poll that never gets anything
        return []

    # -- the other direction: updates to our webhook -----------------------------------------------

    def post_update(
        self, update: dict[str, Any], url: str | None = None, secret: str | None = None, *, timeout: float = 10.0
    ) -> tuple[int, str]:
        """POST ``update`` to ``url`` or the webhook from ``setWebhook``, as Telegram does; ``(status, body)``.

        The secret header carries ``secret`` if given, else the registered ``secret_token``. Blocking:
        from async code whose own loop serves the webhook, use :meth:`post_update_async`.
        """
        with self._lock:
            webhook = dict(self.webhook) if self.webhook else None
        target = url or (webhook["url"] if webhook else None)
        if not target:
            raise RuntimeError("no webhook registered with setWebhook; pass url=")
        secret_value = secret if secret is not None else (webhook or {}).get("secret_token")
        headers = {"Content-Type": "application/json"}
        if secret_value:
            headers[SECRET_HEADER] = secret_value
        status, body = http_post(target, json.dumps(update).encode("utf-8"), headers, timeout)
        with self._lock:
            self.posted_updates.append({"update": update, "url": target, "status": status})
        return status, body.decode("utf-8", errors="replace")

    async def post_update_async(
        self, update: dict[str, Any], url: str | None = None, secret: str | None = None
    ) -> tuple[int, str]:
        """:meth:`post_update` in a worker thread, so a webhook served by the calling loop can answer."""
        return await asyncio.to_thread(self.post_update, update, url, secret)

    def _update_id(self, update_id: int | None) -> int:
        with self._lock:
            if update_id is None:
                update_id = self._next_update_id
            self._next_update_id = max(self._next_update_id, update_id + 1)
            return update_id

    def message_update(
        self,
        chat_id: int,
        fields: dict[str, Any],
        update_id: int | None = None,
        language_code: str | None = "sv",
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        """An update with a message from the tenant in ``chat_id``; ``fields`` adds text, voice, ..."""
        sender = self._person(chat_id, first_name, last_name, username, language_code)
        message = {
            "message_id": self._new_message_id(chat_id),
            "from": sender,
            "chat": self.chat(chat_id),
            "date": int(time.time()) if date is None else date,
            **fields,
        }
        return {"update_id": self._update_id(update_id), "message": message}

    def text_update(
        self, chat_id: int, text: str, update_id: int | None = None, language_code: str | None = "sv", **person: Any
    ) -> dict[str, Any]:
        """A text message; a leading ``/command`` gets its ``bot_command`` entity as Telegram adds it."""
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            fields["entities"] = [{"offset": 0, "length": _utf16_length(command), "type": "bot_command"}]
        return self.message_update(chat_id, fields, update_id, language_code, **person)

    def start_update(
        self, chat_id: int, payload: str | None, update_id: int | None = None, language_code: str | None = "sv",
        **person: Any,
    ) -> dict[str, Any]:
        """What arrives when a tenant opens ``https://t.me/<bot>?start=<payload>`` and taps Start."""
        text = f"/start {payload}" if payload else "/start"
        return self.text_update(chat_id, text, update_id, language_code, **person)

    def callback_update(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        update_id: int | None = None,
        language_code: str | None = "sv",
        *,
        query_id: str | None = None,
        **person: Any,
    ) -> dict[str, Any]:
        """A button press on ``message_id``; the message is the one the bot sent (text and keyboard)
        when the fake knows it, otherwise a plausible bot message carrying the button."""
        sender = self._person(chat_id, language_code=language_code, **person)
        message = self.message(chat_id, message_id) or {
            "message_id": message_id, "from": self.bot_user, "chat": self.chat(chat_id),
            "date": int(time.time()), "text": "…",
            "reply_markup": {"inline_keyboard": [[{"text": data, "callback_data": data}]]},
        }
        with self._lock:
            if query_id is None:
                query_id = str(self._ids_rng.getrandbits(62))
        return {
            "update_id": self._update_id(update_id),
            "callback_query": {
                "id": query_id,
                "from": sender,
                "message": message,
                "chat_instance": str(-(abs(hash((self.bot_id, chat_id))) % 10**19)),
                "data": data,
            },
        }
