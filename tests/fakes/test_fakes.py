"""The fakes, proven with the real ``twilio`` client and the real python-telegram-bot ``Bot``.

If these pass, a channel test that fails against a fake fails because of our code, not because the
fake speaks a dialect the real provider does not.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
import requests
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes import FakeTelegram, FakeTwilio, FakeTwilioHttpClient, RecordingReceiver

SENDER = "+46766861004"
TENANT = "+46701740605"
OTHER = "+46701740606"
SID = re.compile(r"SM[0-9a-f]{32}")
T = TypeVar("T")


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion: pytest-asyncio is not installed and the tests stay synchronous."""

    async def main() -> T:
        return await make()

    return asyncio.run(main())


def send(client: Client, to: str = TENANT, body: str = "Hej Anna", **extra: Any) -> Any:
    return client.messages.create(to=to, from_=SENDER, body=body, **extra)


# -- Twilio: the happy path ---------------------------------------------------------------------------


def test_twilio_create_fetch_and_list_with_the_real_client(fake_twilio: FakeTwilio, twilio_client: Client) -> None:
    created = send(twilio_client, body="Hyran för maj är obetald", status_callback="http://127.0.0.1:9/none")

    assert SID.fullmatch(created.sid)
    assert (created.status, created.to, created.from_, created.num_segments) == ("queued", TENANT, SENDER, "1")
    assert created.date_created is not None and created.date_created.tzinfo is not None
    [recorded] = fake_twilio.messages
    assert recorded["sid"] == created.sid
    assert recorded["body"] == "Hyran för maj är obetald"
    assert recorded["status_callback"] == "http://127.0.0.1:9/none"
    assert recorded["messaging_service_sid"] is None

    fetched = twilio_client.messages(created.sid).fetch()
    assert (fetched.sid, fetched.body) == (created.sid, "Hyran för maj är obetald")

    for index in range(4):
        send(twilio_client, to=OTHER, body=f"till någon annan {index}")
    assert [m.sid for m in twilio_client.messages.list(to=TENANT)] == [created.sid]
    # Paging follows next_page_uri through the fake; newest first, as Twilio lists.
    others = twilio_client.messages.list(to=OTHER, page_size=3)
    assert [m.body for m in others] == [f"till någon annan {index}" for index in (3, 2, 1, 0)]
    expected = Counter(["Hyran för maj är obetald"] + [f"till någon annan {index}" for index in range(4)])
    assert fake_twilio.bodies() == expected


def test_twilio_messaging_service_and_segments(fake_twilio: FakeTwilio, twilio_client: Client) -> None:
    service = "MG" + "1" * 32
    message = twilio_client.messages.create(to=TENANT, messaging_service_sid=service, body="’" + "a" * 70)

    assert (message.status, message.from_, message.messaging_service_sid) == ("accepted", None, service)
    assert message.num_segments == "2"  # one curly apostrophe forces UCS-2: 71 characters, two parts
    assert fake_twilio.messages[0]["from_"] is None


def test_twilio_missing_message_is_20404(twilio_client: Client) -> None:
    with pytest.raises(TwilioRestException) as caught:
        twilio_client.messages("SM" + "0" * 32).fetch()
    assert (caught.value.status, caught.value.code) == (404, 20404)


def test_twilio_wrong_credentials_are_20003(fake_twilio: FakeTwilio) -> None:
    client = Client(fake_twilio.account_sid, "wrong-token", http_client=FakeTwilioHttpClient(fake_twilio.url),
                    environment={})
    with pytest.raises(TwilioRestException) as caught:
        send(client)
    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert fake_twilio.messages == []
    assert fake_twilio.requests[-1]["status"] == 401


# -- Twilio: faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [("500", 500, 20500), ("503", 503, 20503), ("429", 429, 20429), ("21610", 400, 21610), ("21211", 400, 21211),
     ("auth", 401, 20003)],
)
def test_twilio_fault_kinds_surface_as_rest_exceptions(
    fake_twilio: FakeTwilio, twilio_client: Client, kind: str, status: int, code: int
) -> None:
    fake_twilio.fail_next(kind, retry_after=7)

    with pytest.raises(TwilioRestException) as caught:
        send(twilio_client)

    assert (caught.value.status, caught.value.code) == (status, code)
    assert fake_twilio.messages == []
    assert fake_twilio.requests[-1]["fault"] == kind
    # TwilioRestException has no headers: Retry-After comes from the HTTP client's last response.
    retry_after = twilio_client.http_client.retry_after()  # type: ignore[attr-defined]
    assert retry_after == (7.0 if kind in ("429", "503") else None)
    # The fault is used up: the next send goes through.
    assert SID.fullmatch(send(twilio_client).sid)


