"""Keep personal data and secrets out of logs, including the logs of the libraries we call.

At INFO, httpx (under python-telegram-bot) logs every request URL, which contains the bot token,
and twilio's HTTP client logs query parameters, which can contain phone numbers. Our own modules
log identifiers and counts only.
"""

from __future__ import annotations

import logging

CHATTY_LOGGERS = ("httpx", "httpcore", "twilio.http_client", "telegram", "apscheduler.executors", "alembic")


def quiet_chatty_loggers() -> None:
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
