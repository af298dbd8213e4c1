"""``$batch`` envelopes split by bytes as well as count (Graph refuses a request over 4 MB), and a
description too large for one entry shortened with the link back to the LMS kept, in both languages.
The in-memory tenant refuses a request over 4 MB with 413, as Graph does."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bridge.db import Database
from bridge.graph.calendar import Write
from bridge.graph.exchange import chunks
from bridge.graph.memory import MemoryTenant
from bridge.graph.wire import ENVELOPE_BYTES, MAX_REQUEST_BYTES, encoded, envelope, item_bytes
from bridge.i18n import language
from bridge.lms.views import Event, Session
from bridge.sync import payload
from tests.bridge.memory_world import DOMAIN, MemoryWorld
from tests.reliability.lms import soon

LONG = "A long description. " * 22_075  # 441,500 characters, about 440 KB as sent
LEARNERS = [f"l{n}" for n in range(10)]
BASE = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def world(database: Database) -> Iterator[MemoryWorld]:
    made = MemoryWorld(database)
    made.mailboxes("org", *LEARNERS)
    made.deliver(*(made.lms.upsert_user(u) for u in ("org", *LEARNERS)),
                 made.lms.upsert_event("e1", title="Handbook", organizer="org", zone="Europe/Berlin",
                                       sessions=[("s0", soon(30, BASE), soon(32, BASE))]),
                 *(made.lms.enroll("e1", u, "s0") for u in LEARNERS))
    made.connect()
    yield made


def test_ten_users_441_500_character_descriptions_land_in_envelopes_under_4_mb(world: MemoryWorld) -> None:
    assert len(LONG) == 441_500
    world.deliver(world.lms.change_event("e1", description=LONG))
    world.sync()
    assert world.problems() == []
    for uid in LEARNERS:
        [entry] = world.tenant.events(f"{uid}@{DOMAIN}")
        assert LONG.strip() in entry["payload"]["body"]["content"]  # whole: nothing had to be shortened


def test_the_tenant_refuses_those_ten_in_one_envelope() -> None:
    """What the split avoids: the same ten creates in one envelope, 4.4 MB, refused whole."""
    tenant = MemoryTenant(domains=[DOMAIN])
    boxes = [tenant.add_user(f"{u}@{DOMAIN}") for u in LEARNERS]
    body = {"subject": "x", "body": {"contentType": "html", "content": LONG},
            "start": {"dateTime": "2030-01-01T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2030-01-01T10:00:00", "timeZone": "UTC"}}
    requests = [Write.create(box, body, f"tx-{n}").request() for n, box in enumerate(boxes)]
    assert len(envelope(requests)) > MAX_REQUEST_BYTES
    assert {reply.status for reply in tenant.send(tenant.tenant_id, requests)} == {413}
    assert all(tenant.events(box) == [] for box in boxes)
    split = chunks(requests)
    assert len(split) == 2 and sorted(n for chunk in split for n in chunk) == list(range(10))
    for chunk in split:
        sent = [requests[n] for n in chunk]
        assert len(envelope(sent)) <= MAX_REQUEST_BYTES
        assert sum(item_bytes(r) for r in sent) + ENVELOPE_BYTES <= MAX_REQUEST_BYTES
        assert {reply.status for reply in tenant.send(tenant.tenant_id, sent)} == {201}


@pytest.mark.parametrize(("locale", "said"), [
    ("en", "The description was shortened to fit Outlook: the full text is in the LMS."),
    ("ru", "Описание сокращено, чтобы поместиться в Outlook: полный текст — в LMS."),
])
def test_a_description_too_large_for_graph_is_shortened_and_says_so(locale: str, said: str) -> None:
    huge = "Ünïcödé text, escaped as sent. " * 200_000  # 6.2 M characters, far over 4 MB as sent
    session = Session(id="s0", event_id="e1", position=0, start=soon(30, BASE), end=soon(32, BASE))
    event = Event(id="e1", title="Handbook", description=huge, url="https://lms.example/events/e1",
                  timezone="Europe/Berlin", sessions=(session,))
    body = payload.body_html(event, session, language(locale))
    assert len(encoded(body)) <= payload.MAX_DESCRIPTION_BYTES + 10_000
    assert said in body
    assert body.removesuffix("</body></html>").endswith('<a href="https://lms.example/events/e1">'
                                                  'https://lms.example/events/e1</a></p>')
    short = payload.body_html(Event(id="e1", title="Handbook", description="Short.", url=None,
                                    timezone="Europe/Berlin", sessions=(session,)), session, language(locale))
    assert said not in short


def test_the_envelope_is_the_json_of_its_items_with_each_body_encoded_once() -> None:
    """The envelope is built from each request's body encoded once (Request.body_text); it is the
    same text as encoding the whole structure, and its length is what :func:`item_bytes` adds up."""
    body = {"subject": "Zał. №3 ✅", "body": {"contentType": "html", "content": "<p>a \"b\"</p>"}}
    sent = [Write.create(f"u{n}@{DOMAIN}", body, f"tx-{n}").request() for n in range(3)]
    sent.append(Write.delete(f"u0@{DOMAIN}", "AAMk=").request())
    whole = {"requests": [{"id": str(n), "method": r.method, "url": r.path,
                           "headers": {**r.headers, **({"Content-Type": "application/json"} if r.body else {})},
                           **({"body": r.body} if r.body is not None else {})} for n, r in enumerate(sent)]}
    assert envelope(sent) == encoded(whole)
    assert json.loads(envelope(sent))["requests"][1]["body"]["transactionId"] == "tx-1"
    ten = [*sent, *sent, *sent][:10]  # ids of two digits, as item_bytes counts them
    assert len(envelope(ten)) <= ENVELOPE_BYTES + sum(item_bytes(r) for r in ten)
