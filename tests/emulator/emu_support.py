"""Helpers shared by the emulator tests (a world with a consented app, Graph sessions)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import requests

from emulator.testing import EmulatorHandle

SCOPE = "https://graph.microsoft.com/.default"
SECRET = "correct-horse-battery-staple"
REDIRECT = "https://lms.example/integrations/outlook/consent"
ROLES = ["Calendars.ReadWrite", "User.Read.All", "Domain.Read.All"]


@dataclass
class World:
    """A tenant with the product's app consented and a few users."""

    emu: EmulatorHandle
    tenant_id: str
    client_id: str
    users: dict[str, dict[str, Any]]

    def token(self, client_id: str | None = None, secret: str = SECRET, tenant: str | None = None) -> requests.Response:
        return session(self.emu).post(
            f"{self.emu.base_url}/{tenant or self.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id or self.client_id,
                "client_secret": secret,
                "scope": SCOPE,
            },
        )

    def graph(self, token: str | None = None) -> requests.Session:
        s = session(self.emu)
        s.headers["Authorization"] = "Bearer " + (token or self.token().json()["access_token"])
        return s

    def url(self, path: str) -> str:
        return f"{self.emu.graph_url}{path}"


def session(emu: EmulatorHandle) -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    s.verify = emu.ca_path
    return s


def make_world(emu: EmulatorHandle, roles: list[str] | None = None) -> World:
    admin = emu.admin
    tenant = admin.create_tenant("Contoso", ["contoso.com", "contoso.example"])
    client_id = str(uuid.uuid4())
    admin.register_app(client_id, client_secret=SECRET, redirect_uris=[REDIRECT], required_roles=ROLES)
    users = {
        "alice": admin.create_user(tenant["id"], "alice@contoso.com", display_name="Alice Example"),
        "bob": admin.create_user(
            tenant["id"],
            "bob@contoso.com",
            display_name="Bob Example",
            proxy_addresses=["SMTP:bob@contoso.com", "smtp:Robert@Contoso.Example"],
        ),
        "onprem": admin.create_user(tenant["id"], "onprem@contoso.com", mailbox="on_premises"),
        "unlicensed": admin.create_user(tenant["id"], "nolicense@contoso.com", mailbox="none"),
    }
    admin.grant_consent(tenant["id"], client_id, roles)
    return World(emu, tenant["id"], client_id, users)


def event_body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": "Induction — session 1",
        "body": {"contentType": "html", "content": "<p>Welcome</p>"},
        "start": {"dateTime": "2026-03-29T09:00:00", "timeZone": "Romance Standard Time"},
        "end": {"dateTime": "2026-03-29T10:30:00", "timeZone": "Romance Standard Time"},
        "location": {"displayName": "Room 101"},
        "showAs": "busy",
        "isReminderOn": True,
        "reminderMinutesBeforeStart": 15,
    }
    body.update(extra)
    return body


def graph_error(response: requests.Response) -> tuple[int, str]:
    """(status, error.code), checking Graph's error shape on the way."""
    body = response.json()
    error = body["error"]
    assert set(error) == {"code", "message", "innerError"}, body
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"]), body
    return response.status_code, error["code"]
