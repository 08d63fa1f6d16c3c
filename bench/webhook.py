"""Benchmark: signed inbound SMS webhooks against the real app, and against a bare endpoint.

Runs Bokvar's ASGI app under uvicorn on 127.0.0.1 (a SQLite database in a temporary folder,
tenants whose numbers the requests come from) and, in the same invocation, a bare Starlette app
whose one endpoint only parses the form and returns empty TwiML. Each server runs in its own
process; the load comes from this process: N pre-signed webhooks, C at a time, over keep-alive
connections. Prints requests per second and p50/p99 latency for both, and their ratio: the price
of checking the signature and storing each message once in one transaction.

    .venv/bin/python bench/webhook.py [--requests 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.bot.webhook_support import PUBLIC_URL, inbound_sms, provider_settings, twilio_signature  # noqa: E402

PATH = "/webhooks/twilio/sms"
TENANTS = 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_bokvar(port: int, database: Path) -> None:
    import uvicorn

    from bot.app import create_app
    from storage.database import make_engine, make_session_factory

    settings = provider_settings(f"sqlite:///{database}", telegram=False)
    app = create_app(settings, make_session_factory(make_engine(settings.database_url)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_bare(port: int) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    twiml = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

    async def endpoint(request: Request) -> Response:
        await request.form()
        return Response(twiml, media_type="text/xml")

    app = Starlette(routes=[Route(PATH, endpoint, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def prepare_database(database: Path) -> None:
    from storage.database import make_engine, make_session_factory, transaction
    from storage.migrate import upgrade
    from tests.factories import make_tenant

    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    with transaction(make_session_factory(engine)) as session:
        for number in range(TENANTS):
            make_tenant(session, f"B-{number}", phone=f"+467017406{number % 100:02d}" if number < 100 else None)
    engine.dispose()


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    failures: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def signed_requests(count: int, salt: str) -> list[tuple[dict[str, str], dict[str, str]]]:
    bodies = ["ja", "1", "jag har betalat", "نعم", "haa", "Hej, jag behöver hjälp med hyran", "STOPP", "2"]
    prepared = []
    for number in range(count):
        params = inbound_sms(
            sid=f"SM{salt}{number:030d}"[:34], sender=f"+467017406{number % 100:02d}", body=bodies[number % len(bodies)]
        )
        prepared.append((params, {"X-Twilio-Signature": twilio_signature(PUBLIC_URL + PATH, params)}))
    return prepared


async def wait_until_up(port: int) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(200):
            try:
                await client.get(f"http://127.0.0.1:{port}/healthz")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


async def load(name: str, port: int, prepared: list, concurrency: int) -> Result:
    url = f"http://127.0.0.1:{port}{PATH}"
    queue: asyncio.Queue = asyncio.Queue()
    for item in prepared:
        queue.put_nowait(item)
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not queue.empty():
            params, headers = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(url, data=params, headers=headers)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures += 1

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return Result(name, len(prepared), seconds, latencies, failures)


def start(target: str, port: int, database: Path | None) -> subprocess.Popen:
    command = [sys.executable, __file__, "--serve", target, "--port", str(port)]
    if database is not None:
        command += ["--database", str(database)]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


async def measure(target: str, port: int, prepared: list, concurrency: int, database: Path | None) -> Result:
    server = start(target, port, database)
    try:
        await wait_until_up(port) if target == "bokvar" else await asyncio.sleep(1.5)
        await load(target, port, prepared[:50], concurrency)  # warm-up, not counted
        return await load(target, port, prepared[50:], concurrency)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serve", choices=["bokvar", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "bokvar":
        serve_bokvar(args.port, args.database)
        return
    if args.serve == "bare":
        serve_bare(args.port)
        return
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        prepare_database(database)
        bare_requests = signed_requests(args.requests + 50, "b")
        bare = asyncio.run(measure("bare", _free_port(), bare_requests, args.concurrency, None))
        bokvar = asyncio.run(
            measure("bokvar", _free_port(), signed_requests(args.requests + 50, "a"), args.concurrency, database)
        )
        from sqlalchemy import create_engine, text

        with create_engine(f"sqlite:///{database}").connect() as connection:
            stored = connection.execute(text("SELECT count(*) FROM messages")).scalar()
    print(f"signed inbound SMS webhooks: {args.requests} requests, {args.concurrency} concurrent, 127.0.0.1")
    print(f"{'endpoint':<34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-200':>9}")
    for result, label in ((bokvar, "Bokvar /webhooks/twilio/sms"), (bare, "bare Starlette (form + TwiML)")):
        print(f"{label:<34}{result.per_second:>10.0f}{result.percentile(0.5):>10.1f}"
              f"{result.percentile(0.99):>10.1f}{result.failures:>9}")
    print(f"ratio Bokvar/bare: throughput {bokvar.per_second / bare.per_second:.2f}, "
          f"p50 latency {bokvar.percentile(0.5) / bare.percentile(0.5):.2f}x, "
          f"p99 latency {bokvar.percentile(0.99) / bare.percentile(0.99):.2f}x")
    print(f"messages stored by Bokvar: {stored} (expected {args.requests + 50}: every webhook once)")


if __name__ == "__main__":
    main()
