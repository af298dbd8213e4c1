"""$batch: envelope limits, dependsOn, per-item throttling, per-mailbox concurrency."""

from __future__ import annotations

from typing import Any

from tests.emulator.emu_support import World, event_body, graph_error


def item(rid: str, method: str, url: str, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rid, "method": method, "url": url, **extra}
    if body is not None:
        out["body"] = body
        out["headers"] = {"Content-Type": "application/json"}
    return out


def test_batch_creates_and_reads(world: World) -> None:
    requests_ = [item(str(i), "POST", "/users/alice@contoso.com/events", event_body(subject=f"b{i}")) for i in range(5)]
    requests_.append(item("dir", "GET", "/users/bob@contoso.com?$select=id,mail"))
    response = world.graph().post(world.url("/$batch"), json={"requests": requests_})
    assert response.status_code == 200
    by_id = {r["id"]: r for r in response.json()["responses"]}
    assert set(by_id) == {"0", "1", "2", "3", "4", "dir"}
    assert all(by_id[str(i)]["status"] == 201 for i in range(5))
    assert by_id["dir"]["body"]["mail"] == "bob@contoso.com"
    assert len(world.emu.admin.events(world.tenant_id, "alice@contoso.com")) == 5


def test_more_than_20_is_refused(world: World) -> None:
    requests_ = [item(str(i), "GET", "/users/alice@contoso.com/events") for i in range(21)]
    assert graph_error(world.graph().post(world.url("/$batch"), json={"requests": requests_})) == (400, "BadRequest")


def test_duplicate_ids_are_refused(world: World) -> None:
    requests_ = [item("1", "GET", "/users/alice@contoso.com/events"), item("1", "GET", "/domains")]
    assert graph_error(world.graph().post(world.url("/$batch"), json={"requests": requests_})) == (400, "BadRequest")


def test_depends_on_failure_gives_424(world: World) -> None:
    requests_ = [
        item("1", "POST", "/users/ghost@contoso.com/events", event_body()),
        item("2", "POST", "/users/alice@contoso.com/events", event_body(), dependsOn=["1"]),
        item("3", "GET", "/users/alice@contoso.com/events", dependsOn=["2"]),
    ]
    responses = {
        r["id"]: r for r in world.graph().post(world.url("/$batch"), json={"requests": requests_}).json()["responses"]
    }
    assert responses["1"]["status"] == 404 and responses["1"]["body"]["error"]["code"] == "ErrorInvalidUser"
    assert responses["2"]["status"] == 424 and responses["2"]["body"]["error"]["code"] == "FailedDependency"
    assert responses["3"]["status"] == 424
    assert world.emu.admin.events(world.tenant_id, "alice@contoso.com") == []


def test_depends_on_runs_in_order(world: World) -> None:
    requests_ = [item("a", "POST", "/users/alice@contoso.com/events", event_body(transactionId="t-1"))]
    requests_ += [
        item("b", "POST", "/users/alice@contoso.com/events", event_body(transactionId="t-1"), dependsOn=["a"])
    ]
    responses = {
        r["id"]: r for r in world.graph().post(world.url("/$batch"), json={"requests": requests_}).json()["responses"]
    }
    assert responses["a"]["body"]["id"] == responses["b"]["body"]["id"]


def test_write_item_without_content_type_is_refused(world: World) -> None:
    requests_ = [{"id": "1", "method": "POST", "url": "/users/alice@contoso.com/events", "body": event_body()}]
    response = world.graph().post(world.url("/$batch"), json={"requests": requests_}).json()["responses"][0]
    assert response["status"] == 400


def test_items_are_throttled_on_their_own_with_retry_after(world: World) -> None:
    world.emu.admin.set_limits(window_requests=3)
    requests_ = [item(str(i), "GET", "/users/alice@contoso.com/events") for i in range(5)]
    requests_.append(item("bob", "GET", "/users/bob@contoso.com/events"))
    responses = {
        r["id"]: r for r in world.graph().post(world.url("/$batch"), json={"requests": requests_}).json()["responses"]
    }
    statuses = sorted(responses[str(i)]["status"] for i in range(5))
    assert statuses == [200, 200, 200, 429, 429]
    throttled = [r for r in responses.values() if r["status"] == 429]
    for r in throttled:
        assert r["body"]["error"]["code"] == "TooManyRequests"
        assert float(r["headers"]["Retry-After"]) > 0
    assert responses["bob"]["status"] == 200


def test_at_most_four_items_per_mailbox_in_flight(world: World) -> None:
    world.emu.admin.set_faults(latency_ms=100)
    requests_ = [item(str(i), "GET", "/users/alice@contoso.com/events") for i in range(10)]
    responses = world.graph().post(world.url("/$batch"), json={"requests": requests_}).json()["responses"]
    assert all(r["status"] == 200 for r in responses)
    max_seen = world.emu.admin.counters()["max_concurrency"]
    assert max(max_seen.values()) == 4


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of [start, end) intervals that overlap at one instant."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    most = current = 0
    for _, step in edges:
        current += step
        most = max(most, current)
    return most


def test_at_most_four_outlook_items_of_a_batch_at_a_time_whatever_their_mailboxes(world: World) -> None:
    """Graph dispatches up to four items of one batch to Outlook at a time, irrespective of their
    mailboxes (Microsoft's answer on MailboxConcurrency, learn.microsoft.com/answers/questions/1660054):
    eight creates for eight mailboxes run four at a time, never eight at once."""
    admin = world.emu.admin
    addresses = [f"pace{i}@contoso.com" for i in range(8)]
    admin.create_users(world.tenant_id, [{"userPrincipalName": a} for a in addresses])
    admin.set_faults(latency_ms=150)
    requests_ = [item(str(i), "POST", f"/users/{a}/events", event_body()) for i, a in enumerate(addresses)]
    responses = world.graph().post(world.url("/$batch"), json={"requests": requests_}).json()["responses"]
    assert sorted(r["status"] for r in responses) == [201] * 8
    items = [r for r in admin.requests_log() if r["batch_item"]]
    assert len(items) == 8 and len({r["mailbox"] for r in items}) == 8
    intervals = [(r["time"] - r["duration_ms"] / 1000, r["time"]) for r in items]
    assert _most_at_once(intervals) == 4


def test_an_envelope_over_4_mb_is_refused_whole_and_nothing_in_it_runs(world: World) -> None:
    """Graph refuses a request over 4 MB with 413 (emulator/README.md): ten 441,500-character bodies."""
    long = "x" * 441_500
    requests_ = [item(str(i), "POST", "/users/alice@contoso.com/events", event_body(subject=f"b{i}",
                      body={"contentType": "text", "content": long})) for i in range(10)]
    response = world.graph().post(world.url("/$batch"), json={"requests": requests_})
    assert graph_error(response) == (413, "RequestEntityTooLarge")
    assert world.emu.admin.events(world.tenant_id, "alice@contoso.com") == []
    response = world.graph().post(world.url("/$batch"), json={"requests": requests_[:5]})  # 2.2 MB: taken
    assert response.status_code == 200 and all(r["status"] == 201 for r in response.json()["responses"])
