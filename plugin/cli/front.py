"""The web front of ``outlook-sync serve``: whole requests reach the app, within each route's limit.

gunicorn's ``asgi`` worker reads and parses each connection on an asyncio event loop, so a client
that sends its request a byte at a time holds a socket there, not one of the app's threads.
:class:`BufferedFront` then reads the body before the Flask app sees the request, but only once the
route is known: the route's limit (:func:`plugin.limits.body_limit`) bounds what is read, a
``Content-Length`` over it is handed to the app unread (Flask answers 413 before reading anything),
and every body read counts against a per-process budget of buffered bytes, past which new bodies get
503 with ``Retry-After``. A body that does not arrive in time is answered 408 and the app never runs.
a2wsgi runs the app on a pool of threads, as before.

:class:`Listeners` sends what arrives on the operators' listener (``--ops-port``) to the operators'
app and everything else to the public app.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2wsgi import WSGIMiddleware

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]
Limit = Callable[[str, str], int]

BODY_DEADLINE_SECONDS = 20.0  # to send a whole body (at most 1 MiB): generous for any real LMS
BODY_BUDGET_BYTES = 32 * 1024 * 1024  # bodies buffered at once in one web process
BUSY_RETRY_AFTER_SECONDS = 5
_DROPPED = (b"content-length", b"transfer-encoding")


class BufferedFront:
    """An ASGI app around a WSGI app: reads each request's body first (at most the route's ``limit``
    + 1 bytes, within ``deadline`` seconds, while the bodies held stay within ``budget`` bytes), then
    runs the WSGI app on one of ``threads`` threads.

    ``limit(method, path)`` is the most bytes of body the route takes (0: none).
    """

    def __init__(self, app: Any, threads: int, limit: Limit, budget: int = BODY_BUDGET_BYTES,
                 deadline: float = BODY_DEADLINE_SECONDS) -> None:
        self.wsgi = WSGIMiddleware(app, workers=threads)
        self.limit, self.budget, self.deadline = limit, budget, deadline
        self.held = 0  # bytes reserved by the bodies being read or served now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: a2wsgi answers it
            await self.wsgi(scope, receive, send)  # type: ignore[arg-type]
            return
        limit = self.limit(scope["method"], scope["path"])
        declared, chunked = _framing(scope["headers"])
        if declared is not None and declared > limit:
            await self._run(scope, b"", None, send)  # unread: the app refuses the Content-Length (413)
            return
        reserve = declared if declared is not None else (limit + 1 if chunked else 0)
        if reserve and self.held + reserve > self.budget:
            await _answer(send, 503, b"Too many request bodies at once; retry later.\n",
                          [(b"retry-after", str(BUSY_RETRY_AFTER_SECONDS).encode("ascii"))])
            return
        self.held += reserve
        try:
            body: bytes | None = b""
            if reserve:
                try:
                    body = await asyncio.wait_for(self._read(receive, limit), self.deadline)
                except TimeoutError:
                    await _answer(send, 408, b"The request body did not arrive in time.\n")
                    return
            if body is not None:  # None: the client went away
                await self._run(scope, body, receive, send)
        finally:
            self.held -= reserve

    async def _run(self, scope: Scope, body: bytes, receive: Receive | None, send: Send) -> None:
        """The WSGI app on ``body`` (with its length); None for ``receive``: the body was left unread."""
        headers = list(scope["headers"])
        if receive is not None:
            headers = [(k, v) for k, v in headers if k.lower() not in _DROPPED]
            headers.append((b"content-length", str(len(body)).encode("ascii")))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed and receive is not None:
                return await receive()
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.wsgi({**scope, "headers": headers}, replay, send)  # type: ignore[arg-type]

    async def _read(self, receive: Receive, limit: int) -> bytes | None:
        """The body, cut one byte past ``limit``; None when the client disconnected."""
        body = bytearray()
        while len(body) <= limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        return bytes(body[: limit + 1])


class Listeners:
    """Requests that arrive on ``ops_port`` go to ``ops``, all others (and the lifespan) to ``public``.

    gunicorn gives each request's listening address as ``scope["server"]`` (ASGI HTTP scope).
    """

    def __init__(self, public: Asgi, ops: Asgi, ops_port: int) -> None:
        self.public, self.ops, self.ops_port = public, ops, ops_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server") if scope["type"] != "lifespan" else None
        app = self.ops if server and server[1] == self.ops_port else self.public
        await app(scope, receive, send)


def _framing(headers: list[tuple[bytes, bytes]]) -> tuple[int | None, bool]:
    """The declared ``Content-Length`` (None without one) and whether the body is chunked.

    gunicorn has already refused a malformed or doubled ``Content-Length`` with 400.
    """
    declared, chunked = None, False
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length" and value.strip().isdigit():
            declared = int(value)
        elif lowered == b"transfer-encoding":
            chunked = True
    return declared, chunked


async def _answer(send: Send, status: int, text: bytes, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                            (b"content-length", str(len(text)).encode("ascii")), *(extra or [])]})
    await send({"type": "http.response.body", "body": text, "more_body": False})
