"""Injected faults: each kind, seeded and repeatable, on Graph only (never identity or admin)."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.emulator.emu_support import World, event_body, graph_error


def post(world: World, graph: requests.Session, **extra: object) -> requests.Response:
    return graph.post(world.url("/users/alice@contoso.com/events"), json=event_body(**extra))


def stored(world: World) -> list[dict[str, object]]:
    return world.emu.admin.events(world.tenant_id, "alice@contoso.com")


def test_503_service_not_available(world: World) -> None:
    graph = world.graph()
    world.emu.admin.set_faults(rate_503=1.0, seed=1)
    response = post(world, graph)
    assert graph_error(response) == (503, "ServiceNotAvailable")
    assert stored(world) == []
    assert world.token().status_code == 200  # identity is never faulted
    assert world.emu.admin.counters()["faults"]["503"] == 1


def test_429_with_fractional_retry_after(world: World) -> None:
    graph = world.graph()
    world.emu.admin.set_faults(rate_429=1.0, seed=2, retry_after_s=2.128)
    response = graph.get(world.url("/users/alice@contoso.com/events"))
    assert graph_error(response) == (429, "TooManyRequests")
    assert re.fullmatch(r"\d+(\.\d{1,3})?", response.headers["retry-after"])
    assert 1.0 <= float(response.headers["retry-after"]) <= 3.2


def test_concurrent_item_save_only_on_event_create(world: World) -> None:
    graph = world.graph()
    world.emu.admin.set_faults(rate_concurrent_item_save=1.0, seed=3)
    assert graph_error(post(world, graph)) == (503, "ConcurrentItemSave")
    assert stored(world) == []
    assert graph.get(world.url("/users/alice@contoso.com/events")).status_code == 200


def test_reset_drops_connection_before_applying(world: World) -> None:
    graph = world.graph()
    world.emu.admin.set_faults(rate_reset=1.0, seed=4)
    with pytest.raises(requests.ConnectionError):
        post(world, graph)
    world.emu.admin.set_faults(rate_reset=0.0)
    assert stored(world) == []
    assert [e["status"] for e in world.emu.admin.requests_log() if e["fault"] == "reset"] == [0]


def test_ambiguous_applies_write_then_drops(world: World) -> None:
    graph = world.graph()
    world.emu.admin.set_faults(rate_ambiguous=1.0, seed=5, ambiguous_hold_ms=50)
    with pytest.raises(requests.ConnectionError):
        post(world, graph, transactionId="amb-1")
    world.emu.admin.set_faults(rate_ambiguous=0.0)
    assert len(stored(world)) == 1
    retry = post(world, world.graph(), transactionId="amb-1")  # the retry finds the first write
    assert retry.status_code == 201
    assert len(stored(world)) == 1


def test_ambiguous_hold_looks_like_a_read_timeout(world: World) -> None:
    graph = world.graph()
    world.emu.admin.set_faults(rate_ambiguous=1.0, ambiguous_hold_ms=1500)
    with pytest.raises(requests.ReadTimeout):
        graph.post(world.url("/users/alice@contoso.com/events"), json=event_body(), timeout=0.5)
    world.emu.admin.set_faults(rate_ambiguous=0.0)
    assert len(stored(world)) == 1


def test_latency(world: World) -> None:
    graph = world.graph()
    world.emu.admin.set_faults(latency_ms=200, latency_jitter_ms=20, seed=6)
    started = time.monotonic()
    graph.get(world.url("/users/alice@contoso.com/events"))
    assert time.monotonic() - started >= 0.17


def test_same_seed_same_faults(world: World) -> None:
    graph = world.graph()

    def run() -> list[int]:
        world.emu.admin.set_faults(rate_503=0.3, rate_429=0.2, seed=42)
        return [graph.get(world.url("/users/alice@contoso.com/events")).status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert {200, 429, 503} <= set(first)


def test_fault_methods_filter(world: World) -> None:
    graph = world.graph()
    world.emu.admin.set_faults(rate_503=1.0, methods=["POST"])
    assert graph.get(world.url("/users/alice@contoso.com/events")).status_code == 200
    assert post(world, graph).status_code == 503


def test_batch_items_faulted_on_their_own_and_reset_hits_envelope(world: World) -> None:
    graph = world.graph()
    world.emu.admin.set_faults(rate_503=1.0, seed=7)
    body = {"requests": [{"id": "1", "method": "GET", "url": "/users/alice@contoso.com/events"}]}
    response = graph.post(world.url("/$batch"), json=body)
    assert response.status_code == 200
    assert response.json()["responses"][0]["status"] == 503
    world.emu.admin.set_faults(rate_503=0.0, rate_reset=1.0)
    with pytest.raises(requests.ConnectionError):
        world.graph().post(world.url("/$batch"), json=body)


def test_faults_refuse_bad_settings(world: World) -> None:
    from emulator.client import EmulatorAdminError

    with pytest.raises(EmulatorAdminError, match="rate_503"):
        world.emu.admin.set_faults(rate_503=1.5)
    with pytest.raises(EmulatorAdminError, match="unknown option"):
        world.emu.admin.set_faults(rate_teapot=0.1)
