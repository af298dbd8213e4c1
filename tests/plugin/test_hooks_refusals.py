"""Refusals that an outsider can cause cost the plugin little: a chunked body over the limit is 413
before its signature is looked at, and refused deliveries do not write a log line each."""
from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from plugin.host import HostClient, dumps

Counts = Callable[[], dict[str, int]]


def _chunked(client: FlaskClient, body: bytes, headers: dict[str, str]) -> Any:
    """POST ``body`` without a Content-Length, as a server passes a chunked request on."""
    return client.post("/hooks", input_stream=io.BytesIO(body), headers={**headers, "Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True})


def test_a_signed_chunked_body_over_one_mebibyte_is_413_not_401(
        client: FlaskClient, host: HostClient, row_counts: Counts) -> None:
    data = {"id": "u1", "email": "u1@contoso.example", "name": "x" * (1024 * 1024), "active": True,
            "role": "learner", "version": 1}
    body = dumps(host.delivery("user.upserted", "acme", data))
    answer = _chunked(client, body, host.signed_headers(body))
    assert answer.status_code == 413, answer.get_data(as_text=True)
    assert "larger than 1048576 bytes" in answer.json["error"]
    assert not any(row_counts().values())


def test_a_signed_chunked_body_under_the_limit_is_applied(client: FlaskClient, host: HostClient) -> None:
    data = {"id": "u1", "email": "u1@contoso.example", "name": "Ada", "active": True, "role": "learner",
            "version": 1}
    body = dumps(host.delivery("user.upserted", "acme", data))
    answer = _chunked(client, body, host.signed_headers(body))
    assert answer.status_code == 202, answer.get_data(as_text=True)


def test_refused_deliveries_do_not_log_a_line_each(client: FlaskClient, host: HostClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    body = dumps(host.delivery("user.upserted", "acme", {"id": "u1", "version": 1}))
    for headers in ({}, {"X-Hook-Timestamp": "1", "X-Hook-Signature": "sha256=" + "0" * 64}):
        for _ in range(50):
            assert client.post("/hooks", data=body, headers=headers).status_code == 401
    assert [r for r in caplog.records if r.name.startswith("plugin")] == []
