"""POST /hooks/batch: every delivery validated before any is stored; one transaction for all."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from bridge.db import Database
from bridge.models import LmsEnrollment, LmsSession, LmsUser
from plugin.host import HostClient

Post = Callable[..., Any]
Sample = Callable[..., dict[str, Any]]
Counts = Callable[[], dict[str, int]]

TOPICS = ("user.upserted", "event.upserted", "enrollment.upserted")


def test_batch_applies_all_in_one_go(post: Post, host: HostClient, sample: Sample, database: Database) -> None:
    deliveries = [host.delivery(topic, "acme", sample(topic)) for topic in TOPICS]
    response = post("/hooks/batch", {"deliveries": deliveries})
    assert response.status_code == 202
    assert response.json == {"results": [{"id": d["id"], "status": "applied"} for d in deliveries]}
    with database.session() as session:
        assert session.get(LmsUser, ("acme", "u1")) is not None
        assert session.scalar(select(func.count()).select_from(LmsSession)) == 2
        assert session.get(LmsEnrollment, ("acme", "e1", "u1")) is not None


def test_batch_of_known_deliveries_answers_200(post: Post, host: HostClient, sample: Sample) -> None:
    deliveries = [host.delivery(topic, "acme", sample(topic)) for topic in TOPICS]
    assert post("/hooks/batch", {"deliveries": deliveries}).status_code == 202
    again = post("/hooks/batch", {"deliveries": deliveries})
    assert again.status_code == 200
    assert {r["status"] for r in again.json["results"]} == {"duplicate"}


def test_batch_reports_each_outcome_in_order(post: Post, host: HostClient, sample: Sample) -> None:
    first = host.delivery("user.upserted", "acme", sample("user.upserted", version=3))
    stale = host.delivery("user.upserted", "acme", sample("user.upserted", version=2))
    response = post("/hooks/batch", {"deliveries": [first, first, stale]})
    assert response.status_code == 202
    assert [r["status"] for r in response.json["results"]] == ["applied", "duplicate", "stale"]


def test_one_invalid_delivery_refuses_the_whole_batch(
    post: Post, host: HostClient, sample: Sample, row_counts: Counts
) -> None:
    deliveries = [host.delivery("user.upserted", "acme", sample("user.upserted", id=f"u{n}")) for n in range(5)]
    deliveries[3]["data"]["email"] = "not-an-address"
    deliveries.append(host.delivery("event.upserted", "acme", sample("event.upserted", title=None)))
    response = post("/hooks/batch", {"deliveries": deliveries})
    assert response.status_code == 400
    assert response.json["error"] == "invalid batch"
    assert set(response.json["fields"]) == {"deliveries.3.data.email", "deliveries.5.data.title"}
    assert not any(row_counts().values())


def test_batch_over_the_limit_is_refused(post: Post, host: HostClient, sample: Sample, row_counts: Counts) -> None:
    deliveries = [host.delivery("user.deleted", "acme", sample("user.deleted", id=f"u{n}")) for n in range(1001)]
    response = post("/hooks/batch", {"deliveries": deliveries})
    assert response.status_code == 400
    assert response.json["fields"] == {"deliveries": ["At most 1000 deliveries per batch."]}
    assert not any(row_counts().values())


def test_thousand_deliveries_fit(post: Post, host: HostClient, sample: Sample, database: Database) -> None:
    deliveries = [host.delivery("user.upserted", "acme", sample("user.upserted", id=f"u{n}")) for n in range(1000)]
    response = post("/hooks/batch", {"deliveries": deliveries})
    assert response.status_code == 202
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(LmsUser)) == 1000


def test_empty_batch_changes_nothing(post: Post, row_counts: Counts) -> None:
    response = post("/hooks/batch", {"deliveries": []})
    assert (response.status_code, response.json) == (200, {"results": []})
    assert not any(row_counts().values())


def test_unsigned_batch_is_refused(
    client: Any, host: HostClient, sample: Sample, row_counts: Counts
) -> None:
    body = {"deliveries": [host.delivery("user.upserted", "acme", sample("user.upserted"))]}
    response = client.post("/hooks/batch", json=body)
    assert response.status_code == 401
    assert not any(row_counts().values())
