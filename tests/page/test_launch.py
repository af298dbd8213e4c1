"""The launch from the LMS: token checks, the session cookie, the page's security headers."""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from unittest import mock

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from bridge.config import Settings
from bridge.db import Database
from bridge.models import Account
from plugin import create_app
from plugin.launch import SESSION_MAX_AGE
from tests.page.conftest import ACCOUNT, HOST_SECRET, Launch

PAGE = "/integrations/outlook"


def token(payload: object, secret: str = HOST_SECRET, salt: str = "lms-launch") -> str:
    return URLSafeTimedSerializer(secret, salt=salt).dumps(payload)


def test_launch_starts_a_session_and_goes_to_the_clean_address(client: FlaskClient, launch: Launch,
                                                               database: Database) -> None:
    answer = launch("owner")
    assert answer.status_code == 303
    assert answer.headers["Location"] == PAGE
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/integrations/outlook" in cookie
    assert "Secure" not in cookie  # the public URL is http
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Connect" in page.get_data(as_text=True)
    with database.session() as session:  # the account is known from its first launch
        assert session.scalars(select(Account.id)).all() == [ACCOUNT]


def test_https_public_url_makes_the_cookie_work_inside_a_cross_site_iframe(database: Database) -> None:
    settings = Settings(host_secret=HOST_SECRET, secret_key="k" * 20, client_id="c", client_secret="s",
                        database_url=database.url, public_url="https://outlook.example.com")
    client = create_app(settings, database).test_client()
    answer = client.get(PAGE, query_string={"launch": token({"account": "a", "user_id": "u", "role": "owner"})})
    cookie = answer.headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=None" in cookie and "Partitioned" in cookie and "HttpOnly" in cookie


BAD_TOKENS: dict[str, Callable[[], str]] = {  # made when the test runs: a token made at import could expire first
    "forged": lambda: token({"account": ACCOUNT, "user_id": "u", "role": "owner"}, secret="another-host-secret-000"),
    "wrong-salt": lambda: token({"account": ACCOUNT, "user_id": "u", "role": "owner"}, salt="something-else"),
    "tampered": lambda: token({"account": ACCOUNT, "user_id": "u", "role": "owner"})[:-3] + "AAA",
    "garbage": lambda: "not-a-token",
    "empty": lambda: "",
    "unknown-role": lambda: token({"account": ACCOUNT, "user_id": "u", "role": "superuser"}),
    "no-role": lambda: token({"account": ACCOUNT, "user_id": "u"}),
    "number": lambda: token({"account": 7, "user_id": "u", "role": "owner"}),
    "too-long": lambda: token({"account": "x" * 200, "user_id": "u", "role": "owner"}),
    "not-an-object": lambda: token(["owner"]),
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_launch_tokens_are_refused_in_plain_words(client: FlaskClient, kind: str, database: Database) -> None:
    answer = client.get(PAGE, query_string={"launch": BAD_TOKENS[kind]()})
    assert answer.status_code == 403
    assert "This link from the LMS is not valid" in answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers
    assert client.get(PAGE).status_code == 403  # no session was started
    with database.session() as session:
        assert session.scalars(select(Account.id)).all() == []


def test_an_expired_launch_token_is_refused(client: FlaskClient) -> None:
    old = token({"account": ACCOUNT, "user_id": "u", "role": "owner"})
    with mock.patch("time.time", return_value=time.time() + 301):
        answer = client.get(PAGE, query_string={"launch": old})
    assert answer.status_code == 403
    assert "expired" in answer.get_data(as_text=True)


def test_without_a_launch_the_page_says_to_open_it_from_the_lms(client: FlaskClient) -> None:
    answer = client.get(PAGE)
    assert answer.status_code == 403
    assert "Open this page from the LMS" in answer.get_data(as_text=True)


def test_a_session_ends_after_a_working_day(client: FlaskClient, launch: Launch) -> None:
    launch("owner")
    with mock.patch("time.time", return_value=time.time() + SESSION_MAX_AGE + 1):
        assert client.get(PAGE).status_code == 403


def test_a_new_launch_replaces_the_session_and_its_csrf_token(client: FlaskClient, launch: Launch) -> None:
    launch("owner")
    with client.session_transaction(PAGE) as session:
        first = session["csrf"]
    launch("learner", account="acct-2")
    with client.session_transaction(PAGE) as session:
        assert session["account"] == "acct-2" and session["role"] == "learner"
        assert session["csrf"] != first


def test_security_headers(client: FlaskClient, launch: Launch) -> None:
    launch("owner")
    for path in (PAGE, "/integrations/outlook/consent", "/integrations/outlook/static/page.js"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "frame-ancestors 'self' https://lms.example.com" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
    assert client.get(PAGE).headers["Cache-Control"] == "no-store"


def test_the_page_has_no_inline_script_or_style_and_no_external_asset(client: FlaskClient, launch: Launch) -> None:
    launch("owner")
    html = client.get(PAGE).get_data(as_text=True)
    assert "<script>" not in html and "style=" not in html and "<style" not in html and " on" + "click" not in html
    assert all(url.startswith(("/", "#")) for url in re.findall(r'(?:src|href)="([^"]*)"', html))
    for asset in ("page.css", "page.js"):
        assert f'/integrations/outlook/static/{asset}"' in html
        assert client.get(f"/integrations/outlook/static/{asset}").status_code == 200
