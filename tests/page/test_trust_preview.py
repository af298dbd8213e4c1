"""The preview before connecting: what switching on will do, with every user left out and why, found with
read-only look-ups against the real emulator; nothing written to any mailbox; still there after connecting."""
from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient

from bridge.codes import AuditAction, PreviewState
from bridge.config import Settings
from bridge.db import Database
from bridge.trust import audit, preview_store
from emulator.testing import EmulatorHandle
from plugin import words
from tests.page import lms_sample
from tests.page.conftest import ACCOUNT, CLIENT_ID, Launch, Tenant, csrf, emulator_settings, every_section, user
from tests.page.test_connect import activate, consent, drain

PAGE = "/integrations/outlook"
EXTRA = [user("u-pat", "pat@contoso.example", "Pat Policy"), user("u-zed", "zed@fabrikam.example", "Zed Foreign"),
         user("u-ghost", "ghost@contoso.example", "Gus Ghost")]
EXPECTED = {  # user → (entries, reason)
    "u-owner": (2, None), "u-ada": (1, None),
    "u-old": (0, "mailbox_not_in_exchange_online"), "u-gina": (0, "personal_email"),
    "u-nina": (0, "no_session_chosen"), "u-ivan": (0, "inactive"),
    "u-pat": (0, "access_denied_by_policy"), "u-zed": (0, "domain_not_in_tenant"), "u-ghost": (0, "user_not_found"),
}


@pytest.fixture
def settings(database: Database, emulator: EmulatorHandle) -> Settings:
    return emulator_settings(database, emulator)


def with_policy_and_sample(tenant: Tenant, hooks: Callable[..., object]) -> None:
    """The sample LMS plus three users: one outside the app's access policy, one at a domain the tenant
    has not verified, one the tenant does not know."""
    admin = tenant.handle.admin
    admin.create_user(tenant.id, "pat@contoso.example", mail="pat@contoso.example", display_name="Pat")
    allowed = [u["id"] for u in admin.users(tenant.id) if u["userPrincipalName"] != "pat@contoso.example"]
    admin.set_access_policy(tenant.id, CLIENT_ID, allowed)
    hooks(ACCOUNT, lms_sample.deliveries(datetime.now(UTC)) + EXTRA + [
        ("enrollment.upserted", {"event_id": "e-safety", "user_id": uid, "session_id": "s-1", "version": 1})
        for uid in ("u-pat", "u-zed", "u-ghost")])


def lines(database: Database) -> dict[str, tuple[int, str | None]]:
    with database.session() as session:
        return {x.user_id: (x.entries, x.reason)
                for x in preview_store.every_line(session, ACCOUNT, offset=0, limit=100)}


def test_preview_before_connecting_writes_nothing_and_says_why(
        client: FlaskClient, launch: Launch, database: Database, settings: Settings, tenant: Tenant,
        emulator: EmulatorHandle, hooks: Callable[..., object]) -> None:
    with_policy_and_sample(tenant, hooks)
    launch("owner", user_id="u-owner")
    assert consent(client, emulator).startswith("200")
    client.application.config["PREVIEW_INLINE"] = True
    seq = max([r["seq"] for r in emulator.admin.requests_log()] or [0])
    answer = client.post(f"{PAGE}/preview", data={"csrf_token": csrf(client)})
    assert answer.status_code == 303

    assert lines(database) == EXPECTED
    calls = emulator.admin.requests_log(since=seq)
    # only reads: GETs, alone or inside a $batch envelope (whose items the emulator logs one by one)
    assert calls and all(r["method"] == "GET" for r in calls
                         if r["kind"] != "identity" and not r["path"].endswith("/$batch"))
    assert all(not m["events"] for m in emulator.admin.mailboxes(tenant.id).values())

    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "Preview: what connecting will do" in page and ">Connect integration</button>" in page
    assert "3</span>\n        <span class=\"count-label\">entries to make" in page
    for reason in ("mailbox_not_in_exchange_online", "personal_email", "no_session_chosen", "inactive",
                   "access_denied_by_policy", "domain_not_in_tenant", "user_not_found"):
        assert words.user_reason(reason) in page
    for name in ("Pat Policy", "Zed Foreign", "Gus Ghost", "Oscar Oldserver", "Gina Gmail"):
        assert name in page

    exported = list(csv.reader(io.StringIO(client.get(f"{PAGE}/preview.csv").get_data(as_text=True))))
    assert exported[0] == ["user_id", "name", "email", "entries", "reason", "reason_text"]
    assert {row[0]: (int(row[3]), row[4] or None) for row in exported[1:]} == EXPECTED

    # Connect integration: the preview stays, can be refreshed, and the health panel appears.
    assert activate(client)[0] == 303
    drain(database, settings)
    assert client.post(f"{PAGE}/preview", data={"csrf_token": csrf(client)}).status_code == 303
    assert lines(database) == EXPECTED
    page = html.unescape(every_section(client))
    assert "Preview: what syncing does" in page and "Refresh preview" in page
    assert 'id="health-title">Health' in page and "95% within" in page
    assert "Connected the integration" in page and "9 users queued for their first sync" in page
    with database.session() as session:
        recorded, _ = audit.lines(session, ACCOUNT)
    assert [r.action for r in recorded] == [AuditAction.CONNECTED]


def test_preview_is_for_managers_after_consent(client: FlaskClient, launch: Launch, database: Database,
                                               tenant: Tenant, hooks: Callable[..., object]) -> None:
    launch("owner", user_id="u-owner")
    answer = client.post(f"{PAGE}/preview", data={"csrf_token": csrf(client)})
    assert answer.status_code == 409 and "needs the Azure AD administrator" in answer.get_data(as_text=True)
    launch("learner", user_id="u-ada")
    assert client.post(f"{PAGE}/preview", data={"csrf_token": csrf(client)}).status_code == 403
    assert client.get(f"{PAGE}/preview.csv").status_code == 403
    with database.session() as session:
        assert preview_store.summary(session, ACCOUNT) is None


def test_a_tenant_refusal_stops_the_preview_and_says_why(
        client: FlaskClient, launch: Launch, database: Database, tenant: Tenant, emulator: EmulatorHandle,
        hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, lms_sample.deliveries(datetime.now(UTC)))
    launch("owner", user_id="u-owner")
    assert consent(client, emulator).startswith("200")
    emulator.admin.revoke_consent(tenant.id, CLIENT_ID)
    client.application.config["PREVIEW_INLINE"] = True
    assert client.post(f"{PAGE}/preview", data={"csrf_token": csrf(client)}).status_code == 303
    with database.session() as session:
        summary = preview_store.summary(session, ACCOUNT)
    assert summary is not None and summary.state == PreviewState.FAILED and summary.error == "consent_missing"
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "The preview stopped: " + " ".join(words.connection_reason("consent_missing") or ()) in page
