"""The web front of ``outlook-sync serve``: whole requests reach the app, slow ones time out.

gunicorn's ``asgi`` worker reads and parses each connection on an asyncio event loop, so a client
that sends its request a byte at a time holds a socket there, not one of the app's threads.
:class:`BufferedFront` then reads the whole body (at most one byte past the limit) under a deadline
before the Flask app sees the request; a2wsgi runs the app on a pool of threads, as before. A body
that does not arrive in time is answered 408 and the app never runs; a longer one reaches the app
with a ``Content-Length`` past the limit, which Flask answers 413 before anything else is read.
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

BODY_DEADLINE_SECONDS = 20.0  # to send a whole body (at most 1 MiB): generous for any real LMS
_DROPPED = (b"content-length", b"transfer-encoding")


class BufferedFront:
    """An ASGI app around a WSGI app: reads each request's body first (``limit`` + 1 bytes at most,
    within ``deadline`` seconds), then runs the WSGI app on one of ``threads`` threads."""

    def __init__(self, app: Any, threads: int, limit: int, deadline: float = BODY_DEADLINE_SECONDS) -> None:
        self.wsgi = WSGIMiddleware(app, workers=threads)
        self.limit, self.deadline = limit, deadline

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan: a2wsgi answers it
            await self.wsgi(scope, receive, send)  # type: ignore[arg-type]
            return
        try:
            body = await asyncio.wait_for(self._read(receive), self.deadline)
        except TimeoutError:
            await _answer(send, 408, b"The request body did not arrive in time.\n")
            return
        if body is None:  # the client went away
            return
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in _DROPPED]
        headers.append((b"content-length", str(len(body)).encode("ascii")))
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.wsgi({**scope, "headers": headers}, replay, send)  # type: ignore[arg-type]

    async def _read(self, receive: Receive) -> bytes | None:
        """The body, cut one byte past the limit; None when the client disconnected."""
        body = bytearray()
        while len(body) <= self.limit:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        return bytes(body[: self.limit + 1])


async def _answer(send: Send, status: int, text: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close"),
                            (b"content-length", str(len(text)).encode("ascii"))]})
    await send({"type": "http.response.body", "body": text, "more_body": False})
