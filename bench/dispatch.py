"""Benchmark: messages per second through the outbox dispatcher, against a bare loop of Twilio calls.

The fake Twilio server (``tests/fakes/twilio_server.py``) runs in a process of its own on 127.0.0.1,
so this process holds only what production holds: the dispatcher, the database and the ``twilio``
client. In the same invocation it measures

* **Bokvar**: N due replies (the ``menu`` template, rendered in each tenant's language at send time)
  drained by :class:`scheduler.dispatcher.Dispatcher` with the real ``TwilioSmsChannel``: claim,
  write the message before sending, send, record the SID; per message two transactions around the
  provider call, on a SQLite file in a temporary folder (or ``--database-url``);
* **bare**: the same number of ``client.messages.create`` calls in a plain loop, through the same
  client object (``TwilioSmsChannel.client``) with the same arguments, nothing stored;

and prints both rates and their ratio: the price of never losing and never doubling a message.
The dispatcher's rate limiter is lifted (Twilio's real throughput caps production far below
either number); its default concurrency (8 sends in flight) is kept unless ``--concurrency``.
Each side gets a warm-up of 50 messages that is not counted; the best of ``--repeat`` runs is kept.

    .venv/bin/python bench/dispatch.py [--messages 2000] [--repeat 2] [--concurrency 8] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, insert, select, text  # noqa: E402

from bot.channels.registry import Channels  # noqa: E402
from bot.channels.twilio_sms import TwilioSmsChannel  # noqa: E402
from bot.settings import TwilioSettings  # noqa: E402
from scheduler.dispatcher import AllowAll, Dispatcher, DispatcherConfig  # noqa: E402
from storage.database import make_engine, make_session_factory  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    Channel,
    ContactPoint,
    Municipality,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Tenant,
)
from tests.fakes.twilio_server import (  # noqa: E402
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    DEFAULT_SERVICE_NUMBER,
    FakeTwilio,
)

LANGUAGES = ("sv", "ar", "so", "fa", "en", "pl", "tr", "uk", "fi", "ti")
WARM_UP = 50


def serve_fake() -> None:
    """Child process: run the fake until stdin closes, then print how many messages it accepted."""
    with FakeTwilio(callbacks_enabled=False) as fake:
        print(fake.url, flush=True)
        sys.stdin.read()
        print(len(fake.messages), flush=True)


def seed(engine: Engine, rows: int, run: str) -> None:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        town = connection.execute(select(Municipality.id).limit(1)).scalar_one()
        connection.execute(insert(Tenant), [
            {"external_ref": f"{run}-{n}", "name": "Bench Tenant", "preferred_language": LANGUAGES[n % len(LANGUAGES)],
             "municipality_id": town} for n in range(rows)
        ])
        tenants = connection.execute(
            select(Tenant.id).where(Tenant.external_ref.like(f"{run}-%")).order_by(Tenant.id)
        ).scalars().all()
        connection.execute(insert(ContactPoint), [
            {"tenant_id": tenant, "channel": Channel.SMS, "address": f"+4673{n:07d}", "priority": 20}
            for n, tenant in enumerate(tenants)
        ])
        connection.execute(insert(OutboxItem), [
            {"dedupe_key": f"{run}-{n}", "kind": OutboxKind.REPLY, "tenant_id": tenant, "template_key": "menu",
             "values": {}, "channel_order": ["sms"], "status": OutboxStatus.PENDING, "due_at": now, "attempts": 0}
            for n, tenant in enumerate(tenants)
        ])


def measure_dispatcher(engine: Engine, channel: TwilioSmsChannel, rows: int, run: str, concurrency: int) -> float:
    seed(engine, rows, run)
    config = DispatcherConfig(concurrency=concurrency, rates_per_second={"sms": 1e9})
    dispatcher = Dispatcher(make_session_factory(engine), Channels(sms=channel), AllowAll(), worker=run,
                            config=config)
    started = time.perf_counter()
    stats = asyncio.run(dispatcher.drain())
    seconds = time.perf_counter() - started
    if stats.sent != rows:
        raise SystemExit(f"the dispatcher sent {stats.sent} of {rows} ({stats})")
    return seconds


def measure_bare(channel: TwilioSmsChannel, rows: int, run: str) -> float:
    client = channel.client
    started = time.perf_counter()
    for n in range(rows):
        client.messages.create(to=f"+4674{n:07d}", body=f"{run} Svara 1 för hjälp, 2 för möte, 3 om du har betalat.",
                               status_callback=channel.status_callback_url, from_=DEFAULT_SERVICE_NUMBER)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per side; the best is kept")
    parser.add_argument("--concurrency", type=int, default=DispatcherConfig().concurrency)
    parser.add_argument("--database-url", help="an empty, migrated-or-not database (default: a SQLite file)")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake:
        serve_fake()
        return 0

    fake = subprocess.Popen([sys.executable, __file__, "--serve-fake"], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert fake.stdout is not None
    url = fake.stdout.readline().strip()
    settings = TwilioSettings(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, None, DEFAULT_SERVICE_NUMBER, url)
    channel = TwilioSmsChannel(settings, "https://bokvar.example.se")
    with tempfile.TemporaryDirectory(prefix="bokvar-bench-") as folder:
        engine = make_engine(args.database_url or f"sqlite:///{Path(folder) / 'dispatch.db'}")
        upgrade(engine)
        backend = engine.dialect.name
        measure_dispatcher(engine, channel, WARM_UP, "warm", args.concurrency)
        measure_bare(channel, WARM_UP, "warm")
        bokvar, bare = [], []
        for number in range(args.repeat):  # the two take turns, so a busy neighbour slows both alike
            bokvar.append(measure_dispatcher(engine, channel, args.messages, f"run{number}", args.concurrency))
            bare.append(measure_bare(channel, args.messages, f"run{number}"))
        with engine.connect() as connection:
            sent = connection.execute(text("SELECT count(*) FROM outbox WHERE status = 'sent'")).scalar_one()
        engine.dispose()
    accepted, _ = fake.communicate("")
    expected = (args.repeat * args.messages + WARM_UP) * 2
    fast_bokvar, fast_bare = args.messages / min(bokvar), args.messages / min(bare)
    print(f"SMS through the fake Twilio on 127.0.0.1 (own process): {args.messages} messages, best of {args.repeat}")
    bokvar_label = f"Bokvar Dispatcher ({backend}, {args.concurrency} in flight)"
    print(f"{'path':<52}{'msg/s':>9}{'ms/msg':>9}")
    print(f"{bokvar_label:<52}{fast_bokvar:>9.0f}{1000 / fast_bokvar:>9.2f}")
    print(f"{'bare loop of client.messages.create (same client)':<52}{fast_bare:>9.0f}{1000 / fast_bare:>9.2f}")
    print(f"ratio Bokvar/bare: {fast_bokvar / fast_bare:.2f} (per message Bokvar adds "
          f"{1000 / fast_bokvar - 1000 / fast_bare:.2f} ms of bookkeeping around the provider call)")
    print(f"outbox rows sent: {sent} (expected {args.repeat * args.messages + WARM_UP}); "
          f"messages the fake accepted: {accepted.strip()} (expected {expected}: each once)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
