"""Each route's body limit, and the app refusing a body on a route that takes none (nothing stored)."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from plugin.limits import FORM_BODY_BYTES, MAX_BODY_BYTES, body_limit

CASES = [
    ("POST", "/hooks", MAX_BODY_BYTES),
    ("POST", "/hooks/batch", MAX_BODY_BYTES),
    ("POST", "/feeds/address", MAX_BODY_BYTES),
    ("POST", "/users/state", MAX_BODY_BYTES),
    ("POST", "/integrations/outlook/reminder", FORM_BODY_BYTES),
    ("POST", "/integrations/outlook/users/u-1/retry", FORM_BODY_BYTES),
    ("POST", "/integrations/outlook", 0),  # the page itself takes no form
    ("POST", "/healthz", 0),
    ("POST", "/hooks/", 0),
    ("POST", "/feeds/abc.ics", 0),
    ("GET", "/hooks", 0),
    ("GET", "/integrations/outlook", 0),
    ("PUT", "/hooks", 0),
]


@pytest.mark.parametrize(("method", "path", "limit"), CASES)
def test_body_limit(method: str, path: str, limit: int) -> None:
    assert body_limit(method, path) == limit


@pytest.mark.parametrize(("method", "path"), [("POST", "/healthz"), ("GET", "/healthz"), ("GET", "/feeds/x.ics"),
                                              ("POST", "/integrations/outlook")])
def test_a_body_on_a_route_that_takes_none_is_413(client: FlaskClient, row_counts: Callable[[], dict[str, int]],
                                                  method: str, path: str) -> None:
    before = row_counts()
    answer = client.open(path, method=method, data=b"x" * 10)
    assert answer.status_code == 413
    assert row_counts() == before
    assert client.get("/healthz").status_code == 200  # without a body the same route answers
