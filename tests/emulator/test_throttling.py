"""Per app+mailbox limits: 4 in flight, a request budget per window; other mailboxes unaffected."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.emulator.emu_support import World, graph_error


def test_fifth_concurrent_request_is_application_throttled(world: World) -> None:
    world.emu.admin.set_faults(latency_ms=800)  # long enough for all six to be in flight
    token = world.token().json()["access_token"]

    def get(user: str) -> requests.Response:
        return world.graph(token).get(world.url(f"/users/{user}/events"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        alice = [pool.submit(get, "alice@contoso.com") for _ in range(6)]
        bob = [pool.submit(get, "bob@contoso.com") for _ in range(2)]
        alice_results = [f.result() for f in alice]
        bob_results = [f.result() for f in bob]
    statuses = sorted(r.status_code for r in alice_results)
    assert statuses == [200, 200, 200, 200, 429, 429]
    for r in alice_results:
        if r.status_code == 429:
            assert graph_error(r) == (429, "ApplicationThrottled")
            assert r.json()["error"]["message"] == "Application is over its MailboxConcurrency limit."
    assert all(r.status_code == 200 for r in bob_results)
    counters = world.emu.admin.counters()
    assert counters["throttled_by_reason"]["concurrency"] == 2
    assert max(counters["max_concurrency"].values()) == 4


def test_window_budget_gives_fractional_retry_after(world: World) -> None:
    world.emu.admin.set_limits(window_requests=5, window_seconds=30)
    graph = world.graph()
    for _ in range(5):
        assert graph.get(world.url("/users/alice@contoso.com/events")).status_code == 200
    refused = graph.get(world.url("/users/alice@contoso.com/events"))
    assert graph_error(refused) == (429, "TooManyRequests")
    retry_after = refused.headers["retry-after"]
    assert re.fullmatch(r"\d+\.\d{1,3}", retry_after), retry_after
    assert 0 < float(retry_after) <= 30
    assert graph.get(world.url("/users/bob@contoso.com/events")).status_code == 200


def test_window_slides(world: World) -> None:
    world.emu.admin.set_limits(window_requests=2, window_seconds=1.0)
    graph = world.graph()
    assert [graph.get(world.url("/users/alice@contoso.com/events")).status_code for _ in range(3)] == [200, 200, 429]

    time.sleep(1.1)
    assert graph.get(world.url("/users/alice@contoso.com/events")).status_code == 200


def test_concurrency_limit_is_configurable(world: World) -> None:
    world.emu.admin.set_limits(concurrency=1)
    world.emu.admin.set_faults(latency_ms=600)
    token = world.token().json()["access_token"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(lambda _: world.graph(token).get(world.url("/users/alice@contoso.com/events")), range(2))
        )
    assert sorted(r.status_code for r in results) == [200, 429]
