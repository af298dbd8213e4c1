"""The connections of one web process of ``outlook-sync serve``: bounded in time, count and log lines.

gunicorn's ``asgi`` worker keeps every connection it accepts until the client closes it, whether or
not a request ever comes, and does not enforce ``worker_connections``; when the file limit runs out,
asyncio logs every refused ``accept()`` with a traceback. :class:`GuardedWorker` (gunicorn's worker
with :class:`GuardedProtocol`) adds:

- a deadline for the request head: a connection that has not sent its whole head
  :data:`HEAD_DEADLINE_SECONDS` after it opened is closed (between requests gunicorn's keep-alive
  timeout does the same);
- a cap on open connections per process, below the file limit (:func:`connection_cap`); a connection
  past it takes the place of the oldest one still waiting for a head, or, when every connection is
  busy with a request, is answered 503 and closed;
- each refused ``accept()``, each connection closed for its late head and each one refused or evicted
  at the cap counted, and logged at most once a :data:`LOG_PERIOD_SECONDS` with the count
  (:class:`PeriodicCount`), without a traceback.

:func:`raise_file_limit` lifts the soft ``RLIMIT_NOFILE`` to the hard one before gunicorn starts.
"""
from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Callable
from typing import Any

from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi
from gunicorn.workers.gasgi import ASGIWorker

HEAD_DEADLINE_SECONDS = 5.0  # from connecting to the end of the request head: any real client is far quicker
FILE_RESERVE = 256  # descriptors kept free for the database, logs and metrics files, and one accept batch
LOG_PERIOD_SECONDS = 60.0
ACCEPT_FAILED = "socket.accept() out of system resource"  # asyncio's message (selector_events.py)
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 41\r\n"
         b"Retry-After: 5\r\nConnection: close\r\n\r\nToo many connections; retry in a moment.\n")

log = logging.getLogger("outlook_sync.front")


def raise_file_limit() -> tuple[int, int]:
    """Raise this process's soft ``RLIMIT_NOFILE`` to its hard limit (children inherit it).

    Returns (soft, hard) as they are after; a soft limit already at the hard one is left alone.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft, hard


def connection_cap(configured: int, soft_file_limit: int) -> int:
    """Open connections one process keeps: ``configured``, but never within :data:`FILE_RESERVE`
    descriptors of the soft file limit (at least 1)."""
    return max(1, min(configured, soft_file_limit - FILE_RESERVE))


class PeriodicCount:
    """Counts events and says, at most once a ``period`` (seconds), how many there were since it last said.

    ``note()`` returns that count when a line is due, else None; ``clock`` is monotonic seconds.
    """

    def __init__(self, period: float = LOG_PERIOD_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.period, self.clock = period, clock
        self.pending, self.last = 0, float("-inf")

    def note(self) -> int | None:
        self.pending += 1
        now = self.clock()
        if now - self.last < self.period:
            return None
        count, self.pending, self.last = self.pending, 0, now
        return count


def quiet_accept_errors(count: PeriodicCount) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """An event loop exception handler: asyncio's refused ``accept()`` (EMFILE, ENFILE, ENOBUFS, ENOMEM;
    asyncio retries a second later) counted and logged once a period without a traceback; anything
    else handled as asyncio would."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_FAILED:
            loop.default_exception_handler(context)
            return
        refused = count.note()
        if refused is not None:
            log.warning("accept() refused %d times (%s): the process is out of file descriptors", refused,
                        getattr(context.get("exception"), "strerror", None) or "no reason")

    return handle


class GuardedWorker(ASGIWorker):
    """gunicorn's asyncio worker, its connections served by :class:`GuardedProtocol`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.connection_cap = connection_cap(self.cfg.worker_connections, soft)
        self.waiting: dict[GuardedProtocol, None] = {}  # connections without a request head, oldest first
        self.counts = {kind: PeriodicCount() for kind in ("accept", "late", "evicted", "refused")}

    def init_process(self) -> None:
        gasgi.ASGIProtocol = GuardedProtocol  # gunicorn 27 builds each connection's protocol by this name
        super().init_process()

    def _setup_event_loop(self) -> None:
        super()._setup_event_loop()
        self.loop.set_exception_handler(quiet_accept_errors(self.counts["accept"]))

    def tally(self, kind: str, message: str, *args: Any) -> None:
        """Count one event of ``kind``; log ``message`` (its first argument the count) when one is due."""
        count = self.counts[kind].note()
        if count is not None:
            log.warning(message, count, *args)


class GuardedProtocol(ASGIProtocol):
    """One connection: a deadline for its request head, and a place under its process's cap."""

    worker: GuardedWorker

    def __init__(self, worker: GuardedWorker) -> None:
        super().__init__(worker)
        self._max_buffer_size = 65536  # body bytes held unread before reading pauses (gunicorn: 256 KiB)
        self._refused = False
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        worker = self.worker
        if worker.nr_conns >= worker.connection_cap:
            if worker.waiting:
                oldest = next(iter(worker.waiting))
                worker.tally("evicted", "%d connections that had sent no request head closed for newer ones "
                             "(%d open at most per process)", worker.connection_cap)
                oldest.close_idle()
            else:
                worker.tally("refused", "%d connections refused with 503: %d busy connections per process at most",
                             worker.connection_cap)
                self._refused = True
                transport.write(_BUSY)
                transport.close()
                return
        super().connection_made(transport)
        worker.waiting[self] = None
        self._head_timer = worker.loop.call_later(HEAD_DEADLINE_SECONDS, self._head_late)

    def _on_headers_complete(self) -> Any:
        self._stop_waiting()
        return super()._on_headers_complete()

    def _arm_keepalive_timer(self) -> None:
        super()._arm_keepalive_timer()
        if not self._closed:
            self.worker.waiting[self] = None  # idle between requests: first to go at the cap

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return  # never counted as open
        self._stop_waiting()
        super().connection_lost(exc)

    def _head_late(self) -> None:
        self._head_timer = None
        if not self._closed:
            self.worker.tally("late", "%d connections closed: no request head within %.0f s",
                              HEAD_DEADLINE_SECONDS)
            self.close_idle()

    def close_idle(self) -> None:
        """Close a connection that is waiting for a request (as gunicorn's keep-alive timeout does)."""
        self._stop_waiting()
        self._close_transport()
        if self._request_ready is not None:
            self._request_ready.set()  # the connection's loop sees it closed and ends

    def _stop_waiting(self) -> None:
        self.worker.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

