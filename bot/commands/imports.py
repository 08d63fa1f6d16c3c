"""``bokvar import tenants|cases FILE``: load the landlord's CSV files, all rows or none."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.commands.runtime import CommandError, runtime
from messages.languages import accepted_language_codes
from storage.database import transaction
from storage.imports import ImportRejected, ImportResult, import_cases, import_tenants


def import_command(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.is_file():
        raise CommandError(f"no such file: {path}")
    context = runtime()
    context.require_current_schema()
    try:
        with transaction(context.sessions) as session:
            result: ImportResult
            if args.kind == "tenants":
                result = import_tenants(session, path, accepted_language_codes())
            else:
                result = import_cases(session, path)
    except ImportRejected as rejected:
        for error in rejected.errors:
            print(f"{path.name}: {error}", file=sys.stderr)
        count = len(rejected.errors)
        raise CommandError(f"{count} problem{'s' if count != 1 else ''} found: nothing was imported") from None
    print(f"{path.name}: {result.summary() or 'no rows'}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import tenants or cases from CSV",
        description="Import the landlord's CSV files (see docs/import.md). Every row is checked first; "
        "if any row is wrong, every problem is listed with its line and column and nothing is imported. "
        "Importing the same file again changes nothing.",
    )
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    for kind, text in (
        ("tenants", "tenants, optionally each with their open case"),
        ("cases", "cases of tenants already imported"),
    ):
        sub = kinds.add_parser(kind, help=f"import {text}", description=f"Import {text} from a CSV file.")
        sub.add_argument("file", type=Path, metavar="FILE.csv", help="UTF-8 CSV, comma or semicolon separated")
        sub.set_defaults(handler=import_command, kind=kind)
