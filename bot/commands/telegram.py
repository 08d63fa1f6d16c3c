"""``bokvar telegram link-code|set-webhook``: connect tenants and the bot to Telegram."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from bot.channels.base import ChannelError
from bot.channels.telegram import TelegramChannel
from bot.commands.runtime import CommandError, runtime
from bot.settings import Settings
from bot.telegram_linking import deep_link, issue_link_code
from storage.database import transaction
from storage.models import Tenant


def _channel(settings: Settings) -> TelegramChannel:
    if settings.telegram is None:
        raise CommandError("Telegram is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET", code=2)
    return TelegramChannel(settings.telegram)


async def _bot_username(channel: TelegramChannel) -> str:
    try:
        await channel.start()
        return channel.username
    except ChannelError as error:
        raise CommandError(f"Telegram: {error}", code=2) from None
    finally:
        await channel.stop()


def link_code_command(args: argparse.Namespace) -> int:
    context = runtime()
    context.require_current_schema()
    channel = _channel(context.settings)
    username = asyncio.run(_bot_username(channel))
    with transaction(context.sessions) as session:
        tenant = session.scalar(select(Tenant).where(Tenant.external_ref == args.tenant_ref))
        if tenant is None:
            raise CommandError(f"no tenant {args.tenant_ref!r}")
        code = issue_link_code(session, tenant, datetime.now(UTC))
    print(deep_link(username, code))
    return 0


def set_webhook_command(_args: argparse.Namespace) -> int:
    settings = runtime().settings
    channel = _channel(settings)

    async def register() -> str:
        try:
            await channel.start()
            return await channel.set_webhook(settings.public_url)
        except ChannelError as error:
            raise CommandError(f"Telegram: {error}", code=2) from None
        finally:
            await channel.stop()

    print(f"webhook registered: {asyncio.run(register())}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    telegram = subparsers.add_parser(
        "telegram", help="link tenants and register the bot's webhook", description="Telegram set-up."
    )
    actions = telegram.add_subparsers(dest="telegram_command", required=True, metavar="ACTION")
    link = actions.add_parser(
        "link-code",
        help="print a one-time deep link that binds a tenant's Telegram chat",
        description="Issue a one-time code (valid 14 days) for the tenant and print the deep link "
        "https://t.me/<bot>?start=<code>, to send by SMS or letter.",
    )
    link.add_argument("tenant_ref", metavar="TENANT_REF", help="the tenant's reference from the import")
    link.set_defaults(handler=link_code_command)
    hook = actions.add_parser(
        "set-webhook",
        help="register BOKVAR_PUBLIC_URL/webhooks/telegram with the secret token",
        description="Register the webhook with Telegram, with TELEGRAM_WEBHOOK_SECRET as secret token.",
    )
    hook.set_defaults(handler=set_webhook_command)