def test_twilio_validates_numbers_and_unsubscribed_recipients(fake_twilio: FakeTwilio, twilio_client: Client) -> None:
    with pytest.raises(TwilioRestException) as invalid:
        send(twilio_client, to="0701740605")
    fake_twilio.unsubscribed_numbers.add(OTHER)
    with pytest.raises(TwilioRestException) as unsubscribed:
        send(twilio_client, to=OTHER)

    assert (invalid.value.status, invalid.value.code) == (400, 21211)
    assert (unsubscribed.value.status, unsubscribed.value.code) == (400, 21610)
    assert "unsubscribed recipient" in unsubscribed.value.msg
    assert fake_twilio.messages == []


def test_twilio_lost_answers_keep_the_message(fake_twilio: FakeTwilio, twilio_client: Client) -> None:
    fake_twilio.fail_next("accept_then_500")
    with pytest.raises(TwilioRestException) as caught:
        send(twilio_client, body="first")
    fake_twilio.fail_next("accept_then_drop")
    with pytest.raises(requests.ConnectionError):
        send(twilio_client, body="second")
    fake_twilio.fail_next("drop")
    with pytest.raises(OSError):  # requests' ConnectionError is an OSError: what the channel catches
        send(twilio_client, body="third")

    assert caught.value.status == 500
    assert fake_twilio.bodies() == Counter({"first": 1, "second": 1})
    # Reconciliation can find both through the API.
    assert sorted(m.body for m in twilio_client.messages.list(to=TENANT)) == ["first", "second"]


def test_twilio_slow_answers_and_client_timeouts(fake_twilio: FakeTwilio) -> None:
    fake_twilio.fail_next("slow", delay=0.3)
    started = time.monotonic()
    send(fake_twilio.client())
    assert time.monotonic() - started >= 0.3

    fake_twilio.fail_next("slow", delay=0.6)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        send(fake_twilio.client(timeout=0.2), body="timed out")
    assert time.monotonic() - started < 0.6
    # Like Twilio, the fake accepted it anyway: the client's timeout means "maybe sent".
    fake_twilio.wait_idle(timeout=3)
    assert fake_twilio.bodies()["timed out"] == 1
    assert fake_twilio.messages_to(TENANT)[-1]["status"] == "delivered"


def test_twilio_fail_next_can_target_fetch(fake_twilio: FakeTwilio, twilio_client: Client) -> None:
    sid = send(twilio_client).sid
    fake_twilio.fail_next("500", endpoint="fetch")
    with pytest.raises(TwilioRestException):
        twilio_client.messages(sid).fetch()
    assert twilio_client.messages(sid).fetch().sid == sid


# -- Twilio: status callbacks ------------------------------------------------------------------------


def test_twilio_status_callbacks_are_signed_and_in_order(
    fake_twilio: FakeTwilio, twilio_client: Client, webhook_receiver: RecordingReceiver
) -> None:
    callback = webhook_receiver.url + "/webhooks/twilio/status?tenant=7"
    sid = send(twilio_client, status_callback=callback).sid

    results = fake_twilio.wait_for_callbacks(2)
    received = webhook_receiver.wait_for(2)

    assert [r["status"] for r in results] == ["sent", "delivered"]
    assert [r["status_code"] for r in results] == [204, 204]
    validator = RequestValidator(fake_twilio.auth_token)
    for request in received:
        url = webhook_receiver.url + request.url_path
        assert url == callback
        assert validator.validate(url, request.form, request.header("X-Twilio-Signature"))
        assert not RequestValidator("another-token").validate(url, request.form, request.header("X-Twilio-Signature"))
        assert request.form["MessageSid"] == request.form["SmsSid"] == sid
        assert request.form["AccountSid"] == fake_twilio.account_sid
        assert (request.form["To"], request.form["From"], request.form["ApiVersion"]) == (TENANT, SENDER, "2010-04-01")
        assert "ErrorCode" not in request.form
    assert [r.form["MessageStatus"] for r in received] == ["sent", "delivered"]
    fake_twilio.wait_idle()
    assert twilio_client.messages(sid).fetch().status == "delivered"


