"""plugin.host: what a Python LMS uses; its envelopes, signatures and links are what the plugin accepts."""
from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.serving import make_server

from bridge.config import Settings
from plugin.contract.manifest import load_manifest
from plugin.contract.schemas import load_delivery
from plugin.host import BATCH_PATH, HOOK_PATH, SETTINGS_PATH, HostClient, dumps, launch_url
from plugin.signing import verify

Sample = Callable[..., dict[str, Any]]


def test_paths_match_the_manifest_and_routes(app: Flask) -> None:
    manifest = load_manifest()
    assert (manifest.hook_url, manifest.settings_page.path) == (HOOK_PATH, SETTINGS_PATH)
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    assert {HOOK_PATH, BATCH_PATH} <= routes


def test_delivery_envelope_has_a_fresh_id_unless_given(sample: Sample) -> None:
    first = HostClient.delivery("user.deleted", "acme", sample("user.deleted"))
    second = HostClient.delivery("user.deleted", "acme", sample("user.deleted"))
    assert uuid.UUID(first["id"]).version == 4 and first["id"] != second["id"]
    assert HostClient.delivery("user.deleted", "acme", {}, delivery_id="retry-1")["id"] == "retry-1"
    assert set(first) == {"id", "topic", "account", "data"}


def test_datetimes_are_sent_as_rfc3339_instants(sample: Sample) -> None:
    start = datetime(2030, 3, 30, 9, tzinfo=timezone(timedelta(hours=2)))
    sessions = [{"id": "s1", "start": start, "end": start + timedelta(hours=1)}]
    envelope = HostClient.delivery("event.upserted", "acme", sample("event.upserted", sessions=sessions))
    body = dumps(envelope)
    assert b'"start":"2030-03-30T09:00:00+02:00"' in body
    loaded = load_delivery(json.loads(body))
    assert loaded["data"]["sessions"][0]["start"] == datetime(2030, 3, 30, 7, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        dumps({"start": datetime(2030, 3, 30, 9)})


def test_signed_headers_verify(host: HostClient, settings: Settings) -> None:
    body = b'{"deliveries":[]}'
    headers = host.signed_headers(body, timestamp=1_900_000_000)
    verify(settings.host_secret, headers, body, now=1_900_000_100)
    assert headers["Content-Type"] == "application/json"
    assert settings.host_secret not in repr(host)


def test_launch_url_carries_a_token_signed_with_the_launch_salt(settings: Settings) -> None:
    url = launch_url("https://plugin.example.com/", settings.host_secret, "acme", "u1", "admin")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://plugin.example.com/integrations/outlook"
    [token] = parse_qs(parts.query)["launch"]
    serializer = URLSafeTimedSerializer(settings.host_secret, salt="lms-launch")
    payload = serializer.loads(token, max_age=300)
    assert {k: payload[k] for k in ("account", "user_id", "role")} == {"account": "acme", "user_id": "u1",
                                                                        "role": "admin"}
    assert launch_url("https://plugin.example.com/", settings.host_secret, "acme", "u1", "admin") != url  # single use
    with pytest.raises(BadSignature):
        URLSafeTimedSerializer(settings.host_secret, salt="other").loads(token)


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The app on a loopback port, so the client's real HTTP path is exercised."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_client_round_trip_over_http(live_url: str, settings: Settings, sample: Sample) -> None:
    client = HostClient(live_url, settings.host_secret)
    sent = client.send("user.upserted", "acme", sample("user.upserted"), delivery_id="d-1")
    assert (sent.status_code, sent.json()) == (202, {"id": "d-1", "status": "applied"})
    assert client.send("user.upserted", "acme", sample("user.upserted"), delivery_id="d-1").status_code == 200
    batch = [client.delivery(t, "acme", sample(t)) for t in ("event.upserted", "enrollment.upserted")]
    response = client.send_batch(batch)
    assert response.status_code == 202
    assert [r["status"] for r in response.json()["results"]] == ["applied", "applied"]
    forged = HostClient(live_url, "not-the-host-secret-at-all")
    assert forged.send("user.deleted", "acme", sample("user.deleted")).status_code == 401
