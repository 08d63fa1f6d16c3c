"""``bokvar plan [--dry-run] [--at "2026-12-01 09:00"]``: run the outreach planner once.

With ``--dry-run`` nothing is written: the command prints who would be contacted when, with which
template and channels, which staff tasks would open, which current steps were skipped and why
(window, cap, opted out, paid, …) and which pending messages would be withdrawn. Without it, the
same plan is written to the outbox and the task inbox. ``--at`` is Stockholm wall-clock time, so
an operator can ask "what happens on Monday morning?" without doing time-zone arithmetic.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bot.commands.runtime import CommandError, runtime
from scheduler.calendar import STOCKHOLM
from scheduler.planner import PlanReport, plan
from scheduler.playbook import PlaybookError, load_playbook

DEFAULT_LIMIT = 200


def parse_at(value: str) -> datetime:
    """``"2026-12-01 09:00"`` (Stockholm) → an aware UTC datetime; an explicit offset is kept."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a time like \"2026-12-01 09:00\"") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=STOCKHOLM)
    return moment.astimezone(UTC)


def _when(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%a %Y-%m-%d %H:%M")


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in sorted(counter.items())) or "none"


def _section(title: str, lines: Sequence[str], limit: int) -> list[str]:
    out = [f"{title} ({len(lines)}):"]
    out += [f"  {line}" for line in lines[:limit]]
    if len(lines) > limit:
        out.append(f"  … and {len(lines) - limit} more")
    return out


def render_report(report: PlanReport, limit: int = DEFAULT_LIMIT) -> list[str]:
    """The report as the lines an operator reads (also used by the tests)."""
    mode = "dry run, nothing written" if report.dry_run else "written"
    lines = [f"Plan at {_when(report.now)} Europe/Stockholm, playbook {report.playbook!r} ({mode})"]
    verb = "Would contact" if report.dry_run else "Planned messages"
    messages = []
    for m in sorted(report.messages, key=lambda m: (m.due_at, m.tenant_ref)):
        case = f"case {m.case_ref}" if m.case_ref else m.dedupe_key
        held = f"  held: {m.held}" if m.held else ""
        revived = "  (re-planned)" if m.revived else ""
        messages.append(f"{_when(m.due_at)}  {m.tenant_ref} ({case})  {m.template_key}  via "
                        f"{', '.join(m.channel_order)}  step {m.step_id}{held}{revived}")
    lines += _section(verb, messages, limit)
    tasks = [
        f"{_when(t.due_at)}  {t.kind.value} p{t.priority}  {t.tenant_ref} (case {t.case_ref})  step {t.step_id}"
        for t in sorted(report.tasks, key=lambda t: (t.priority, t.due_at, t.tenant_ref))
    ]
    lines += _section("Staff tasks" + (" that would open" if report.dry_run else " opened"), tasks, limit)
    skipped = [
        f"{s.tenant_ref}" + (f" (case {s.case_ref})" if s.case_ref else "") + f"  step {s.step_id}"
        + (" [task]" if s.part == "task" else "") + f": {s.reason}"
        for s in sorted(report.skipped, key=lambda s: (s.reason, s.tenant_ref, s.step_id))
    ]
    lines += _section("Skipped", skipped, limit)
    withdrawn = [
        f"outbox {w.outbox_id} {w.dedupe_key}" + (f" ({w.tenant_ref})" if w.tenant_ref else "") + f": {w.reason}"
        for w in report.withdrawn
    ]
    lines += _section("Would withdraw" if report.dry_run else "Withdrawn", withdrawn, limit)
    lines.append(
        f"Summary: {report.open_cases} open cases, {report.meetings} upcoming meetings; "
        f"{len(report.messages)} messages (held: {_counts(report.held_by_reason())}), {len(report.tasks)} tasks; "
        f"skipped: {_counts(report.skipped_by_reason())}; withdrawn: {_counts(report.withdrawn_by_reason())}; "
        f"{report.seconds:.2f} s"
    )
    return lines


def plan_command(args: argparse.Namespace) -> int:
    try:
        playbook = load_playbook(args.playbook)
    except (OSError, PlaybookError) as error:
        raise CommandError(f"cannot use the playbook: {error}", code=2) from None
    context = runtime()
    context.require_current_schema()
    now = args.at or datetime.now(UTC)
    report = plan(context.sessions, now, playbook, dry_run=args.dry_run)
    for line in render_report(report, args.limit):
        print(line)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="plan outreach for open cases (or show the plan with --dry-run)",
        description="Evaluate every open case against the playbook and write the messages and staff tasks "
        "that are due to the outbox and the task inbox. Safe to repeat: nothing is planned twice. "
        "With --dry-run, print who would be contacted when, and why others are skipped, without writing.",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    parser.add_argument(
        "--at", type=parse_at, metavar='"YYYY-MM-DD HH:MM"',
        help="plan as if it were this Stockholm local time (default: now)",
    )
    parser.add_argument("--playbook", type=Path, metavar="FILE.toml", help="a playbook file (default: the shipped one)")
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, help=f"lines per section (default {DEFAULT_LIMIT})")
    parser.set_defaults(handler=plan_command)
