"""A single change in one Graph round trip, over HTTPS to the emulator: a pass with one write sends it
as itself (no ``$batch`` envelope), several writes go in one envelope, and a lone write's answer is
typed exactly as the same write's answer inside an envelope (one typing: :func:`bridge.graph.wire.error_for`).

Requests are counted in the emulator's request log (``batch_item`` tells an envelope's items apart).
"""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from bridge.graph import errors
from bridge.graph._http import HttpTransport, graph_pool
from bridge.graph.calendar import Write
from bridge.graph.exchange import Exchange
from tests.integration.test_calendar_contract import payload
from tests.integration.world import DOMAIN, World, at

LENA, LUCY = f"lena@{DOMAIN}", f"lucy@{DOMAIN}"


def graph_log(world: World, since: int) -> list[dict[str, Any]]:
    """The Graph requests the emulator answered after ``since`` (its log's ``seq``), tokens left out."""
    return [r for r in world.emulator.admin.requests_log(since=since) if r["path"].startswith("/v1.0/")]


def last_seq(world: World) -> int:
    return max((int(r["seq"]) for r in world.emulator.admin.requests_log()), default=0)


def wire(log: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """(method, path with the mailbox left out, whether it was an envelope's item), in log order."""
    shown = []
    for r in log:
        parts = r["path"].split("/")
        if len(parts) > 3 and parts[2] == "users":
            parts[3] = "<mailbox>"
        shown.append((r["method"], "/".join(parts), bool(r["batch_item"])))
    return shown


def lms(world: World) -> None:
    """Two learners of one event with two sessions; its organizer has no account (no entries of its own),
    so a change to one learner is that learner's writes alone."""
    world.person("lena")
    world.person("lucy")
    world.event("e1", [("s1", at(24), at(26)), ("s2", at(48), at(50))], organizer="nobody")
    world.enroll("lena", "e1", "s1")
    world.enroll("lucy", "e1", None)
    world.connect()
    world.sync()
    assert (world.subjects(LENA), world.subjects(LUCY)) == (["Event e1 — Session 1"], [])


def test_a_lone_write_is_one_request_a_move_one_update_and_two_writes_one_envelope(world: World) -> None:
    lms(world)
    since = last_seq(world)
    world.enroll("lucy", "e1", "s2")  # one creation
    world.sync()
    assert wire(graph_log(world, since)) == [("POST", "/v1.0/users/<mailbox>/events", False)]
    assert world.subjects(LUCY) == ["Event e1 — Session 2"]

    (before,) = world.mailbox(LENA)
    since = last_seq(world)
    world.enroll("lena", "e1", "s2")  # a move: her entry is updated to the other session, one PATCH
    world.sync()
    assert wire(graph_log(world, since)) == [("PATCH", f"/v1.0/users/<mailbox>/events/{before['id']}", False)]
    (after,) = world.mailbox(LENA)
    assert (after["id"], world.subjects(LENA)) == (before["id"], ["Event e1 — Session 2"])

    since = last_seq(world)
    world.change_session("e1", "s2", location="Room 12")  # both learners' entries: two writes, one envelope
    world.sync()
    sent = sorted((method, path.rsplit("/", 1)[0] if method == "PATCH" else path, item)
                  for method, path, item in wire(graph_log(world, since)))
    assert sent == [("PATCH", "/v1.0/users/<mailbox>/events", True), ("PATCH", "/v1.0/users/<mailbox>/events", True),
                    ("POST", "/v1.0/$batch", False)]


def test_a_lone_update_of_an_entry_deleted_in_outlook_makes_it_again(world: World) -> None:
    """A lone PATCH answered 404, sent as itself, is handled as before: the address looked up, the
    PATCH sent again by id, its 404 the entry deleted in Outlook, and (a material change) made again."""
    lms(world)
    (entry,) = world.mailbox(LENA)
    world.emulator.admin.delete_event(world.tenant_id, world.mailbox_ids[LENA], entry["id"])
    since = last_seq(world)
    world.change_session("e1", "s1", location="Room 12")  # material: Lena's entry is updated
    world.sync()
    sent = wire(graph_log(world, since))
    writes = [(method, item) for method, path, item in sent if method != "GET" and not path.endswith("$batch")]
    assert writes == [("PATCH", False), ("PATCH", False), ("POST", False)], sent
    assert {method for method, _, item in sent if item} == {"GET"}  # envelopes carry the look-up's reads only
    assert [e["location"]["displayName"] for e in world.mailbox(LENA)] == ["Room 12"]
    assert world.state("lena") == ("synced", None)


def typed(answer: Any) -> tuple[Any, ...]:
    """What the executor reads of an answer: its type and every field it decides on."""
    if not isinstance(answer, errors.GraphError):
        return (type(answer),)
    return (type(answer), answer.status, answer.code, getattr(answer, "reason", None),
            getattr(answer, "scope", None), getattr(answer, "mailbox", None),
            isinstance(answer, errors.Throttled) and answer.retry_after > 0)


def fresh() -> str:
    return str(uuid.uuid4())


@pytest.mark.parametrize("case", ["gone", "no_user", "bad_show_as", "throttled"])
def test_a_lone_write_is_typed_as_the_same_write_in_an_envelope(world: World, case: str) -> None:
    admin, calendar, tenant = world.emulator.admin, world.graph.calendar, world.tenant_id
    for name in ("ann", "bob"):
        admin.create_user(tenant, f"{name}@{DOMAIN}", mail=f"{name}@{DOMAIN}")
    ann, bob = f"ann@{DOMAIN}", f"bob@{DOMAIN}"

    def write() -> Write:
        if case == "gone":
            [made] = calendar.apply(tenant, [Write.create(ann, payload("One", fresh()), fresh())])
            admin.delete_event(tenant, ann, str(made))
            return Write.update(ann, str(made), {"subject": "Two"})
        if case == "no_user":
            return Write.create(f"nobody@{DOMAIN}", payload("One", fresh()), fresh())
        if case == "bad_show_as":
            return Write.create(ann, {**payload("One", fresh()), "showAs": "available"}, fresh())
        return Write.delete(ann, "AAMkAD-none")

    lone_write, envelope_write = write(), write()
    if case == "throttled":
        admin.set_faults(rate_429=1.0, methods=["DELETE"], retry_after_s=2.0, seed=3)
    try:
        since = last_seq(world)
        [lone] = calendar.apply(tenant, [lone_write])
        assert [(m, item) for m, _, item in wire(graph_log(world, since))] == [(lone_write.request().method, False)]
        since = last_seq(world)
        inside, other = calendar.apply(tenant, [envelope_write, Write.create(bob, payload("B", fresh()), fresh())])
        assert [item for _, _, item in wire(graph_log(world, since))].count(False) == 1  # the envelope alone
    finally:
        admin.set_faults(rate_429=0.0, methods=None)
    assert isinstance(lone, errors.GraphError), lone
    assert typed(lone) == typed(inside)
    assert isinstance(other, str)
    expected = {"gone": errors.NotFound, "no_user": errors.MailboxUnreachable, "bad_show_as": errors.BadRequest,
                "throttled": errors.Throttled}[case]
    assert type(lone) is expected
    if case == "throttled":
        assert isinstance(lone, errors.Throttled)
        assert (lone.scope, lone.mailbox) == (errors.MAILBOX, ann) and 1.0 <= lone.retry_after <= 3.0


SCOPE = "Tenant_Application/ReadWrite/9a3d526c-b3c1-4479-ba74-197b5c5751ae/0785ef7c-2d7a-4542-b048-95bcab406e0b"


class ThrottlingGraph(BaseHTTPRequestHandler):
    """A stand-in for Graph answering every write 429 with ``Retry-After`` and ``x-ms-throttle-scope``
    (learn.microsoft.com/graph/throttling-limits): the emulator does not send that header, so this is
    the one place the header is carried over HTTP. A ``$batch`` gets the same answer per item."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append(self.path)
        throttled = {"Retry-After": "7", "x-ms-throttle-scope": SCOPE}
        answer: Any
        error = {"error": {"code": "TooManyRequests", "message": "Too many requests."}}
        if self.path.endswith("/$batch"):
            answer, status, headers = {"responses": [
                {"id": item["id"], "status": 429, "headers": throttled, "body": error}
                for item in body["requests"]]}, 200, {}
        else:
            answer, status, headers = error, 429, throttled
        raw = json.dumps(answer).encode()
        self.send_response(status)
        for name, value in {**headers, "Content-Type": "application/json", "Content-Length": str(len(raw))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class FixedToken:
    """The token source (MSAL in production) is not what is tested here: a fixed bearer token."""

    def token(self, tenant_id: str) -> str:
        return "token"


def test_a_tenant_throttle_of_a_lone_write_is_typed_as_in_an_envelope() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), ThrottlingGraph)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1.0"
    exchange = Exchange(HttpTransport(url, FixedToken(), graph_pool(2, True)))  # type: ignore[arg-type]
    ThrottlingGraph.seen = []
    try:
        [lone] = exchange.run("t1", [Write.create("ann@x.example", payload("A", "t1"), fresh()).request()])
        inside, _ = exchange.run("t1", [Write.create("ann@x.example", payload("A", "t1"), fresh()).request(),
                                        Write.create("bob@x.example", payload("B", "t2"), fresh()).request()])
    finally:
        exchange.close()
        server.shutdown()
        server.server_close()
    assert ThrottlingGraph.seen == ["/v1.0/users/ann@x.example/events", "/v1.0/$batch"]
    assert isinstance(lone, errors.Throttled) and typed(lone) == typed(inside)
    assert (lone.scope, lone.retry_after, lone.mailbox) == (errors.TENANT, 7.0, "ann@x.example")
