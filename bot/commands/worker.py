"""``bokvar worker``: the scheduler's jobs in a process of their own, until SIGTERM or SIGINT.

The same jobs ``bokvar serve`` runs in its lifespan (:mod:`scheduler.jobs`), without the web app:
for deployments that scale the dispatcher out on PostgreSQL (several workers share the outbox
through ``SKIP LOCKED``; one of them, holding the advisory lock, plans) or keep sending apart from
the web processes (``bokvar serve --no-jobs``). ``--once`` runs each job once and exits, for cron.

On SIGTERM or SIGINT no new run starts, a running dispatch finishes its sends (so every provider
id is recorded), and the process exits 0 after printing what it did. A worker that is killed
outright loses nothing: its rows stay in ``sending`` and the next worker's reconcile job settles
them once their lease has passed, by asking the provider, never by sending again blindly.

The schema is never migrated here: several processes must not race to migrate, so run
``bokvar db upgrade`` first (``bokvar serve`` does it on SQLite).
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from bot.background import bot_jobs, warm_up_language_models
from bot.channels.base import ChannelError
from bot.channels.registry import Channels, build_channels
from bot.commands.runtime import runtime
from bot.webhooks import utc_now
from scheduler.dispatcher import DispatcherConfig
from scheduler.jobs import SchedulerJobs

RATE_CHANNELS = ("sms", "telegram", "simulator")


def parse_rate(value: str) -> tuple[str, float]:
    """``sms=50`` → ``("sms", 50.0)``: messages per second on that channel."""
    name, _, number = value.partition("=")
    try:
        rate = float(number)
    except ValueError:
        rate = 0.0
    if name not in RATE_CHANNELS or rate <= 0:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not CHANNEL=MESSAGES_PER_SECOND with a channel of {', '.join(RATE_CHANNELS)}, e.g. sms=50"
        )
    return name, rate


def dispatcher_config(rates: list[tuple[str, float]]) -> DispatcherConfig:
    config = DispatcherConfig()
    config.rates_per_second.update(dict(rates))
    return config


async def run_worker(jobs: SchedulerJobs, channels: Channels, *, once: bool) -> int:
    """Run ``jobs`` until a signal (or once); the channels that need it are started around them."""
    telegram = channels.telegram
    if telegram is not None:
        try:
            await telegram.start()
        except ChannelError as error:
            print(f"bokvar worker: Telegram is unavailable: {error}", flush=True)
    await warm_up_language_models()
    try:
        if once:
            ok = await jobs.run_all_once()
            print(f"worker {jobs.dispatcher.worker} ran each job once: {summary(jobs)}", flush=True)
            return 0 if ok else 1
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signal_number, stop.set)
        await jobs.start()
        mode = "the simulator (no provider configured)" if jobs.simulated else "the configured providers"
        print(f"worker {jobs.dispatcher.worker} running, sending through {mode}; stop with SIGTERM or Ctrl-C",
              flush=True)
        await stop.wait()
        await jobs.stop()
        print(f"worker {jobs.dispatcher.worker} stopped: {summary(jobs)}", flush=True)
        return 0
    finally:
        if telegram is not None:
            await telegram.stop()


def summary(jobs: SchedulerJobs) -> str:
    counts = ", ".join(f"{name} {value}" for name, value in vars(jobs.totals).items())
    return f"{counts}; planner runs {jobs.plans}"


def worker_command(args: argparse.Namespace) -> int:
    context = runtime()
    context.require_current_schema()
    channels = build_channels(context.settings)
    jobs = SchedulerJobs(
        context.sessions, channels, dispatcher_config=dispatcher_config(args.rate or []),
        extra_jobs=bot_jobs(context.sessions, utc_now),
    )
    return asyncio.run(run_worker(jobs, channels, once=args.once))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = subparsers.add_parser(
        "worker",
        help="run the planner and the dispatcher without the web app",
        description="Run the scheduler's jobs (planner, dispatcher, reconcile, task escalation) until "
        "SIGTERM or Ctrl-C. Several workers may share a PostgreSQL database; run 'bokvar db upgrade' first.",
    )
    worker.add_argument("--once", action="store_true", help="run each job once (sending everything due) and exit")
    worker.add_argument(
        "--rate",
        type=parse_rate,
        action="append",
        metavar="CHANNEL=PER_SECOND",
        help="sending pace of one channel, e.g. sms=50 (default sms=20, telegram=25); repeatable",
    )
    worker.set_defaults(handler=worker_command)
