"""The HTTP plumbing the fake providers share: a threaded server on 127.0.0.1 and a recording receiver.

The fakes are real HTTP servers so that the real ``twilio`` and ``python-telegram-bot`` clients run
their whole stack (serialisation, auth, error parsing) against them; a mock of the client would test
our assumptions about the client instead of the client. Design choices, and why:

* ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive: both clients pool connections, so a
  2,000-message run reuses a handful of sockets instead of opening 2,000.
* Nagle is off and the listen backlog is large: small answers would otherwise wait for delayed ACKs
  (~40 ms each) and bursts of concurrent connects would be dropped and retried after a second.
* ``stop()`` closes open keep-alive connections and wakes "slow" answers, so a test never hangs on
  teardown.
* Everything a handler raises is answered with a 500 *and* kept in ``errors``: a bug in the fake
  must not look like a provider fault the code under test handled correctly.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import socketserver
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "Answer", "FakeRequest", "FakeServer", "ReceivedRequest", "RecordingReceiver", "flatten_form", "http_post",
]


def flatten_form(values: dict[str, list[str]]) -> dict[str, str]:
    """``parse_qs`` output with one value per key (the last, as most web frameworks do)."""
    return {key: items[-1] for key, items in values.items()}


@dataclass(frozen=True)
class FakeRequest:
    """One request as the fake saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    query_string: str = ""

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def form(self) -> dict[str, str]:
        """The url-encoded body (both providers' clients post forms)."""
        return flatten_form(parse_qs(self.body.decode("utf-8"), keep_blank_values=True))


@dataclass
class Answer:
    """What to answer, plus the fault knobs a handler may set.

    ``delay`` sleeps before answering (a slow provider); ``drop`` closes the connection without an
    answer (a lost response); ``after`` runs once the answer has been written, which is how status
    callbacks are made to arrive *after* the client got its 201, as with the real provider.
    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    after: Callable[[], None] | None = None

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None, **knobs: Any) -> Answer:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, data, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, **knobs)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that can take seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection frees its thread eventually
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: thousands of requests would drown pytest's output."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = FakeRequest(
            self.command, parts.path, parse_qs(parts.query, keep_blank_values=True), self.headers, body, parts.query
        )
        try:
            answer = fake.handle(request)
        except Exception:  # a bug in the fake: answer, but keep it visible
            fake.errors.append(traceback.format_exc())
            answer = Answer(500, b"fake server error", {"Content-Type": "text/plain"})
        if answer.delay > 0:
            fake.pause(answer.delay)
        try:
            if answer.drop:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
            else:
                self._write(answer)
        finally:
            # Runs even when the client gave up (timeout): the provider did accept the message, so its
            # status callbacks must still follow.
            if answer.after is not None:
                try:
                    answer.after()
                except Exception:
                    fake.errors.append(traceback.format_exc())

    def _write(self, answer: Answer) -> None:
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            self.wfile.flush()
        except OSError:  # the client went away (e.g. it timed out on a slow answer)
            self.close_connection = True


class FakeServer:
    """A real HTTP server on a free port of 127.0.0.1, run in a daemon thread.

    Subclasses implement :meth:`handle`. Use it as a context manager, or call :meth:`start` and
    :meth:`stop` (both idempotent).
    """

    def __init__(self) -> None:
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.RLock()
        self.errors: list[str] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is None:
            self._stopping.clear()
            self._server = _Server(self)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"{type(self).__name__}:{self.port}", daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with server.connections_lock:
            for connection in list(server.connections):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._on_stop()

    def _on_stop(self) -> None:
        """Hook for subclasses (background workers)."""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running: call start() or use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` with no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def pause(self, seconds: float) -> None:
        """Sleep, but wake up at once when the server stops, so slow answers never block teardown."""
        self._stopping.wait(seconds)

    def handle(self, request: FakeRequest) -> Answer:
        raise NotImplementedError


_connections = threading.local()


def _connection(host: str, port: int, timeout: float, fresh: bool) -> tuple[http.client.HTTPConnection, bool]:
    """This thread's kept-alive connection to ``host:port`` (and whether it was reused)."""
    pool: dict[tuple[str, int], http.client.HTTPConnection] = _connections.__dict__.setdefault("pool", {})
    connection = pool.get((host, port))
    if connection is not None and not fresh:
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection, connection.sock is not None
    if connection is not None:
        connection.close()
    connection = pool[(host, port)] = http.client.HTTPConnection(host, port, timeout=timeout)
    return connection, False


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float = 5.0) -> tuple[int, bytes]:
    """POST with ``http.client``, keeping one connection per thread and host alive.

    No proxy settings from the environment apply, and headers and body go out in one send. Keep-alive
    matters for speed: 4,000 status callbacks on fresh connections take seconds longer. A reused
    connection the server had already closed (idle timeout) is retried once on a fresh one; the
    server never saw that request, so this cannot duplicate a callback.
    """
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"the fakes only post to http:// URLs, not {url!r}")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    fresh = False
    while True:
        connection, reused = _connection(host, port, timeout, fresh)
        try:
            connection.request("POST", path, body=body, headers={"Content-Length": str(len(body)), **headers})
            response = connection.getresponse()
            data = response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            connection.close()
            if reused:
                fresh = True
                continue
            raise
        except Exception:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        return response.status, data


@dataclass(frozen=True)
class ReceivedRequest:
    """A request the :class:`RecordingReceiver` got."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def url_path(self) -> str:
        """Path and query as sent: with the receiver's ``url`` this is the URL a signature covers."""
        return self.path + (f"?{self.query}" if self.query else "")

    @property
    def form(self) -> dict[str, str]:
        return flatten_form(parse_qs(self.body.decode("utf-8"), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


class RecordingReceiver(FakeServer):
    """A stand-in for *our* webhook endpoint: records what the fakes post, answers ``status``.

    Handy to test the fakes themselves, and for tests that want the callbacks without the app.
    """

    def __init__(self, status: int = 204, body: bytes = b"") -> None:
        super().__init__()
        self.status = status
        self.body = body
        self.received: list[ReceivedRequest] = []
        self._arrived = threading.Condition(self._lock)

    def handle(self, request: FakeRequest) -> Answer:
        record = ReceivedRequest(
            request.method, request.path, request.query_string, dict(request.headers.items()), request.body
        )
        with self._arrived:
            self.received.append(record)
            self._arrived.notify_all()
        return Answer(self.status, self.body)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedRequest]:
        """Block until ``count`` requests have arrived; :class:`TimeoutError` otherwise."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise TimeoutError(f"expected {count} requests, got {len(self.received)} within {timeout} s")
            return list(self.received)
