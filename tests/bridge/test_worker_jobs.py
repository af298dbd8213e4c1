"""The worker's housekeeping: seven named jobs, each with its period, run when due and in their order;
the tenant probe and the domain refresh are one path through the connection's state machine.

The tenant is the in-memory one (real exchange and gateways over it): it refuses a token for another
tenant with 401 (a refusal, :class:`errors.AuthFailed`) and injects 503s on demand (a Graph failure
that is not a refusal).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bridge.accounts import connection, schedule
from bridge.codes import ConnectionState, TenantReason
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.memory import Faults
from bridge.models import Connection, DirtyKey
from bridge.worker import jobs
from bridge.worker.jobs import Job, Timetable
from bridge.worker.loop import Worker
from tests.bridge.memory_world import ACCOUNT, DOMAIN, MemoryWorld

USERS = ("ann", "bob")


class Clock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_worker_names_each_job_with_its_period(sqlite_database: Database) -> None:
    worker = Worker(sqlite_database, MemoryWorld(sqlite_database).graph, lease=timedelta(seconds=10),
                    full_reconcile=timedelta(hours=2), outlook_every=timedelta(minutes=3))
    assert [(j.name, j.every, j.first, j.own_thread) for j in worker.jobs()] == [
        ("lease-heartbeat", 2.0, 0.0, True),
        ("disconnect-finishing", 15.0, 0.0, False),
        ("full-pass-scheduling", 15.0, 0.0, False),
        ("delivery-clean-up", 7200.0, 0.0, False),
        ("request-id-clean-up", 300.0, 0.0, False),
        ("tenant-probe", 15.0, 0.0, False),
        ("domain-refresh", 15.0, 0.0, False),
        ("outlook-check", 180.0, 180.0, False),
    ]


def test_the_timetable_runs_each_due_job_in_order_then_after_its_period() -> None:
    clock, ran = Clock(), []
    table = Timetable([Job("a", 10, lambda now: ran.append("a")), Job("b", 30, lambda now: ran.append("b")),
                       Job("late", 5, lambda now: ran.append("late"), first=20)], clock)
    table.run_due()
    assert ran == ["a", "b"]  # "late" waits for its first time
    clock.now += 9.9
    table.run_due()
    assert ran == ["a", "b"]
    clock.now += 0.1
    table.run_due()
    assert ran == ["a", "b", "a"]
    clock.now += 10
    table.run_due()
    assert ran == ["a", "b", "a", "a", "late"]
    clock.now += 10
    table.run_due()
    assert ran == ["a", "b", "a", "a", "late", "a", "b", "late"]


def test_a_job_that_fails_waits_its_period_and_the_jobs_after_it_run_on_the_next_look() -> None:
    clock, ran = Clock(), []

    def broken(now: datetime) -> None:
        ran.append("broken")
        raise RuntimeError("the database is away")

    table = Timetable([Job("broken", 15, broken), Job("after", 15, lambda now: ran.append("after"))], clock)
    with pytest.raises(RuntimeError):
        table.run_due()
    table.run_due()
    assert ran == ["broken", "after"]


def test_an_own_thread_job_runs_beside_the_loop_until_the_work_ends() -> None:
    beats = threading.Semaphore(0)
    loop_ran = []
    table = Timetable([Job("beat", 0.01, lambda now: beats.release(), own_thread=True),
                       Job("loop", 15, lambda now: loop_ran.append(now))])
    with table.threads():
        assert all(beats.acquire(timeout=10) for _ in range(3))  # it beats without run_due being called
    assert loop_ran == []
    assert not any(t.name == "beat" for t in threading.enumerate())  # stopped with the block


@pytest.fixture
def world(database: Database) -> Iterator[MemoryWorld]:
    made = MemoryWorld(database)
    made.mailboxes(*USERS)
    made.deliver(*(made.lms.upsert_user(u) for u in USERS))
    made.connect()
    made.sync()
    yield made


def row(world: MemoryWorld) -> Connection:
    with world.database.session() as session:
        return connection.connection(session, ACCOUNT)


def queued(world: MemoryWorld) -> int:
    with world.database.session() as session:
        return int(session.execute(select(func.count()).select_from(DirtyKey)).scalar_one())


def suspend(world: MemoryWorld, probe_at: datetime) -> None:
    with world.database.session() as session:
        connection.suspend(session, ACCOUNT, errors.AuthFailed("refused", TenantReason.CONSENT_MISSING), probe_at)
        connection.connection(session, ACCOUNT).retry_at = probe_at


def probe(world: MemoryWorld, now: datetime) -> None:
    jobs.check_tenants(world.database, world.graph, connection.probes_due, now)


def refresh(world: MemoryWorld, now: datetime) -> None:
    jobs.check_tenants(world.database, world.graph, connection.domains_due, now)


def test_a_suspended_tenant_that_answers_resumes_with_everyone_queued(world: MemoryWorld) -> None:
    now = datetime.now(UTC)
    suspend(world, now - timedelta(seconds=1))
    world.tenant.domains.append("fabrikam.example")
    probe(world, now)
    found = row(world)
    assert (found.state, found.reason, found.detail, found.failures, found.retry_at) == (
        ConnectionState.CONNECTED, None, None, 0, None)
    assert sorted(found.verified_domains or []) == [DOMAIN, "fabrikam.example"] and found.domains_checked_at == now
    assert queued(world) == len(USERS)


def test_a_suspended_tenant_is_left_alone_until_its_probe_time(world: MemoryWorld) -> None:
    now = datetime.now(UTC)
    suspend(world, now + timedelta(minutes=1))
    before = world.tenant.requests
    probe(world, now)
    assert world.tenant.requests == before and row(world).state == ConnectionState.SUSPENDED


def test_a_tenant_that_still_refuses_backs_off_further(world: MemoryWorld) -> None:
    now = datetime.now(UTC)
    suspend(world, now - timedelta(seconds=1))
    failures = row(world).failures
    world.tenant.tenant_id = "another-tenant"  # our token is for the account's tenant: 401
    probe(world, now)
    found = row(world)
    assert (found.state, found.reason) == (ConnectionState.SUSPENDED, TenantReason.PERMISSION_MISSING)
    assert found.failures == failures + 1 and found.retry_at is not None and found.retry_at > now
    assert queued(world) == 0


def test_a_graph_failure_that_is_no_refusal_changes_nothing(world: MemoryWorld) -> None:
    now = datetime.now(UTC)
    suspend(world, now - timedelta(seconds=1))
    before = row(world)
    world.tenant.faults = Faults(unavailable=1.0)
    probe(world, now)
    after = row(world)
    assert (after.state, after.failures, after.retry_at) == (ConnectionState.SUSPENDED, before.failures,
                                                             before.retry_at)


def test_the_domains_are_read_again_once_per_full_pass(world: MemoryWorld) -> None:
    with world.database.session() as session:
        assert connection.domains_due(session, datetime.now(UTC)) == []  # read at Connect integration
    world.tenant.domains.append("fabrikam.example")
    now = datetime.now(UTC)
    with world.database.session() as session:
        assert schedule.start_due(session, timedelta(0), now) == [ACCOUNT]
        assert connection.domains_due(session, now) == [ACCOUNT]
    refresh(world, now)
    found = row(world)
    assert sorted(found.verified_domains or []) == [DOMAIN, "fabrikam.example"]
    assert queued(world) == len(USERS)  # a domain added: everyone
    with world.database.session() as session:
        assert connection.domains_due(session, now) == []
    before = world.tenant.requests
    refresh(world, now)
    assert world.tenant.requests == before


def test_a_refusal_at_the_domain_refresh_suspends_the_account(world: MemoryWorld) -> None:
    now = datetime.now(UTC)
    with world.database.session() as session:
        schedule.start_due(session, timedelta(0), now)
    world.tenant.tenant_id = "another-tenant"
    refresh(world, now)
    found = row(world)
    assert (found.state, found.reason) == (ConnectionState.SUSPENDED, TenantReason.PERMISSION_MISSING)
    assert found.failures == 1
