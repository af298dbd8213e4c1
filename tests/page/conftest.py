"""Fixtures for the settings page: the app on a fresh migrated database (SQLite and PostgreSQL, from
``tests/conftest.py``), launches as any role, and the real emulator for consent and Connect integration.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bridge.config import Settings
from bridge.db import Database
from bridge.models import Base
from emulator.testing import EmulatorHandle, running_emulator
from plugin.host import HostClient, dumps, launch_url
from plugin.templating import breakable

HOST_SECRET = "page-host-secret-0123456789"
CLIENT_ID = "5f0e7a52-0a9e-4e57-9c1b-000000000001"
CLIENT_SECRET = "page-client-secret-" + secrets.token_hex(8)
PUBLIC_URL = "http://localhost"
CALLBACK = PUBLIC_URL + "/integrations/outlook/consent"
DOMAIN = "contoso.example"
ACCOUNT = "acct-1"
# The page's sections (plugin.page.sections): the overview at the page's own address, then the others.
PAGE = "/integrations/outlook"
USERS, SETTINGS, ACTIVITY = f"{PAGE}/users", f"{PAGE}/settings", f"{PAGE}/activity"
SECTIONS = (PAGE, USERS, SETTINGS, ACTIVITY)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorHandle]:
    """One emulator for the page tests, with the plugin's app registered (each test makes a tenant)."""
    with running_emulator() as handle:
        handle.admin.register_app(CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK])
        yield handle


@pytest.fixture(autouse=True)
def _no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would override ``verify=`` in requests."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def settings(database: Database) -> Settings:
    """Settings whose Graph side points at nothing (tests that need Graph use ``graph_settings``)."""
    return Settings(host_secret=HOST_SECRET, secret_key="page-secret-key-0123456789", client_id=CLIENT_ID,
                    client_secret=CLIENT_SECRET, database_url=database.url, public_url=PUBLIC_URL,
                    authority_url="https://127.0.0.1:9", graph_url="https://127.0.0.1:9/v1.0",
                    frame_ancestors="'self' https://lms.example.com")


@dataclass
class Tenant:
    id: str
    handle: EmulatorHandle

    def accept(self, state: str, client: FlaskClient) -> TestResponse:
        """What the Azure AD admin's Accept does: consent in the tenant, then the redirect to the callback."""
        self.handle.admin.grant_consent(self.id, CLIENT_ID)
        return client.get("/integrations/outlook/consent",
                          query_string={"admin_consent": "True", "tenant": self.id, "state": state})


def emulator_settings(database: Database, handle: EmulatorHandle) -> Settings:
    """Settings with the Graph side pointed at the emulator (a test module's ``settings`` override)."""
    return Settings(host_secret=HOST_SECRET, secret_key="page-secret-key-0123456789", client_id=CLIENT_ID,
                    client_secret=CLIENT_SECRET, database_url=database.url, public_url=PUBLIC_URL,
                    authority_url=handle.base_url, graph_url=handle.graph_url, ca_bundle=handle.ca_path,
                    worker_concurrency=4)


@pytest.fixture
def tenant(emulator: EmulatorHandle) -> Tenant:
    """A fresh tenant with a corporate domain and three mailboxes (one on-premises)."""
    emulator.admin.reset()  # a clean world: domains are unique across tenants
    emulator.admin.register_app(CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[CALLBACK])
    made = emulator.admin.create_tenant("Contoso " + secrets.token_hex(3), [DOMAIN])
    for name, kind in (("olivia", "exchange_online"), ("ada", "exchange_online"), ("old", "on_premises")):
        emulator.admin.create_user(made["id"], f"{name}@{DOMAIN}", mail=f"{name}@{DOMAIN}",
                                   display_name=name.capitalize(), mailbox=kind)
    return Tenant(made["id"], emulator)


Launch = Callable[..., TestResponse]


@pytest.fixture
def launch(client: FlaskClient) -> Launch:
    return make_launch(client)


def make_launch(client: FlaskClient) -> Launch:
    def launch(role: str = "owner", account: str = ACCOUNT, user_id: str | None = None,
               secret: str = HOST_SECRET, locale: str | None = None) -> TestResponse:
        url = launch_url("http://localhost", secret, account, user_id or f"u-{role}", role, locale)
        return client.get(url.removeprefix("http://localhost"))
    return launch


def csrf(client: FlaskClient) -> str:
    """The session's CSRF token, as the page's forms carry it."""
    page = client.get("/integrations/outlook")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    if found:
        return found.group(1)
    with client.session_transaction("/integrations/outlook") as session:
        return str(session["csrf"])


def consent_state(client: FlaskClient) -> str:
    """The ``state`` of the consent link shown on the page."""
    page = client.get("/integrations/outlook").get_data(as_text=True)
    found = re.search(r'id="consent-link"[^>]*value="[^"]*state=([A-Za-z0-9_-]+)', page)
    assert found, "no consent link on the page"
    return found.group(1)


@pytest.fixture
def rows(database: Database) -> Callable[[], dict[str, int]]:
    """Rows in every table, to prove that a refused request changed nothing."""
    def count() -> dict[str, int]:
        with database.session() as session:
            return {t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in Base.metadata.sorted_tables}
    return count


@pytest.fixture
def hooks(client: FlaskClient) -> Callable[..., TestResponse]:
    """Send signed hook deliveries (a batch) through the app, as the LMS does."""
    host = HostClient("http://localhost", HOST_SECRET)

    def send(account: str, deliveries: list[tuple[str, dict[str, Any]]]) -> TestResponse:
        body = dumps({"deliveries": [host.delivery(topic, account, data) for topic, data in deliveries]})
        answer = client.post("/hooks/batch", data=body, headers=host.signed_headers(body))
        assert answer.status_code in (200, 202), answer.get_data(as_text=True)
        return answer

    return send


def user(uid: str, email: str, name: str, active: bool = True, role: str = "learner") -> tuple[str, dict[str, Any]]:
    return ("user.upserted", {"id": uid, "email": email, "name": name, "active": active, "role": role,
                              "timezone": "Europe/Berlin", "version": 1})


def every_section(client: FlaskClient, **kwargs: Any) -> str:
    """The HTML of every section a manager opens, one after the other (``kwargs`` go to each request)."""
    return "".join(client.get(path, **kwargs).get_data(as_text=True) for path in SECTIONS)


def shown(address: str) -> str:
    """An address as the page's HTML has it (with its line-break opportunities)."""
    return str(breakable(address))
