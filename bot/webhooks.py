"""Webhook routes for Twilio and Telegram.

Each route authenticates the request first (403 and nothing stored otherwise), then stores what
arrived in one transaction through :mod:`bot.inbound` or :mod:`storage.delivery`. Storing is
idempotent, so a provider's retry changes nothing; two concurrent deliveries of the same message
race on a unique constraint, and the loser is answered as a repeat.

Twilio gets empty TwiML: any answer to the tenant goes through the outbox, never in the response.
The one exception is a Telegram ``/start`` with a code that is unknown, used or expired: there is
no tenant to queue a message for, so the refusal is sent back in the webhook answer itself
(Telegram's documented "reply in the webhook response").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from json import JSONDecodeError

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.channels.base import ForgedRequest, Inbound, StatusUpdate
from bot.channels.registry import Channels
from bot.channels.telegram import SECRET_HEADER, WEBHOOK_PATH
from bot.channels.twilio_sms import INBOUND_PATH, STATUS_PATH
from bot.conversation import handle_safely
from bot.inbound import Received, receive
from messages.catalogue import languages as catalogue_languages
from messages.render import render
from storage.database import transaction
from storage.delivery import record_status

log = logging.getLogger("bokvar.webhooks")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def _forbidden() -> PlainTextResponse:
    return PlainTextResponse("forbidden", status_code=403)


def store_inbound(sessions: sessionmaker[Session], inbound: Inbound, now: datetime) -> Received:
    """Store the message once; what it means is decided after the provider has its answer."""
    try:
        with transaction(sessions) as session:
            return receive(session, inbound, now)
    except IntegrityError:
        return Received(None, duplicate=True)  # a concurrent delivery of the same message won


def dialogue_after_response(sessions: sessionmaker[Session], received: Received, clock: Clock) -> BackgroundTask | None:
    """Let the dialogue act on a stored message once the webhook is answered.

    The message is committed before the provider gets its 200, so nothing is lost if this process
    dies before the dialogue runs: the scheduler's sweep (:func:`bot.conversation.process_unhandled`)
    acts on any message left unhandled. Answering first keeps the webhook fast for the provider.
    """
    if received.message_id is None:
        return None
    return BackgroundTask(handle_safely, sessions, received.message_id, clock)


def store_status(sessions: sessionmaker[Session], update: StatusUpdate, now: datetime) -> None:
    try:
        with transaction(sessions) as session:
            record_status(session, update, now)
    except IntegrityError:
        return


def link_refused_text(language_code: str | None) -> str:
    """The refusal in the Telegram user's app language if we ship it, else Swedish."""
    code = (language_code or "").split("-")[0].lower()
    language = code if code in catalogue_languages() else "sv"
    return render("telegram_link_refused", language, {}).text


def webhook_routes(channels: Channels, sessions: sessionmaker[Session], clock: Clock = utc_now) -> list[Route]:
    async def twilio_inbound(request: Request) -> Response:
        if channels.sms is None:
            return PlainTextResponse("SMS is not configured", status_code=404)
        form = await request.form()
        try:
            channels.sms.verify(INBOUND_PATH, request.url.query, form, request.headers.get("X-Twilio-Signature"))
        except ForgedRequest:
            log.warning("refused an inbound SMS webhook with a bad signature")
            return _forbidden()
        try:
            inbound = channels.sms.parse_inbound({key: str(value) for key, value in form.items()})
        except ValueError:
            return PlainTextResponse("missing MessageSid or From", status_code=400)
        received = await run_in_threadpool(store_inbound, sessions, inbound, clock())
        if received.duplicate:
            log.info("inbound SMS was a repeat; nothing changed")
        background = dialogue_after_response(sessions, received, clock)
        return Response(EMPTY_TWIML, media_type="text/xml", background=background)

    async def twilio_status(request: Request) -> Response:
        if channels.sms is None:
            return PlainTextResponse("SMS is not configured", status_code=404)
        form = await request.form()
        try:
            channels.sms.verify(STATUS_PATH, request.url.query, form, request.headers.get("X-Twilio-Signature"))
        except ForgedRequest:
            log.warning("refused a status callback with a bad signature")
            return _forbidden()
        update = channels.sms.parse_status({key: str(value) for key, value in form.items()})
        if update is not None:
            await run_in_threadpool(store_status, sessions, update, clock())
        return Response(status_code=204)

    async def telegram_update(request: Request) -> Response:
        if channels.telegram is None:
            return PlainTextResponse("Telegram is not configured", status_code=404)
        try:
            channels.telegram.verify(request.headers.get(SECRET_HEADER))
        except ForgedRequest:
            log.warning("refused a Telegram webhook with a bad secret token")
            return _forbidden()
        try:
            data = await request.json()
            inbound = channels.telegram.parse_update(data)
        except (JSONDecodeError, ValueError, KeyError, TypeError):
            return PlainTextResponse("not a Telegram update", status_code=400)
        if inbound is None:
            return Response(status_code=200)
        received = await run_in_threadpool(store_inbound, sessions, inbound, clock())
        if inbound.callback_query_id and not received.duplicate:
            await channels.telegram.answer_button(inbound.callback_query_id)
        background = dialogue_after_response(sessions, received, clock)
        if received.link_refusal is not None:
            text = link_refused_text(inbound.sender_language)
            reply = {"method": "sendMessage", "chat_id": int(inbound.address), "text": text}
            return JSONResponse(reply, background=background)
        return Response(status_code=200, background=background)

    return [
        Route(INBOUND_PATH, twilio_inbound, methods=["POST"]),
        Route(STATUS_PATH, twilio_status, methods=["POST"]),
        Route(WEBHOOK_PATH, telegram_update, methods=["POST"]),
    ]