def test_twilio_callbacks_out_of_order_and_failures(
    fake_twilio: FakeTwilio, twilio_client: Client, webhook_receiver: RecordingReceiver
) -> None:
    fake_twilio.reverse_callbacks = True
    fake_twilio.number_statuses[OTHER] = ("sent", "undelivered")
    ok = send(twilio_client, status_callback=webhook_receiver.url + "/status").sid
    fake_twilio.wait_idle()
    failed = send(twilio_client, to=OTHER, status_callback=webhook_receiver.url + "/status").sid
    fake_twilio.wait_idle()

    received = webhook_receiver.wait_for(4)
    assert [(r.form["MessageSid"], r.form["MessageStatus"]) for r in received] == [
        (ok, "delivered"), (ok, "sent"), (failed, "undelivered"), (failed, "sent"),
    ]
    assert received[2].form["ErrorCode"] == "30003"
    # A late "sent" does not move the status back.
    assert twilio_client.messages(ok).fetch().status == "delivered"
    undelivered = twilio_client.messages(failed).fetch()
    assert (undelivered.status, undelivered.error_code) == ("undelivered", 30003)


def test_twilio_callbacks_by_hand_disabled_and_redirected(
    fake_twilio: FakeTwilio, twilio_client: Client, webhook_receiver: RecordingReceiver
) -> None:
    fake_twilio.callbacks_enabled = False
    sid = send(twilio_client, status_callback=webhook_receiver.url + "/status").sid
    fake_twilio.wait_idle()
    assert fake_twilio.callback_results == [] and webhook_receiver.received == []

    webhook_receiver.status = 500
    assert fake_twilio.send_status_callback(sid, "failed", "30008") == 500
    assert webhook_receiver.received[0].form["ErrorCode"] == "30008"
    assert fake_twilio.callback_results[-1]["status_code"] == 500

    # Signed over the public https URL, delivered to the local server (a proxy in front of the app).
    fake_twilio.callbacks_enabled = True
    fake_twilio.callback_target = webhook_receiver.url
    public = "https://bokvar.example.se/webhooks/twilio/status"
    send(twilio_client, body="via proxy", status_callback=public)
    [first, _] = webhook_receiver.wait_for(3)[1:]
    assert first.path == "/webhooks/twilio/status"
    assert RequestValidator(fake_twilio.auth_token).validate(public, first.form, first.header("X-Twilio-Signature"))

    webhook_receiver.stop()  # nobody listening: the failure is recorded, not raised
    assert fake_twilio.send_status_callback(sid, "delivered") is None
    assert fake_twilio.callback_results[-1]["error"]


def test_twilio_random_faults_are_seeded_and_thread_safe(webhook_receiver: RecordingReceiver) -> None:
    """2,000 sends from 8 threads, 20 % answered 500 or 429 and retried: each body accepted once."""

    def decisions(seed: int) -> list[str | None]:
        with FakeTwilio(seed=seed) as fake:
            fake.fail_randomly(0.2)
            client = fake.client()
            outcomes: list[str | None] = []
            for index in range(40):
                try:
                    send(client, body=str(index))
                    outcomes.append(None)
                except TwilioRestException as error:
                    outcomes.append(str(error.status))
            return outcomes

    assert decisions(3) == decisions(3) != decisions(4)

    total, workers = 2000, 8
    with FakeTwilio(seed=1) as fake:
        fake.fail_randomly(0.2, kinds=("500", "429"), retry_after=0)
        attempts: Counter[str] = Counter()
        lock = threading.Lock()

        def worker(offset: int) -> None:
            client = fake.client()
            for index in range(offset, total, workers):
                while True:
                    with lock:
                        attempts["sent"] += 1
                    try:
                        send(client, to=f"+4670{index:07d}", body=f"reminder {index}",
                             status_callback=webhook_receiver.url + "/status")
                        break
                    except TwilioRestException as error:
                        assert error.status in (500, 429)
                        if error.status == 429:
                            assert client.http_client.retry_after() == 0  # type: ignore[attr-defined]

        started = time.monotonic()
        threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        fake.wait_idle(timeout=30)
        elapsed = time.monotonic() - started

        assert fake.errors == []
        assert len(fake.messages) == total
        assert set(fake.bodies().values()) == {1}
        injected = fake.faults_injected["500"] + fake.faults_injected["429"]
        assert attempts["sent"] == total + injected
        assert 0.15 < injected / attempts["sent"] < 0.25
        assert len(fake.callback_results) == 2 * total
        assert {r["status_code"] for r in fake.callback_results} == {204}
        assert elapsed < 20, f"{total} sends took {elapsed:.1f} s"


# -- Telegram ----------------------------------------------------------------------------------------


def bot_for(fake: FakeTelegram, token: str | None = None, **kwargs: Any) -> Bot:
    return Bot(token or fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url, **kwargs)


