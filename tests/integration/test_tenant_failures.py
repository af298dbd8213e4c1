"""Consent revoked or secret expired mid-run: the account stops, says why, does not spin, and
resumes after reconnecting with nothing lost."""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from bridge.accounts import connection, consent
from bridge.worker.loop import Worker
from tests.integration.world import ACCOUNT, DOMAIN, World, at

LENA = f"lena@{DOMAIN}"


def connected_world(world: World) -> None:
    world.emulator.admin.set_limits(token_lifetime=60)  # MSAL asks again for tokens this short-lived
    world.person("org")
    world.person("lena")
    world.event("e1", [("s1", at(24), at(26))])
    world.enroll("lena", "e1", "s1")
    world.connect()
    world.sync()
    assert world.subjects(LENA) == ["Event e1"]


def connection_state(world: World) -> tuple[str, str | None]:
    with world.database.session() as session:
        row = connection.connection(session, ACCOUNT)
        return row.state, row.reason


def token_requests(world: World) -> int:
    return sum(1 for r in world.emulator.admin.requests_log(limit=100_000) if "/oauth2/v2.0/token" in r["path"])


@pytest.mark.parametrize(("break_tenant", "reason"), [
    (lambda w: w.emulator.admin.revoke_consent(w.tenant_id, w.settings.client_id), "consent_missing"),
    (lambda w: w.emulator.admin.expire_secret(w.settings.client_id), "secret_expired"),
])
def test_the_account_stops_and_says_why(world: World, break_tenant, reason: str) -> None:  # type: ignore[no-untyped-def]
    connected_world(world)
    break_tenant(world)
    world.change_event("e1", title="Renamed")
    Worker(world.database, world.graph, concurrency=4).drain(timeout=30)
    assert connection_state(world) == ("suspended", reason)
    assert world.subjects(LENA) == ["Event e1"]  # nothing removed, nothing lost
    assert world.backlog() > 0  # the change waits for the reconnection

    # no hot loop: a running worker leaves a suspended tenant alone until its probe time
    before = token_requests(world)
    worker = Worker(world.database, world.graph, concurrency=4)
    thread = threading.Thread(target=worker.run, kwargs={"idle_sleep": 0.1})
    thread.start()
    time.sleep(3)
    worker.stop()
    thread.join()
    assert token_requests(world) - before <= 1


def test_reconnecting_resumes_from_the_current_state(world: World) -> None:
    connected_world(world)
    world.emulator.admin.revoke_consent(world.tenant_id, world.settings.client_id)
    world.change_event("e1", title="Renamed")
    Worker(world.database, world.graph, concurrency=4).drain(timeout=30)
    assert connection_state(world)[0] == "suspended"

    world.emulator.admin.grant_consent(world.tenant_id, world.settings.client_id)
    consent.connect(world.database, world.graph, ACCOUNT, "owner", datetime.now(UTC))
    world.sync()
    assert connection_state(world) == ("connected", None)
    assert world.subjects(LENA) == ["Renamed"]


def test_disconnect_with_removal_empties_future_entries(world: World) -> None:
    connected_world(world)
    with world.database.session() as session:
        connection.disconnect(session, ACCOUNT, remove_entries=True)
    world.sync()
    Worker(world.database, world.graph)._housekeeping()
    assert world.mailbox(LENA) == [] and world.mailbox(f"org@{DOMAIN}") == []
    assert connection_state(world)[0] == "disconnected"


def test_disconnect_without_removal_stops_syncing_and_keeps_entries(world: World) -> None:
    connected_world(world)
    with world.database.session() as session:
        connection.disconnect(session, ACCOUNT, remove_entries=False)
    world.change_event("e1", title="Renamed")
    Worker(world.database, world.graph).drain(timeout=10)
    assert world.subjects(LENA) == ["Event e1"]
    assert connection_state(world) == ("disconnected", None)


def test_the_periodic_full_pass_reads_the_tenants_domains_again(world: World) -> None:
    connected_world(world)
    with world.database.session() as session:
        row = connection.connection(session, ACCOUNT)
        row.verified_domains = ["stale.example"]
        row.full_reconcile_at = datetime(2020, 1, 1, tzinfo=UTC)
    Worker(world.database, world.graph)._housekeeping()
    with world.database.session() as session:
        row = connection.connection(session, ACCOUNT)
        assert DOMAIN in (row.verified_domains or []) and "stale.example" not in (row.verified_domains or [])
        assert row.full_reconcile_at is not None and row.full_reconcile_at.year > 2020
    assert world.backlog() > 0  # everyone queued for the full pass
    world.sync()
    assert world.subjects(LENA) == ["Event e1"]
