"""The connection rules of serve's web processes: the cap under the file limit, the file limit raised,
and refused ``accept()`` calls logged once a period with a count (a real event loop out of descriptors)."""
from __future__ import annotations

import asyncio
import logging
import os
import resource
import socket

import pytest

from plugin.cli.sockets import FILE_RESERVE, PeriodicCount, connection_cap, quiet_accept_errors, raise_file_limit


@pytest.mark.parametrize(("configured", "soft", "cap"), [
    (4096, 65536, 4096),  # plenty of descriptors: the configured number
    (4096, 1024, 1024 - FILE_RESERVE),  # systemd's default soft limit: kept clear of it
    (4096, 100, 1),  # absurdly low: still one
])
def test_connection_cap(configured: int, soft: int, cap: int) -> None:
    assert connection_cap(configured, soft) == cap


def test_periodic_count_says_how_many_once_a_period() -> None:
    now = [0.0]
    count = PeriodicCount(period=60, clock=lambda: now[0])
    said = []
    for second in range(0, 130, 2):  # one event every 2 s for 130 s
        now[0] = second
        said.append(count.note())
    assert [n for n in said if n is not None] == [1, 30, 30]  # at 0 s, 60 s and 120 s


def test_the_soft_file_limit_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 512), hard))
        assert raise_file_limit() == (hard, hard)
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_loop_out_of_descriptors_logs_refused_accepts_once_without_a_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    """Clients connect before the limit drops to what is open now, so the server's accept() gets EMFILE;
    asyncio retries each second and calls the handler each time."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    clients = [socket.create_connection(listener.getsockname(), timeout=5) for _ in range(4)]
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(quiet_accept_errors(PeriodicCount(period=60)))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)

    async def serve_a_while() -> None:
        server = await loop.create_server(asyncio.Protocol, sock=listener)
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")), hard))
        try:
            await asyncio.sleep(2.5)  # three refused rounds
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            server.close()

    try:
        with caplog.at_level(logging.WARNING):
            loop.run_until_complete(serve_a_while())
    finally:
        loop.close()
        for client in clients:
            client.close()
    refused = [r for r in caplog.records if "accept() refused" in r.getMessage()]
    assert [r.getMessage() for r in refused] == [
        "accept() refused 1 times (Too many open files): the process is out of file descriptors"]
    assert not any(r.exc_info for r in caplog.records)
