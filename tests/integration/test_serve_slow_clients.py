"""``outlook-sync serve`` under slow clients: they hold sockets, not the app's threads, and a request
head still unfinished after the head deadline (5 s) loses its connection.

Loopback only. The server runs as the command runs it (gunicorn, the asyncio worker, the buffered
front), with one process of four threads so that a handful of held threads would show.
"""
from __future__ import annotations

import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from plugin.host import HostClient, dumps
from tests.integration.test_serve import ENV, start_serve

SLOW_CLIENTS = 200
HELD_SECONDS = 20
TRICKLE_SECONDS = 3
PROBE_TIMEOUT = 1.0  # a correctness bound for each probe's answer, not a benchmark


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``outlook-sync serve --workers 1 --threads 4 --no-worker`` on SQLite."""
    folder = tmp_path_factory.mktemp("serve")
    server, base = start_serve(f"sqlite:///{folder / 'serve.sqlite3'}", "--workers", "1", "--threads", "4",
                               "--no-worker")
    try:
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)


def _trickle(port: int, stop: threading.Event, held: list[int]) -> None:
    """Open the slow connections: a request line, then one header line per connection every few seconds."""
    sockets = []
    for _ in range(SLOW_CLIENTS):
        slow = socket.create_connection(("127.0.0.1", port), timeout=5)
        slow.sendall(b"POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        sockets.append(slow)
    line = 0
    while not stop.wait(TRICKLE_SECONDS):
        line += 1
        alive = 0
        for slow in sockets:
            try:
                slow.sendall(f"X-Slow-{line}: {line}\r\n".encode("ascii"))
                alive += 1
            except OSError:
                pass
        held.append(alive)
    for slow in sockets:
        slow.close()


def test_slow_clients_do_not_starve_health_checks_or_hooks(served: str) -> None:
    host = HostClient(served, ENV["OUTLOOK_SYNC_HOST_SECRET"])
    stop, held = threading.Event(), []
    port = int(served.rsplit(":", 1)[1])
    trickler = threading.Thread(target=_trickle, args=(port, stop, held), daemon=True)
    trickler.start()
    time.sleep(1)  # the slow connections are open before the first probe
    answered = 0
    try:
        deadline = time.monotonic() + HELD_SECONDS
        while time.monotonic() < deadline:
            health = requests.get(f"{served}/healthz", timeout=PROBE_TIMEOUT)
            assert health.status_code == 200, health.text
            body = dumps(host.delivery("user.upserted", "acct", {
                "id": f"u-{uuid.uuid4().hex[:8]}", "email": "ada@contoso.example", "name": "Ada", "active": True,
                "role": "learner", "version": 1}))
            hook = requests.post(f"{served}/hooks", data=body, headers=host.signed_headers(body),
                                 timeout=PROBE_TIMEOUT)
            assert hook.status_code == 202, hook.text
            answered += 1
            time.sleep(0.2)
    finally:
        stop.set()
        trickler.join(timeout=30)
    assert answered >= 10  # the loop really probed throughout the 20 s
    assert held[0] == SLOW_CLIENTS  # every slow connection was open at the first probes
    assert held[-1] == 0  # and closed by the server once its head was late


def _chunks(body: bytes, size: int = 65536) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


def test_a_signed_chunked_body_over_one_mebibyte_is_413_and_under_it_is_applied(served: str) -> None:
    host = HostClient(served, ENV["OUTLOOK_SYNC_HOST_SECRET"])
    small = dumps(host.delivery("user.upserted", "acct", {
        "id": "u-chunked", "email": "c@contoso.example", "name": "C", "active": True, "role": "learner",
        "version": 1}))
    answer = requests.post(f"{served}/hooks", data=_chunks(small, 16), headers=host.signed_headers(small), timeout=10)
    assert answer.status_code == 202, answer.text  # a chunked body reaches the app whole
    big = dumps(host.delivery("user.upserted", "acct", {
        "id": "u-big", "email": "b@contoso.example", "name": "x" * (1024 * 1024), "active": True,
        "role": "learner", "version": 1}))
    answer = requests.post(f"{served}/hooks", data=_chunks(big), headers=host.signed_headers(big), timeout=10)
    assert answer.status_code == 413, answer.text
    assert "larger than 1048576 bytes" in answer.text

