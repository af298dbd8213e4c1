"""The buffered front of ``outlook-sync serve``: the app sees whole bodies only, and slow ones never."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from plugin.cli.front import BufferedFront, Listeners

Seen = list[tuple[str, bytes]]


def TEN(method: str, path: str) -> int:
    return 10


def recording_app(seen: Seen) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        seen.append((environ.get("CONTENT_LENGTH", ""), environ["wsgi.input"].read()))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return app


def scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/hooks", "raw_path": b"/hooks", "query_string": b"", "root_path": "", "headers": headers,
            "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000)}


def run(front: BufferedFront, request: dict[str, Any], messages: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Call the front with ``messages`` as the body (None: a client that never sends it); the answer."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages is None:
            await asyncio.sleep(3600)
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(front(request, receive, send))
    return sent


def test_a_chunked_body_reaches_the_app_whole_with_its_length() -> None:
    seen: Seen = []
    chunks = [{"type": "http.request", "body": b"abc", "more_body": True},
              {"type": "http.request", "body": b"def", "more_body": False}]
    sent = run(BufferedFront(recording_app(seen), threads=1, limit=TEN),
               scope([(b"transfer-encoding", b"chunked")]), chunks)
    assert seen == [("6", b"abcdef")]
    assert sent[0]["status"] == 200


def test_a_body_over_the_limit_reaches_the_app_one_byte_past_it() -> None:
    seen: Seen = []
    chunks = [{"type": "http.request", "body": b"x" * 8, "more_body": True} for _ in range(5)]
    run(BufferedFront(recording_app(seen), threads=1, limit=TEN), scope([(b"transfer-encoding", b"chunked")]), chunks)
    assert seen == [("11", b"x" * 11)]  # Flask refuses a Content-Length over its limit with 413


def test_a_body_that_does_not_arrive_in_time_is_408_and_the_app_never_runs() -> None:
    seen: Seen = []
    sent = run(BufferedFront(recording_app(seen), threads=1, limit=TEN, deadline=0.2),
               scope([(b"content-length", b"5")]), None)
    assert sent[0]["status"] == 408 and b"did not arrive in time" in sent[1]["body"]
    assert seen == []


def test_a_declared_length_over_the_routes_limit_reaches_the_app_unread() -> None:
    seen: Seen = []
    reads = []

    async def receive() -> dict[str, Any]:
        reads.append(1)
        return {"type": "http.request", "body": b"x" * 100, "more_body": True}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    front = BufferedFront(recording_app(seen), threads=1, limit=lambda method, path: 0)
    asyncio.run(front(scope([(b"content-length", b"1048576")]), receive, send))
    assert reads == []  # not one byte read from the client
    assert seen == [("1048576", b"")]  # the app sees the length it must refuse (413), and no body


def test_bodies_past_the_budget_are_503_with_retry_after_and_the_budget_comes_back() -> None:
    seen: Seen = []
    front = BufferedFront(recording_app(seen), threads=1, limit=TEN, budget=15)
    front.held = 10  # another body of 10 bytes is being read
    sent = run(front, scope([(b"content-length", b"6")]), [{"type": "http.request", "body": b"abcdef"}])
    assert sent[0]["status"] == 503 and (b"retry-after", b"5") in sent[0]["headers"]
    assert seen == [] and front.held == 10
    front.held = 0
    sent = run(front, scope([(b"content-length", b"6")]), [{"type": "http.request", "body": b"abcdef"}])
    assert sent[0]["status"] == 200 and seen == [("6", b"abcdef")] and front.held == 0


def test_the_operators_listener_reaches_the_operators_app_only() -> None:
    called: list[str] = []

    def app(name: str) -> Callable[..., Any]:
        async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
            called.append(name)
        return asgi

    listeners = Listeners(app("public"), app("ops"), ops_port=9465)
    for port in (8000, 9465):
        asyncio.run(listeners({**scope([]), "server": ("127.0.0.1", port)}, None, None))  # type: ignore[arg-type]
    asyncio.run(listeners({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert called == ["public", "ops", "public"]
