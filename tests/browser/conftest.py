"""The real app served over HTTP beside the emulator and a stand-in LMS page, and headless Chromium.

The LMS page embeds the settings page in an iframe, as the LMS does (its origin is the plugin's
allowed frame ancestor); Chromium is the system's (``/usr/bin/chromium``), never a download.
"""
from __future__ import annotations

import os
import secrets
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from bridge.config import Settings
from bridge.db import Database
from bridge.migrate import upgrade
from emulator.testing import EmulatorHandle, running_emulator
from plugin import create_app
from plugin.host import launch_url

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CLIENT_ID = "5f0e7a52-0a9e-4e57-9c1b-00000000b055"
# The second registration, for "only the LMS's people": directory permissions only (bridge.lms.grant).
SCOPED_CLIENT_ID = "5f0e7a52-0a9e-4e57-9c1b-00000000b056"
DIRECTORY_ONLY = ["User.Read.All", "Domain.Read.All"]
ACCOUNT = "acme"
# Screenshots go to a temporary folder, so a test run leaves the tracked files alone;
# OUTLOOK_SYNC_SCREENSHOTS=docs/screenshots refreshes the README's pictures.
SCREENSHOTS = Path(os.environ.get("OUTLOOK_SYNC_SCREENSHOTS")
                   or Path(tempfile.gettempdir()) / f"outlook-sync-screenshots-{os.getuid()}")

if not Path(CHROMIUM).exists():  # pragma: no cover - the test command installs it
    pytest.skip(f"browser tests need Chromium at {CHROMIUM}", allow_module_level=True)


@dataclass
class Stack:
    """Everything the browser test drives."""

    base_url: str
    lms_url: str
    settings: Settings
    database: Database
    emulator: EmulatorHandle
    tenant_id: str

    def launch(self, role: str, user_id: str, locale: str | None = None) -> str:
        return launch_url(self.base_url, self.settings.host_secret, ACCOUNT, user_id, role, locale)

    def lms_page(self, role: str, user_id: str, locale: str | None = None) -> str:
        """The LMS's settings page for a user; ``locale`` is the user's language in the LMS."""
        language = f"&locale={locale}" if locale else ""
        return f"{self.lms_url}/settings/integrations/outlook?role={role}&user={user_id}{language}"


def open_section(frame: Any, name: str) -> None:
    """Go to a section of the page by its link in the sections' navigation (``frame``: a page or frame locator)."""
    frame.locator("nav.sections").get_by_role("link", name=name, exact=True).click()


def _serve(app: Any) -> tuple[BaseWSGIServer, threading.Thread]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def lms_app(stack: dict[str, Stack]) -> Any:
    """A stand-in LMS: its Settings → Integrations page embeds the plugin with a fresh launch link (below
    its menu on a phone or a tablet, as Moodle's drawer folds away there)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        role, user = query.get("role", ["owner"])[0], query.get("user", ["u-owner"])[0]
        src = stack["s"].launch(role, user, query.get("locale", [None])[0])
        body = LMS_PAGE.format(src=escape(src), role=escape(role))
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body.encode()]

    return app


LMS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Learning · Settings</title>
<style>
body{{margin:0;font-family:system-ui,sans-serif;background:#eef0f3;color:#1f2328}}
.top{{background:#24292f;color:#fff;padding:.8rem 1.5rem;font-weight:600}}
.top span{{font-weight:400;opacity:.8;float:right}}
.wrap{{display:flex;gap:1.5rem;padding:1.5rem}}
nav{{width:13rem;flex:none;font-size:.9rem}} nav p{{margin:.1rem 0;padding:.45rem .7rem;border-radius:6px}}
nav .on{{background:#fff;font-weight:600}}
iframe{{flex:1;border:1px solid #d0d7de;border-radius:8px;background:#f6f8fa;height:1880px}}
@media (max-width:48rem){{.wrap{{flex-direction:column;gap:.5rem;padding:.5rem}}
nav{{width:auto;display:flex;flex-wrap:wrap}} iframe{{flex:none;width:100%}}}}
</style></head><body>
<div class="top">Acme Learning <span>Signed in as {role}</span></div>
<div class="wrap"><nav aria-label="Settings"><p>General</p><p>Users</p><p>Roles</p><p class="on">Integrations</p>
<p>Billing</p></nav>
<iframe id="plugin" name="plugin" title="Microsoft Outlook Calendar" src="{src}"
 allow="clipboard-read; clipboard-write"></iframe></div></body></html>"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    holder: dict[str, Any] = {}
    plugin_server, _ = _serve(lambda environ, start: holder["app"](environ, start))
    lms_holder: dict[str, Stack] = {}
    lms_server, _ = _serve(lms_app(lms_holder))
    base_url = f"http://127.0.0.1:{plugin_server.server_port}"
    lms_url = f"http://127.0.0.1:{lms_server.server_port}"
    path = tmp_path_factory.mktemp("browser") / "outlook.sqlite3"
    database = Database(f"sqlite:///{path}")
    upgrade(database.engine)
    secret = secrets.token_urlsafe(24)
    with running_emulator() as emulator:
        emulator.admin.register_app(CLIENT_ID, client_secret=secret,
                                    redirect_uris=[f"{base_url}/integrations/outlook/consent"])
        emulator.admin.register_app(SCOPED_CLIENT_ID, client_secret=secret, required_roles=DIRECTORY_ONLY,
                                    redirect_uris=[f"{base_url}/integrations/outlook/consent"])
        tenant = emulator.admin.create_tenant("Contoso", ["contoso.example"])
        for name, kind in (("olivia", "exchange_online"), ("ada", "exchange_online"), ("old", "on_premises"),
                           ("nina", "exchange_online")):
            emulator.admin.create_user(tenant["id"], f"{name}@contoso.example", mail=f"{name}@contoso.example",
                                       display_name=name.capitalize(), mailbox=kind)
        settings = Settings(
            host_secret=secrets.token_urlsafe(24), secret_key=secrets.token_urlsafe(24), client_id=CLIENT_ID,
            client_secret=secret, database_url=database.url, public_url=base_url,
            authority_url=emulator.base_url, graph_url=emulator.graph_url, ca_bundle=emulator.ca_path,
            frame_ancestors=f"'self' {lms_url}", worker_concurrency=4,
            scoped_client_id=SCOPED_CLIENT_ID, scoped_client_secret=secret,
        )
        holder["app"] = create_app(settings, database)
        lms_holder["s"] = made = Stack(base_url, lms_url, settings, database, emulator, tenant["id"])
        try:
            yield made
        finally:
            plugin_server.shutdown()
            lms_server.shutdown()
            database.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(autouse=True)
def _no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