def test_telegram_get_me_and_send_with_keyboard(fake_telegram: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Boka möte", callback_data="book:42")],
                                   [InlineKeyboardButton("Nej tack", callback_data="no:42")]])

    async def scenario() -> tuple[Any, ...]:
        async with bot_for(fake_telegram) as bot:
            message = await bot.send_message(chat_id=1111111, text="Vill du boka ett möte?", reply_markup=markup)
            return bot.username, bot.id, message

    username, bot_id, message = run(scenario)

    assert (username, bot_id) == ("bokvar_test_bot", 123456789)
    assert [name for name, _ in fake_telegram.calls] == ["getMe", "sendMessage"]
    [sent] = fake_telegram.sent
    assert sent["chat_id"] == 1111111 and sent["text"] == "Vill du boka ett möte?"
    assert sent["reply_markup"] == {"inline_keyboard": [[{"text": "Boka möte", "callback_data": "book:42"}],
                                                        [{"text": "Nej tack", "callback_data": "no:42"}]]}
    assert message.reply_markup == markup
    assert message.from_user is not None and message.from_user.is_bot
    assert (message.chat.id, message.chat.type, message.text) == (1111111, "private", "Vill du boka ett möte?")


@pytest.mark.parametrize(
    ("kind", "error", "text"),
    [("blocked", Forbidden, "Forbidden: bot was blocked by the user"), ("chat_not_found", BadRequest, "Chat not found"),
     ("500", NetworkError, "Internal Server Error"), ("drop", NetworkError, "")],
)
def test_telegram_faults_raise_ptbs_exceptions(
    fake_telegram: FakeTelegram, kind: str, error: type[Exception], text: str
) -> None:
    fake_telegram.fail_next("sendMessage", kind)

    async def scenario() -> None:
        async with bot_for(fake_telegram) as bot:
            with pytest.raises(error) as caught:
                await bot.send_message(5, "hej")
            assert text in str(caught.value)
            assert not isinstance(caught.value, RetryAfter)
            await bot.send_message(5, "igen")  # the fault is used up

    run(scenario)
    assert [sent["text"] for sent in fake_telegram.sent] == ["igen"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_telegram_rate_limit_blocked_chats_and_lost_answers(fake_telegram: FakeTelegram) -> None:
    fake_telegram.fail_next("sendMessage", "429", retry_after=5)
    fake_telegram.blocked_chats.add(7)
    fake_telegram.missing_chats.add(8)

    async def scenario() -> None:
        async with bot_for(fake_telegram) as bot:
            with pytest.raises(RetryAfter) as limited:
                await bot.send_message(5, "hej")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # PTB 22 warns that retry_after becomes a timedelta
                assert limited.value.retry_after in (5, timedelta(seconds=5))
            with pytest.raises(Forbidden):
                await bot.send_message(7, "hej")
            with pytest.raises(BadRequest, match="Chat not found"):
                await bot.send_message(8, "hej")
            fake_telegram.fail_next("sendMessage", "accept_then_500")
            with pytest.raises(NetworkError):
                await bot.send_message(5, "sent but unanswered")

    run(scenario)
    assert [sent["text"] for sent in fake_telegram.sent] == ["sent but unanswered"]


def test_telegram_slow_answers_time_out(fake_telegram: FakeTelegram) -> None:
    fake_telegram.fail_next("sendMessage", "slow", delay=5)

    async def scenario() -> None:
        async with bot_for(fake_telegram) as bot:
            with pytest.raises(TimedOut):
                await bot.send_message(5, "hej", read_timeout=0.2)

    started = time.monotonic()
    run(scenario)
    assert time.monotonic() - started < 3


def test_telegram_wrong_token_is_invalid_token(fake_telegram: FakeTelegram) -> None:
    async def scenario() -> None:
        async with bot_for(fake_telegram, token="987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"):
            pass

    with pytest.raises(InvalidToken):
        run(scenario)
    assert fake_telegram.calls == []


def test_telegram_buttons_edits_and_callback_answers(fake_telegram: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Book meeting", callback_data="book:42")]])

    async def scenario() -> None:
        async with bot_for(fake_telegram) as bot:
            sent = await bot.send_message(1111111, "Vill du boka ett möte?", reply_markup=markup)
            update = Update.de_json(fake_telegram.callback_update(1111111, "book:42", sent.message_id), bot)
            query = update.callback_query
            assert query is not None and query.message is not None
            assert query.message.reply_markup == markup  # the keyboard the bot really sent
            assert query.from_user.language_code == "sv"
            await bot.answer_callback_query(query.id, text="Bokat")
            edited = await bot.edit_message_text("Bokat: tisdag 10:00", chat_id=1111111, message_id=sent.message_id)
            assert edited.text == "Bokat: tisdag 10:00" and edited.reply_markup is None
            with pytest.raises(BadRequest, match="not modified"):
                await bot.edit_message_text("Bokat: tisdag 10:00", chat_id=1111111, message_id=sent.message_id)
            with pytest.raises(BadRequest, match="not found"):
                await bot.edit_message_reply_markup(chat_id=1111111, message_id=9999, reply_markup=markup)

    run(scenario)
    [answered] = fake_telegram.answered_callbacks
    assert answered["text"] == "Bokat" and answered["callback_query_id"]


def test_telegram_webhook_registration_and_posted_updates(
    fake_telegram: FakeTelegram, webhook_receiver: RecordingReceiver
) -> None:
    url = webhook_receiver.url + "/webhooks/telegram"

    async def scenario() -> Any:
        async with bot_for(fake_telegram) as bot:
            assert await bot.set_webhook(url, secret_token="webhook-secret_42",
                                         allowed_updates=["message", "callback_query"])
            return await bot.get_webhook_info()

    info = run(scenario)
    assert fake_telegram.webhook is not None
    assert (fake_telegram.webhook["url"], fake_telegram.webhook["secret_token"]) == (url, "webhook-secret_42")
    assert fake_telegram.webhook["allowed_updates"] == ["message", "callback_query"]
    assert (info.url, info.allowed_updates) == (url, ("message", "callback_query"))

    update = fake_telegram.start_update(1111111, "tnt_7f3a9c")
    assert fake_telegram.post_update(update) == (204, "")
    assert fake_telegram.post_update(update, secret="forged")[0] == 204
    first, forged = webhook_receiver.wait_for(2)
    assert first.path == "/webhooks/telegram"
    assert first.header("X-Telegram-Bot-Api-Secret-Token") == "webhook-secret_42"
    assert forged.header("X-Telegram-Bot-Api-Secret-Token") == "forged"
    assert first.json() == update

    async def delete() -> None:
        async with bot_for(fake_telegram) as bot:
            await bot.delete_webhook()

    run(delete)
    assert fake_telegram.webhook is None
    with pytest.raises(RuntimeError):
        fake_telegram.post_update(update)


def test_telegram_built_updates_parse_with_ptb(fake_telegram: FakeTelegram) -> None:
    bot = bot_for(fake_telegram)
    text = fake_telegram.text_update(1111111, "Jag kan betala på fredag", first_name="Anna", username="annas")
    start = fake_telegram.start_update(1111111, "tnt_7f3a9c")
    button = fake_telegram.callback_update(1111111, "book:42", message_id=1366)
    explicit = fake_telegram.text_update(2222222, "hej", update_id=50000, language_code="ar")

    assert [u["update_id"] for u in (text, start, button, explicit)] == [10000, 10001, 10002, 50000]
    assert fake_telegram.text_update(1, "x")["update_id"] == 50001

    parsed_text = Update.de_json(text, bot)
    assert parsed_text.message is not None and parsed_text.message.text == "Jag kan betala på fredag"
    assert parsed_text.message.from_user is not None and parsed_text.message.from_user.username == "annas"
    assert parsed_text.message.chat.type == "private"

    parsed_start = Update.de_json(start, bot)
    assert parsed_start.message is not None
    assert parsed_start.message.text == "/start tnt_7f3a9c"
    assert list(parsed_start.message.parse_entities(["bot_command"]).values()) == ["/start"]
    assert parsed_start.message.from_user is not None and parsed_start.message.from_user.first_name == "Anna"

    parsed_button = Update.de_json(button, bot)
    query = parsed_button.callback_query
    assert query is not None and query.data == "book:42" and query.chat_instance
    assert query.message is not None and query.message.message_id == 1366 and query.message.chat.id == 1111111

    parsed_explicit = Update.de_json(explicit, bot)
    assert parsed_explicit.message is not None and parsed_explicit.message.from_user is not None
    assert parsed_explicit.message.from_user.language_code == "ar"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_telegram_random_faults_are_seeded() -> None:
    def outcomes(seed: int) -> list[str]:
        with FakeTelegram(seed=seed) as fake:
            fake.fail_randomly(0.3, kinds=("429", "500"))

            async def scenario() -> list[str]:
                results = []
                async with bot_for(fake) as bot:
                    for index in range(30):
                        try:
                            await bot.send_message(5, str(index))
                            results.append("ok")
                        except RetryAfter:
                            results.append("429")
                        except NetworkError:
                            results.append("500")
                return results

            return run(scenario)

    first = outcomes(11)
    assert first == outcomes(11) != outcomes(12)
    assert {"ok", "429", "500"} <= set(first)
