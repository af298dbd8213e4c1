"""No secret ever reaches a log or a response, whatever the flow and however verbose the logging.

A representative flow runs with every logger at DEBUG (the root, and ``urllib3``, ``msal``,
``werkzeug`` and ``sqlalchemy`` explicitly; MSAL logs its HTTP exchanges at DEBUG): the plugin served
over real HTTP (werkzeug), signed hooks (single and batch) and forged ones (wrong secret, changed
body, stale timestamp, none), a forged launch and real ones, Connect, the Azure AD admin's consent on
the emulator's page, Connect integration with a wrong client secret and then the right one, a sync
under Graph faults (503, 429, ambiguous timeouts, resets), and the page's actions (reminder, retry,
resynchronise, CSV export, disconnect with removal).

Then neither the captured log text nor any answer of the plugin (body and headers) may contain the
client secret (right or wrong), the host secret, another account's host key secret (its hook for this
account refused), the secret key, any access token MSAL obtained, any ``X-Hook-Signature`` value sent,
or any launch token.

Only the log lines of this test's own HTTP clients about their requests to the plugin (the LMS and
the browser: urllib3 in the test's thread naming the plugin's port) are left out: they are the other
side's logs, and a browser does show the launch link it follows.
"""
from __future__ import annotations

import io
import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from bridge import logs
from bridge.accounts import host_keys
from bridge.config import Settings
from bridge.db import Database
from bridge.graph.auth import TokenSource
from bridge.graph.client import Graph
from bridge.models import DirtyKey
from bridge.worker.loop import Worker
from emulator.testing import EmulatorHandle
from plugin import create_app
from plugin.host import HostClient, dumps, launch_url
from plugin.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.page import lms_sample
from tests.reliability.harness import free_port, serving

CLIENT_ID = "1b7e1c9e-6d1f-4f7a-9d7e-00000000c0de"
ACCOUNT = "acct-secrets"
OTHER = "acct-secrets-other"
DOMAIN = lms_sample.DOMAIN
PAGE = "/integrations/outlook"
FAULTS = {"rate_503": 0.10, "rate_429": 0.05, "rate_ambiguous": 0.02, "rate_reset": 0.01,
          "ambiguous_hold_ms": 50, "retry_after_s": 0.2, "seed": 77}
VERBOSE = ("", "urllib3", "msal", "werkzeug", "sqlalchemy", "sqlalchemy.engine", "outlook_sync", "plugin", "bridge")


class Secrets:
    """Every secret value the flow handles, by kind."""

    def __init__(self) -> None:
        self.values: dict[str, set[str]] = {}

    def add(self, kind: str, value: str) -> str:
        self.values.setdefault(kind, set()).add(value)
        return value

    def found_in(self, text: str) -> list[str]:
        return sorted({kind for kind, values in self.values.items() for v in values if v and v in text})


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every access token MSAL hands to the product, wherever it is asked for."""
    issued: list[str] = []
    original = TokenSource.token

    def recording(self: TokenSource, tenant_id: str) -> str:
        token = original(self, tenant_id)
        issued.append(token)
        return token

    monkeypatch.setattr(TokenSource, "token", recording)
    yield issued


class Browser:
    """A browser (or the LMS's server) talking to the plugin; keeps every answer the plugin gave."""

    def __init__(self, answers: list[requests.Response]) -> None:
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.hooks["response"].append(lambda response, *args, **kwargs: answers.append(response))

    def page(self, base: str) -> requests.Response:
        return self.http.get(base + PAGE)

    def csrf(self, base: str) -> str:
        """The session's CSRF token, from the settings section (its forms are there in every state)."""
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.http.get(base + PAGE + "/settings").text)
        assert found, "no CSRF token on the page"
        return found.group(1)

    def post(self, base: str, path: str, **fields: str) -> requests.Response:
        return self.http.post(base + PAGE + path, data={"csrf_token": self.csrf(base), **fields},
                              allow_redirects=False)


