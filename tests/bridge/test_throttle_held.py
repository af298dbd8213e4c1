"""A throttled mailbox is held alone: a Retry-After for one mailbox never keeps the other users of its
group waiting; its user goes back to the queue due at the Retry-After, and the pause is remembered
(``mailbox_pauses``) for every later pass and worker; a tenant-wide or app-wide throttle holds that
tenant or every tenant. The in-memory tenant stands in for Graph (a mailbox throttled on its own
clock); the database is real, SQLite and PostgreSQL."""
from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bridge.db import Database
from bridge.graph import errors
from bridge.graph.calendar import Write
from bridge.graph.exchange import Exchange
from bridge.graph.memory import MemoryTenant
from bridge.graph.wire import Reply, error_for, throttle_scope
from bridge.models import DirtyKey, MailboxPause, utcnow
from bridge.sync import pauses
from bridge.sync.run import Pass
from tests.bridge.memory_world import ACCOUNT, DOMAIN, MemoryWorld
from tests.reliability.lms import soon

BASE = datetime.now(UTC).replace(microsecond=0)


class Clock:
    """The in-memory tenant's clock, turned forward by the test (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def world(database: Database) -> Iterator[MemoryWorld]:
    made = MemoryWorld(database)
    made.mailboxes("org", "t1", "t2")
    made.deliver(*(made.lms.upsert_user(u) for u in ("org", "t1", "t2")),
                 made.lms.upsert_event("e1", title="Lab", organizer="org", zone="Europe/Berlin",
                                       sessions=[("s0", soon(30, BASE), soon(32, BASE))]),
                 made.lms.enroll("e1", "t1", "s0"), made.lms.enroll("e1", "t2", "s0"))
    made.connect()
    made.sync()
    assert made.problems() == []
    yield made


def starts(world: MemoryWorld, uid: str) -> list[str]:
    return [e["start"] for e in world.tenant.events(f"{uid}@{DOMAIN}")]


def test_one_mailbox_throttled_for_45_s_holds_only_its_user(world: MemoryWorld) -> None:
    clock = Clock()
    world.tenant.clock = clock
    world.tenant.throttle_mailbox(f"t1@{DOMAIN}", 45)
    t1 = world.tenant._user(f"t1@{DOMAIN}")
    assert t1 is not None
    old = starts(world, "t1")
    world.deliver(world.lms.move_session("e1", "s0", timedelta(hours=1)))
    began = time.monotonic()
    world.worker().drain(timeout=30, due_within=0)  # one pass over the group of three
    took = time.monotonic() - began
    print(f"\norganizer and t2 landed {took:.2f} s after the move while t1 was throttled for 45 s")
    assert took < 10
    moved = (soon(31, BASE)).strftime("%Y-%m-%dT%H:%M:%S")
    assert starts(world, "org") == [moved] and starts(world, "t2") == [moved]
    assert starts(world, "t1") == old  # not yet: its mailbox is paused
    assert world.slept == []  # nobody waited the Retry-After out
    with world.database.session() as session:
        [key] = session.execute(select(DirtyKey.user_id, DirtyKey.due_at)).all()
        [pause] = session.execute(select(MailboxPause.tenant_id, MailboxPause.mailbox, MailboxPause.until)).all()
    assert key.user_id == "t1" and 40 <= (key.due_at - utcnow()).total_seconds() <= 46
    assert pause.tenant_id == world.tenant.tenant_id and pause.mailbox == f"t1@{DOMAIN}"  # as written to
    assert abs((pause.until - key.due_at).total_seconds()) < 2

    # Another change of t1 before the pause ends: remembered, nothing is sent to its mailbox.
    asked = world.tenant.asked[t1.id]
    world.deliver(world.lms.change_event("e1", title="Lab (room 2)"))
    world.worker().drain(timeout=30, due_within=0)
    assert world.tenant.asked[t1.id] == asked
    assert [e["subject"] for e in world.tenant.events(f"t2@{DOMAIN}")] == ["Lab (room 2)"]
    with world.database.session() as session:
        assert session.execute(select(DirtyKey.user_id)).scalars().all() == ["t1"]

    # The pause is over (both clocks turned 46 s forward): t1 lands, once.
    clock.now += 46
    results = Pass(world.database, world.graph, ACCOUNT, ["t1"], datetime.now(UTC) + timedelta(seconds=46)).run()
    assert not any(isinstance(r, Exception) for r in results.values()), results
    assert world.problems() == []
    [entry] = world.tenant.events(f"t1@{DOMAIN}")
    assert entry["start"] == moved and entry["subject"] == "Lab (room 2)"
    assert len(t1.changes) == 2  # made, then updated once: nothing written twice


def test_a_tenant_wide_throttle_holds_the_tenant_and_no_other(world: MemoryWorld) -> None:
    now = utcnow()
    tenant = world.tenant.tenant_id
    with world.database.session() as session:
        pauses.remember(session, tenant, [errors.Throttled("429", 30, scope=errors.TENANT)], now)
        assert pauses.in_force(session, tenant, now).of() is not None
        assert pauses.in_force(session, "another-tenant", now).of() is None  # other organisations go on
    sent = world.tenant.requests
    world.deliver(world.lms.change_event("e1", title="Lab (moved)"))
    results = Pass(world.database, world.graph, ACCOUNT, ["org", "t1", "t2"], now).run()
    assert all(isinstance(r, errors.Throttled) and 29 <= r.retry_after <= 30 for r in results.values())
    assert world.tenant.requests == sent


def test_an_app_wide_throttle_holds_every_tenant() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    rows = pauses.rows_for("t-a", [errors.Throttled("429", 5, scope=errors.APP),
                                   errors.Throttled("429", 9, mailbox="Box-1"),
                                   errors.Throttled("429", 20, mailbox="box-1"),
                                   errors.Throttled("429", 60)], now)  # a directory look-up: only its user waits
    assert rows == [{"tenant_id": "*", "mailbox": "*", "until": now + timedelta(seconds=5)},
                    {"tenant_id": "t-a", "mailbox": "box-1", "until": now + timedelta(seconds=20)}]
    held = pauses.Pauses(now, {"box-1": now + timedelta(seconds=20)}, now + timedelta(seconds=5))
    assert held.of().retry_after == 5  # type: ignore[union-attr]
    assert held.of(["BOX-1"]).retry_after == 20  # type: ignore[union-attr]
    assert pauses.Pauses(now, {"box-1": now}).of(["box-1"]) is None  # ended


@pytest.mark.parametrize(("header", "scope"), [
    (None, errors.MAILBOX),
    ("Tenant_Application/ReadWrite/9a3d526c-b3c1-4479-ba74-197b5c5751ae/0785ef7c-2d7a-4542-b048-95bcab406e0b",
     errors.TENANT),
    ("Tenant/Write/9a3d526c-b3c1-4479-ba74-197b5c5751ae/0785ef7c-2d7a-4542-b048-95bcab406e0b", errors.TENANT),
    ("Application/ReadWrite/9a3d526c-b3c1-4479-ba74-197b5c5751ae/0785ef7c-2d7a-4542-b048-95bcab406e0b", errors.APP),
])
def test_graphs_throttle_scope_header_says_what_is_paused(header: str | None, scope: str) -> None:
    headers = {"Retry-After": "7"} | ({"x-ms-throttle-scope": header} if header else {})
    assert throttle_scope(headers) == scope
    error = error_for(Reply(429, headers, {"error": {"code": "TooManyRequests"}}), mailbox="id-1")
    assert isinstance(error, errors.Throttled) and error.scope == scope and error.mailbox == "id-1"
    assert error.retry_after == 7


def test_the_exchange_sends_nothing_more_to_a_mailbox_throttled_in_the_same_run() -> None:
    tenant = MemoryTenant(domains=[DOMAIN])
    busy, calm = tenant.add_user(f"busy@{DOMAIN}"), tenant.add_user(f"calm@{DOMAIN}")
    tenant.throttle_mailbox(busy, 45)
    slept: list[float] = []
    exchange = Exchange(tenant, slept.append)
    payload = {"subject": "x", "start": {"dateTime": "2030-01-01T09:00:00", "timeZone": "UTC"},
               "end": {"dateTime": "2030-01-01T10:00:00", "timeZone": "UTC"}}
    writes = [Write.create(busy, payload, f"tx-b{n}") for n in range(10)] + [Write.create(calm, payload, "tx-c")]
    answers = exchange.run(tenant.tenant_id, [w.request() for w in writes])
    assert all(isinstance(a, errors.Throttled) and a.mailbox == busy for a in answers[:10])
    assert answers[10]["id"]
    assert tenant.asked[busy] == 4  # the first envelope's four; the later ones held without sending
    assert slept == []
