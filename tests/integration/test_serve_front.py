"""``outlook-sync serve``'s front against sockets that cost it without asking anything, on loopback.

- 2,200 connections that send nothing, against a serve whose file limit is 1,024 (soft and hard, so
  raising the soft one cannot help): once the burst of connections is through (the first probe waits
  behind it, timed and printed), ``/healthz`` answers within 2 s while they are held and after the
  head deadline closed them, and the log stays short.
- 200 bodies of 1 MiB declared, sent as far as the socket takes them, then stalled: on a route that
  takes no body, and on ``/hooks`` (which takes 1 MiB: the per-process budget then answers 503); the
  server's processes grow by under 64 MiB (RSS summed over its process tree, from /proc).
- Past the per-process cap of connections, with every one busy with a request, a new one gets 503.
- ``/readyz`` and ``/metrics`` answer on the operators' listener only.

Each server is ``--workers 1 --no-worker`` on SQLite; its output goes to a file, counted after.
"""
from __future__ import annotations

import errno
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.integration.test_serve import ENV, free_port

IDLE_SOCKETS = 2_200
FILE_LIMIT = 1_024
STALLED_BODIES = 200
MIB = 1024 * 1024
PROBE_SECONDS = 2.0  # each /healthz must answer within this (a correctness bound, not a benchmark)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    base: str
    ops: str
    log: Path

    def stop(self) -> int:
        """SIGTERM, then the number of lines it wrote."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        return len(self.log.read_bytes().splitlines())


def serve(folder: Path, preexec: Callable[[], None] | None = None) -> Served:
    """``outlook-sync serve --workers 1 --no-worker`` on free ports, once ``/healthz`` answers."""
    port, ops_port, log = free_port(), free_port(), folder / "serve.log"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}, **ENV,
           "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{folder / 'serve.sqlite3'}"}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "plugin.cli", "serve", "--port", str(port), "--ops-port",
                                    str(ops_port), "--workers", "1", "--no-worker"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec)
    served = Served(process, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ops_port}", log)
    for _ in range(200):
        try:
            if requests.get(f"{served.base}/healthz", timeout=1).status_code == 200:
                return served
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"serve did not answer /healthz: {log.read_text()[-2000:]}")


def _limit_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


@pytest.fixture(autouse=True)
def room_for_the_clients() -> Iterator[None]:
    """This test process opens thousands of sockets: its own soft file limit up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < IDLE_SOCKETS + 200:
        pytest.fail(f"the hard file limit here is {hard}: the test needs {IDLE_SOCKETS + 200}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _open(port: int, count: int) -> list[socket.socket]:
    """``count`` connections started without waiting for each (non-blocking connect)."""
    opened = []
    for _ in range(count):
        client = socket.socket()
        client.setblocking(False)
        code = client.connect_ex(("127.0.0.1", port))
        assert code in (0, errno.EINPROGRESS), os.strerror(code)
        opened.append(client)
    return opened


def test_idle_sockets_past_the_file_limit_leave_health_answering_and_the_log_short(tmp_path: Path) -> None:
    served = serve(tmp_path, _limit_files)
    idle: list[socket.socket] = []
    try:
        idle = _open(int(served.base.rsplit(":", 1)[1]), IDLE_SOCKETS)
        started = time.monotonic()  # the first probe queues behind the burst of connections: timed, printed
        assert requests.get(f"{served.base}/healthz", timeout=30).status_code == 200
        first = time.monotonic() - started
        slowest, deadline = 0.0, time.monotonic() + 8  # probes before and after the head deadline (5 s)
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert requests.get(f"{served.base}/healthz", timeout=PROBE_SECONDS).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.25)
        print(f"{IDLE_SOCKETS} idle sockets: first /healthz behind them in {first:.2f} s, then the slowest "
              f"{slowest:.3f} s (load {os.getloadavg()[0]:.1f})")
    finally:
        for client in idle:
            client.close()
        lines = served.stop()
    text = served.log.read_text()
    print(f"serve's log: {lines} lines")
    assert lines < 300, text[-3000:]
    assert "Traceback" not in text, text[-3000:]


