"""The ``bokvar`` command line: one parser, one module per subcommand in ``bot.commands``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot.commands import db, imports, plan, serve, telegram, understand, users, worker
from bot.commands.runtime import CommandError
from bot.log_privacy import quiet_chatty_loggers

COMMANDS = (serve, worker, db, imports, users, telegram, plan, understand)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bokvar",
        description="Bokvar: multilingual outreach that helps tenants keep their homes. "
        "Settings come from environment variables (see README.md).",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_chatty_loggers()
    logging.getLogger("apscheduler.scheduler").setLevel(logging.WARNING)  # "Added job …" at every start
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except CommandError as error:
        for line in str(error).splitlines():
            print(f"bokvar: {line}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
