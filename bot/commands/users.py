"""``bokvar user add EMAIL --role staff|admin``: create a console account."""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.commands.runtime import CommandError, runtime
from staff.accounts import AccountError, create_user, generate_password
from storage.database import transaction
from storage.models import StaffRole


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """Prompt on a terminal; otherwise (or with --generate) make one and print it once."""
    if args.generate or not sys.stdin.isatty():
        return generate_password(), True
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise CommandError("the passwords differ; nothing was created")
    return first, False


def add_command(args: argparse.Namespace) -> int:
    context = runtime()
    context.require_current_schema()
    password, generated = _password(args)
    try:
        with transaction(context.sessions) as session:
            user = create_user(session, args.email, StaffRole(args.role), password, args.name)
    except AccountError as error:
        raise CommandError(f"{error}; nothing was created") from None
    print(f"created {user.role.value} {user.email}")
    if generated:
        print(f"password (shown once): {password}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = subparsers.add_parser("user", help="manage console accounts", description="Manage console accounts.")
    actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="create a staff or admin account",
        description="Create a console account. The password is prompted for on a terminal; "
        "otherwise (or with --generate) a random one is printed once.",
    )
    add.add_argument("email")
    add.add_argument("--role", choices=[role.value for role in StaffRole], required=True)
    add.add_argument("--name", help="name shown in the console (default: the part before @)")
    add.add_argument("--generate", action="store_true", help="generate a password instead of prompting")
    add.set_defaults(handler=add_command)
