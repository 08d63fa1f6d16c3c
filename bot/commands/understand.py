"""``bokvar understand``: how the bot reads replies, as JSON lines (see ``architecture.md``).

Reads one JSON object per line on stdin — ``{"text": …, "awaiting": "nothing|menu|consent|slot",
"language": "<tenant's known language>"}``, the last two optional — and writes one line per input:
the input's fields with the result's (``intent``, ``language`` as detected in the reply, ``choice``,
``confidence``; ``withdraw: true`` for a withdrawal of consent, which is ``intent: no``; ``question:
true`` for "what does it mean?"). The input ``language`` is the prior; the output ``language``
replaces it with the reply's own language (``und`` when it has none, e.g. "1" or "👍").

A line that is not a JSON object with a string ``text`` is answered with ``{"error": …}`` and the
command exits 1 after reading everything. With ``TEXT`` arguments it reads those instead of stdin.
No database or settings are needed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator

from storage.models.enums import Awaiting

AWAITING = tuple(a.value for a in Awaiting)


def _answer(record: object) -> dict[str, object]:
    from bot.dialogue import understand

    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        return {"error": 'expected a JSON object with a string "text"', "input": record}
    awaiting = record.get("awaiting") or "nothing"
    if awaiting not in AWAITING:
        return {"error": f"awaiting must be one of {', '.join(AWAITING)}", "input": record}
    language = record.get("language")
    if language is not None and not isinstance(language, str):
        return {"error": "language must be a string", "input": record}
    result = understand(record["text"], awaiting, language or None)
    return {**record, **result.as_json()}


def answers(lines: Iterable[str]) -> Iterator[dict[str, object]]:
    """One answer per non-blank JSON line."""
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield {"error": f"not JSON: {error.msg}", "input": line.rstrip("\n")}
            continue
        yield _answer(record)


def understand_command(args: argparse.Namespace) -> int:
    if args.texts:
        records = (json.dumps({"text": t, "awaiting": args.awaiting, "language": args.language}) for t in args.texts)
        lines: Iterable[str] = records
    else:
        lines = sys.stdin
    failed = False
    out = sys.stdout
    for answer in answers(lines):
        failed = failed or "error" in answer
        out.write(json.dumps(answer, ensure_ascii=False) + "\n")
        out.flush() if args.texts else None
    return 1 if failed else 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "understand",
        help="show how the bot reads tenants' replies (JSON lines in, JSON lines out)",
        description='Read JSON lines {"text", "awaiting"?, "language"?} on stdin and write each with '
        '"intent", "language", "choice" and "confidence" added. No database is needed.',
    )
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="read these replies instead of stdin")
    parser.add_argument("--awaiting", choices=AWAITING, default="nothing", help="context for TEXT arguments")
    parser.add_argument("--language", default=None, help="the tenant's known language, for TEXT arguments")
    parser.set_defaults(handler=understand_command)