def _rss_kib(root: int) -> int:
    """Resident memory of ``root`` and every process under it, in KiB (/proc/<pid>/status VmRSS)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    total = 0
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return total


def _stall(port: int, path: str) -> tuple[list[socket.socket], int]:
    """Each of :data:`STALLED_BODIES` connections declares a 1 MiB body on ``path`` and sends of it what
    the socket takes within a few seconds, then stalls; the connections and the bytes sent."""
    clients = _open(port, STALLED_BODIES)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {MIB}\r\n\r\n".encode("ascii")
    left = {client: head + b"x" * MIB for client in clients}
    sent, deadline = 0, time.monotonic() + 4
    while left and time.monotonic() < deadline:
        _, writable, _ = select.select([], list(left), [], 0.2)
        for client in writable:
            try:
                count = client.send(left[client][:MIB // 4])
            except OSError:
                del left[client]  # refused and closed by the server
                continue
            sent += count
            left[client] = left[client][count:]
            if len(left[client]) <= 1:
                del left[client]  # all but the last byte: the body never completes
    return clients, sent


def _answers(clients: list[socket.socket]) -> list[bytes]:
    """The first bytes each connection got back within a few seconds (b"" for none)."""
    got = dict.fromkeys(clients, b"")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        readable, _, _ = select.select([c for c in clients if not got[c]], [], [], 0.2)
        for client in readable:
            try:
                got[client] = client.recv(512) or b"closed"
            except OSError:
                got[client] = b"reset"
        if all(got.values()):
            break
    return list(got.values())


@pytest.fixture(scope="module")
def served_default(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = serve(tmp_path_factory.mktemp("front"))
    try:
        yield served
    finally:
        served.stop()


@pytest.mark.parametrize("path", ["/healthz", "/hooks"])
def test_stalled_bodies_grow_the_server_by_under_64_mib(served_default: Served, path: str) -> None:
    for _ in range(3):  # warm: the app's first requests load what they load once
        requests.get(f"{served_default.base}/healthz", timeout=5)
        requests.post(f"{served_default.base}/hooks", data=b"{}", timeout=5)
    pid = served_default.process.pid
    before = _rss_kib(pid)
    clients, sent = _stall(int(served_default.base.rsplit(":", 1)[1]), path)
    try:
        time.sleep(1.0)
        grown = (_rss_kib(pid) - before) / 1024
        answers = _answers(clients)
    finally:
        for client in clients:
            client.close()
    print(f"{STALLED_BODIES} stalled bodies on {path}: {sent / MIB:.0f} MiB sent, the server grew by {grown:.1f} MiB "
          f"(load {os.getloadavg()[0]:.1f})")
    assert grown < 64
    if path == "/healthz":  # takes no body: each refused at once, nothing read
        assert sum(a.startswith(b"HTTP/1.1 413") for a in answers) == STALLED_BODIES, answers[:3]
    else:  # takes 1 MiB: past the budget of buffered bodies, 503 with Retry-After
        busy = [a for a in answers if a.startswith(b"HTTP/1.1 503")]
        assert len(busy) >= STALLED_BODIES // 2, answers[:3]
        assert all(b"retry-after: 5" in a.lower() for a in busy)
    assert requests.get(f"{served_default.base}/healthz", timeout=PROBE_SECONDS).status_code == 200


def test_readyz_and_metrics_answer_on_the_operators_listener_only(served_default: Served) -> None:
    for path in ("/readyz", "/metrics"):
        assert requests.get(f"{served_default.base}{path}", timeout=5).status_code == 404, path
        assert requests.get(f"{served_default.ops}{path}", timeout=5).status_code == 200, path
    assert requests.get(f"{served_default.base}/healthz", timeout=5).json()["status"] == "ok"
    assert requests.get(f"{served_default.ops}/integrations/outlook", timeout=5).status_code == 404


def test_past_the_cap_with_every_connection_busy_a_new_one_is_answered_503(tmp_path: Path) -> None:
    """A file limit of 300 leaves a cap of 44 connections; 60 requests whose bodies never come hold
    them busy (not idle: nothing to evict), so a further connection is answered 503 and closed."""
    served = serve(tmp_path, lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300)))
    port = int(served.base.rsplit(":", 1)[1])
    busy = []
    try:
        for _ in range(60):
            client = socket.create_connection(("127.0.0.1", port), timeout=5)
            client.sendall(b"POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n")
            busy.append(client)
        time.sleep(1.0)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as late:
            answer = late.recv(512)
    finally:
        for client in busy:
            client.close()
        served.stop()
    assert answer.startswith(b"HTTP/1.1 503 "), answer
    assert b"Retry-After: 5" in answer