def test_no_secret_in_logs_or_answers(emulator: EmulatorHandle, sqlite_database: Database,
                                      tokens: list[str], caplog: pytest.LogCaptureFixture,
                                      figures: dict[str, Any], request: pytest.FixtureRequest) -> None:
    for name in VERBOSE:
        caplog.set_level(logging.DEBUG, logger=name or None)
    found = Secrets()
    good_port, bad_port = free_port(), free_port()
    good_url, bad_url = f"http://127.0.0.1:{good_port}", f"http://127.0.0.1:{bad_port}"
    plugin_ports = (str(good_port), str(bad_port))
    json_lines = io.StringIO()  # the same records as OUTLOOK_SYNC_LOG_FORMAT=json writes them
    json_handler = logs.handler("json", json_lines)
    json_handler.addFilter(lambda record: not clients_line(record, plugin_ports))
    logging.getLogger().addHandler(json_handler)
    request.addfinalizer(lambda: logging.getLogger().removeHandler(json_handler))
    client_secret = found.add("client secret", "cs-" + secrets.token_urlsafe(24))
    wrong_secret = found.add("client secret (a wrong one)", "cs-" + secrets.token_urlsafe(24))
    host_secret = found.add("host secret", "hs-" + secrets.token_urlsafe(24))
    secret_key = found.add("secret key", "sk-" + secrets.token_urlsafe(24))

    admin = emulator.admin
    admin.reset("all")
    admin.register_app(CLIENT_ID, client_secret=client_secret,
                       redirect_uris=[u + PAGE + "/consent" for u in (good_url, bad_url)])
    tenant = admin.create_tenant("Contoso", [DOMAIN])["id"]
    for _uid, name, mail, _role, _active in lms_sample.PEOPLE:
        if not mail.endswith("@" + DOMAIN):
            continue
        admin.create_user(tenant, mail, mail=mail, display_name=name,
                          mailbox="on_premises" if mail.startswith("old@") else "exchange_online")

    def settings(public_url: str, secret: str) -> Settings:
        return Settings(host_secret=host_secret, secret_key=secret_key, client_id=CLIENT_ID, client_secret=secret,
                        database_url=sqlite_database.url, public_url=public_url, authority_url=emulator.base_url,
                        graph_url=emulator.graph_url, ca_bundle=emulator.ca_path, worker_concurrency=4)

    answers: list[requests.Response] = []
    good, bad = settings(good_url, client_secret), settings(bad_url, wrong_secret)
    with serving(create_app(good, sqlite_database), port=good_port), \
            serving(create_app(bad, sqlite_database), port=bad_port):
        lms = Browser(answers)
        host = HostClient(good_url, host_secret, session=lms.http)

        def hook(deliveries: list[tuple[str, dict[str, Any]]], *, key: str = host_secret,
                 stamp: int | None = None, tamper: bool = False, signed: bool = True) -> int:
            body = dumps({"deliveries": [host.delivery(t, ACCOUNT, d) for t, d in deliveries]})
            stamp = int(time.time()) if stamp is None else stamp
            headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(stamp)}
            if signed:
                headers[SIGNATURE_HEADER] = found.add("X-Hook-Signature", sign(key, stamp, body))
            sent = body + b"\n" if tamper else body  # still valid JSON, no longer the signed body
            return lms.http.post(good_url + "/hooks/batch", data=sent, headers=headers).status_code

        # hooks: valid ones, and every kind of forgery
        assert hook(lms_sample.deliveries(datetime.now(UTC))) == 202
        single = dumps(host.delivery("user.upserted", ACCOUNT, {
            "id": "u-zoe", "email": f"zoe@{DOMAIN}", "name": "Zoe", "active": True, "role": "learner",
            "version": 1}))
        headers = host.signed_headers(single)
        found.add("X-Hook-Signature", headers[SIGNATURE_HEADER])
        assert lms.http.post(good_url + "/hooks", data=single, headers=headers).status_code == 202
        forged = lms_sample.deliveries(datetime.now(UTC))[-1:]
        assert hook(forged, key="not-the-host-secret-0123456789") == 401
        assert hook(forged, tamper=True) == 401
        assert hook(forged, stamp=int(time.time()) - 3600) == 401
        assert hook(forged, signed=False) == 401

        # another account's own host key: it opens that account only; a hook for this one is refused and logged
        with sqlite_database.session() as session:
            made, key_secret = host_keys.create(session, secret_key, OTHER, datetime.now(UTC), timedelta(0))
        found.add("host key secret", key_secret)
        other = HostClient(good_url, key_secret, session=lms.http, key_id=made.id)
        assert other.user_state(OTHER, "u-kim").status_code == 404  # admitted: no such user there
        body = dumps(other.delivery("user.upserted", ACCOUNT, {
            "id": "u-kim", "email": f"kim@{DOMAIN}", "name": "Kim", "active": True, "role": "learner", "version": 1}))
        headers = other.signed_headers(body)
        found.add("X-Hook-Signature", headers[SIGNATURE_HEADER])
        assert lms.http.post(good_url + "/hooks", data=body, headers=headers).status_code == 403

        # launches: a forged one, then the owner's on the plugin that has the wrong client secret
        browser = Browser(answers)

        def launch(base: str, secret: str = host_secret) -> requests.Response:
            url = launch_url(base, secret, ACCOUNT, "u-owner", "owner")
            found.add("launch token", parse_qs(urlsplit(url).query)["launch"][0])
            return browser.http.get(url)

        assert launch(bad_url, secret="not-the-host-secret-0123456789").status_code == 403
        assert launch(bad_url).status_code == 200
        assert browser.post(bad_url, "/connect").status_code == 303
        link = re.search(r'id="consent-link"[^>]*value="([^"]+)"', browser.page(bad_url).text)
        assert link, "no consent link after Connect"
        target = lms_sample.accept_on_emulator(link.group(1).replace("&amp;", "&"), emulator.ca_path)
        assert browser.http.get(urljoin(bad_url, target)).status_code == 200
        refused = browser.post(bad_url, "/activate")
        assert refused.status_code == 409, refused.text
        # the right secret (the other installation), a fresh launch
        assert launch(good_url).status_code == 200
        assert browser.post(good_url, "/activate").status_code == 303

        # a sync under Graph faults, then the page's actions and another sync
        admin.set_faults(**FAULTS)
        graph = Graph.from_settings(good)
        drain(sqlite_database, graph)
        assert hook([("enrollment.upserted", {"event_id": "e-safety", "user_id": "u-nina", "session_id": "s-2",
                                              "version": 2})]) == 202
        assert browser.post(good_url, "/reminder", reminder_minutes="30").status_code == 303
        assert browser.post(good_url, "/users/u-ada/retry").status_code == 303
        assert browser.post(good_url, "/resync").status_code == 303
        assert browser.http.get(good_url + PAGE + "/users.csv").status_code == 200
        drain(sqlite_database, graph)
        assert browser.http.get(good_url + PAGE + "/disconnect").status_code == 200
        assert browser.post(good_url, "/disconnect", confirm="yes", remove_entries="yes").status_code == 303
        drain(sqlite_database, graph)
        assert browser.page(good_url).status_code == 200
        counters = admin.counters()
        admin.reset("faults")
        graph.close()

    for token in tokens:
        found.add("access token", token)
    assert tokens, "MSAL issued no token: the flow did not reach Graph"
    logged = [r for r in caplog.records if not clients_line(r, plugin_ports)]
    leaks: dict[str, str] = {}
    for record in logged:
        text = record.getMessage() + (record.exc_text or "")
        if record.exc_info and not record.exc_text:
            text += logging.Formatter().formatException(record.exc_info)
        kinds = found.found_in(text)
        if kinds:
            leaks.setdefault(f"{record.name} ({', '.join(kinds)})", text[:300])
    assert not leaks, f"secrets in the log: {leaks}"
    lines = json_lines.getvalue().splitlines()
    assert len(lines) >= len(logged) > 0
    for line in lines:
        assert {"time", "level", "logger", "message"} <= json.loads(line).keys()
        assert not found.found_in(line), (line[:200], found.found_in(line))
    assert any('"delivery": ' in line and '"account": ' in line for line in lines)
    for answer in answers:
        if answer.url.startswith((good_url, bad_url)):
            shown = answer.text + "".join(f"{k}: {v}\n" for k, v in answer.headers.items())
            assert not found.found_in(shown), (answer.url.split("?")[0], found.found_in(shown))

    by_logger: dict[str, int] = {}
    for record in logged:
        top = record.name.split(".")[0]
        by_logger[top] = by_logger.get(top, 0) + 1
    figures.update(log_records_checked=len(logged), records_by_logger=by_logger,
                   plugin_answers_checked=sum(a.url.startswith((good_url, bad_url)) for a in answers),
                   secret_values_checked={k: len(v) for k, v in found.values.items()},
                   graph_faults_injected=counters["faults"])


def clients_line(record: logging.LogRecord, plugin_ports: tuple[str, ...]) -> bool:
    """A line of the test's own HTTP clients about a request to the plugin (the other side's log)."""
    args = record.args if isinstance(record.args, tuple) else ()
    return (record.threadName == "MainThread" and record.name.startswith("urllib3")
            and any(str(a) in plugin_ports for a in args))


def drain(database: Database, graph: Graph) -> None:
    from sqlalchemy import func, select

    worker = Worker(database, graph, concurrency=4)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        worker.drain(timeout=120)
        with database.session() as session:
            if not session.scalar(select(func.count()).select_from(DirtyKey)):
                return
    raise AssertionError("the worker did not finish")
