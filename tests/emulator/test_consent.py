"""The admin-consent page and its redirects, exactly as Entra ID's v2.0 endpoint sends them."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests

from emulator.testing import EmulatorHandle
from tests.emulator.emu_support import REDIRECT, ROLES, SCOPE, SECRET, session


class Form(HTMLParser):
    """Collects inputs, buttons and labels of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.buttons: list[str] = []
        self.labels: dict[str, str] = {}
        self.inputs: list[dict[str, str]] = []
        self.action = ""
        self._in: str | None = None
        self._label_for = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        if tag == "input":
            self.inputs.append(a)
            if a.get("type") == "hidden":
                self.hidden[a["name"]] = a.get("value", "")
        if tag in ("button", "label"):
            self._in = tag
            self._label_for = a.get("for", "")

    def handle_data(self, data: str) -> None:
        if self._in == "button":
            self.buttons.append(data.strip())
        elif self._in == "label":
            self.labels[self._label_for] = data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None


def setup(emu: EmulatorHandle) -> tuple[str, str]:
    tenant = emu.admin.create_tenant("Fabrikam", ["fabrikam.com"])
    client_id = str(uuid.uuid4())
    emu.admin.register_app(
        client_id,
        client_secret=SECRET,
        redirect_uris=[REDIRECT],
        required_roles=ROLES,
        display_name="Outlook Calendar for the LMS",
    )
    return tenant["id"], client_id


def consent_url(emu: EmulatorHandle, tenant: str, client_id: str, **extra: str) -> str:
    params = {"client_id": client_id, "scope": SCOPE, "redirect_uri": REDIRECT, "state": "st-123/xyz+=", **extra}
    return f"{emu.base_url}/{tenant}/v2.0/adminconsent?{urlencode(params)}"


def page(emu: EmulatorHandle, url: str) -> tuple[requests.Response, Form]:
    response = session(emu).get(url, allow_redirects=False)
    form = Form()
    form.feed(response.text)
    return response, form


def submit(emu: EmulatorHandle, form: Form, action: str, **fields: str) -> requests.Response:
    data = {**form.hidden, "action": action, **fields}
    return session(emu).post(emu.base_url + form.action, data=data, allow_redirects=False)


def test_page_names_app_and_permissions_with_accept_and_cancel(emu: EmulatorHandle) -> None:
    tenant_id, client_id = setup(emu)
    response, form = page(emu, consent_url(emu, tenant_id, client_id))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Outlook Calendar for the LMS" in response.text
    for role in ROLES:
        assert role in response.text
    assert form.buttons == ["Accept", "Cancel"]
    assert form.hidden == {"client_id": client_id, "scope": SCOPE, "redirect_uri": REDIRECT, "state": "st-123/xyz+="}
    assert '<html lang="en">' in response.text and "<script" not in response.text and "http://" not in response.text


def test_accept_grants_and_redirects_with_exact_params(emu: EmulatorHandle) -> None:
    tenant_id, client_id = setup(emu)
    _, form = page(emu, consent_url(emu, tenant_id, client_id))
    response = submit(emu, form, "accept")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location == (
        f"{REDIRECT}?admin_consent=True&tenant={tenant_id}"
        "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&state=st-123%2Fxyz%2B%3D"
    )
    token = session(emu).post(
        f"{emu.base_url}/{tenant_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": SECRET, "scope": SCOPE},
    )
    assert token.status_code == 200


def test_cancel_redirects_with_consent_required(emu: EmulatorHandle) -> None:
    tenant_id, client_id = setup(emu)
    _, form = page(emu, consent_url(emu, tenant_id, client_id))
    response = submit(emu, form, "cancel")
    assert response.status_code == 302
    assert response.headers["location"] == (
        f"{REDIRECT}?admin_consent=True&error=consent_required"
        "&error_description=AADSTS65004%3A+User+declined+to+consent+to+access+the+app."
        "&state=st-123%2Fxyz%2B%3D"
    )
    token = session(emu).post(
        f"{emu.base_url}/{tenant_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": SECRET, "scope": SCOPE},
    )
    assert token.json()["error_codes"] == [7000229]


def test_state_omitted_when_absent(emu: EmulatorHandle) -> None:
    tenant_id, client_id = setup(emu)
    url = f"{emu.base_url}/{tenant_id}/v2.0/adminconsent?" + urlencode(
        {"client_id": client_id, "scope": SCOPE, "redirect_uri": REDIRECT}
    )
    _, form = page(emu, url)
    assert "state" not in form.hidden
    query = dict(parse_qsl(urlsplit(submit(emu, form, "accept").headers["location"]).query))
    assert "state" not in query and query["admin_consent"] == "True"


def test_organizations_asks_for_administrator_account(emu: EmulatorHandle) -> None:
    tenant_id, client_id = setup(emu)
    _, form = page(emu, consent_url(emu, "organizations", client_id))
    field = next(i for i in form.inputs if i.get("name") == "admin_account")
    assert form.labels[field["id"]] == "Administrator account"
    again = submit(emu, form, "accept", admin_account="admin@unknown.example")
    assert again.status_code == 200
    assert "unknown.example" in again.text and 'role="alert"' in again.text
    done = submit(emu, form, "accept", admin_account="admin@FABRIKAM.com")
    assert done.status_code == 302
    assert dict(parse_qsl(urlsplit(done.headers["location"]).query))["tenant"] == tenant_id


def test_unregistered_redirect_uri_is_an_error_page(emu: EmulatorHandle) -> None:
    tenant_id, client_id = setup(emu)
    response, _ = page(emu, consent_url(emu, tenant_id, client_id, redirect_uri="https://evil.example/cb"))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "AADSTS50011" in response.text


def test_unknown_client_is_an_error_page(emu: EmulatorHandle) -> None:
    tenant_id, _ = setup(emu)
    response, _ = page(emu, consent_url(emu, tenant_id, str(uuid.uuid4())))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert re.search(r"AADSTS700016", response.text)
