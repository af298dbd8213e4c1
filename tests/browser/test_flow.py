"""The whole flow in headless Chromium, inside the LMS's iframe, with a screenshot of each state.

Owner: launch, Connect, Copy (the clipboard holds the link); the Azure AD admin, in another browser,
opens the link and presses Accept on the emulator's consent page and sees the callback page; the owner
presses Connect integration, the worker syncs, users show with their reasons, the reminder changes in
the mailboxes, a revoked consent suspends and Connect integration resumes, and Disconnect (with
removal) empties the mailboxes. A learner's launch shows no control and every action answers 403.
"""
from __future__ import annotations

from typing import Any

import pytest

from bridge.accounts import connection
from bridge.codes import ConnectionState
from bridge.graph.client import Graph
from bridge.worker.loop import Worker
from plugin.host import HostClient
from tests.browser.conftest import ACCOUNT, CLIENT_ID, SCREENSHOTS, Stack, open_section
from tests.page import lms_sample

pytestmark = pytest.mark.timeout(300)
ACTIONS = ["connect", "activate", "reminder", "disconnect", "users/u-ada/retry", "resync"]


def drain(stack: Stack) -> None:
    """What the worker process does between page views (a fresh Graph client each time, as after a restart)."""
    Worker(stack.database, Graph.from_settings(stack.settings), concurrency=4).drain(timeout=60)


def shot(page: Any, name: str) -> None:
    """Screenshot the LMS page with the plugin's frame grown to its content."""
    frame = page.frame(name="plugin")
    if frame is not None:
        height = frame.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")
        page.evaluate(f"document.getElementById('plugin').style.height = '{height + 24}px'")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def events(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    return {m["userPrincipalName"]: m["events"] for m in stack.emulator.admin.mailboxes(stack.tenant_id).values()}


def state(stack: Stack) -> str:
    with stack.database.session() as session:
        return connection.connection(session, ACCOUNT).state


def test_owner_connects_syncs_changes_the_reminder_and_disconnects(stack: Stack, browser: Any) -> None:
    from datetime import UTC, datetime

    from playwright.sync_api import expect

    host = HostClient(stack.base_url, stack.settings.host_secret)
    sent = host.send_batch([host.delivery(t, ACCOUNT, d) for t, d in lms_sample.deliveries(datetime.now(UTC))])
    assert sent.status_code == 202, sent.text

    owner_context = browser.new_context(viewport={"width": 1280, "height": 860})
    for origin in (stack.base_url, stack.lms_url):  # the frame's permission is delegated by the LMS page
        owner_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = owner_context.new_page()
    page.goto(stack.lms_page("owner", "u-owner"))
    plugin = page.frame_locator("#plugin")
    expect(plugin.get_by_role("heading", name="Microsoft Outlook Calendar")).to_be_visible()
    expect(plugin.locator(".badge")).to_have_text("State: Not connected")
    shot(page, "01-not-connected")

    # Connect, from the keyboard (with a visible focus ring): the consent link, and Copy puts it on the clipboard
    connect = plugin.get_by_role("button", name="Connect", exact=True)
    connect.focus()
    assert "rgb(15, 108, 189)" in connect.evaluate("button => getComputedStyle(button).boxShadow")
    page.keyboard.press("Enter")
    expect(plugin.get_by_role("status").first).to_contain_text("A new consent link is ready")
    link = plugin.locator("#consent-link").input_value()
    assert link.startswith(f"{stack.emulator.base_url}/organizations/v2.0/adminconsent?")
    plugin.get_by_role("button", name="Copy").click()
    expect(plugin.locator("#copy-status")).to_have_text("Copied to the clipboard.")
    assert page.frame(name="plugin").evaluate("navigator.clipboard.readText()") == link
    expect(plugin.get_by_text("Consent has not arrived yet.")).to_be_visible()
    shot(page, "02-link-issued")

    # The Azure AD administrator, in another browser, accepts on the emulator's consent page
    admin_context = browser.new_context(ignore_https_errors=True, viewport={"width": 1000, "height": 700})
    admin = admin_context.new_page()
    admin.goto(link)
    expect(admin.get_by_role("heading", name="Permissions requested")).to_be_visible()
    admin.get_by_label("Administrator account").fill("olivia@contoso.example")
    shot(admin, "03-emulator-consent")
    admin.get_by_role("button", name="Accept").click()
    admin.wait_for_url(f"{stack.base_url}/integrations/outlook/consent?*")
    expect(admin.get_by_role("heading", name="Consent given")).to_be_visible()
    expect(admin.get_by_text(stack.tenant_id)).to_be_visible()
    shot(admin, "04-callback-accepted")
    admin_context.close()

    # Back in the LMS: consent received, Connect integration
    page.reload()
    expect(plugin.locator(".badge")).to_have_text("State: Consent received")
    expect(plugin.get_by_text(stack.tenant_id)).to_be_visible()
    shot(page, "05-consent-received")
    plugin.get_by_role("button", name="Connect integration").click()
    expect(plugin.get_by_role("status").first).to_contain_text("Connected.")
    drain(stack)
    page.reload()
    expect(plugin.locator(".badge")).to_have_text("State: Connected")
    expect(plugin.get_by_text("Olivia Owner").first).to_be_visible()
    expect(plugin.locator("#attention")).to_contain_text("1 user could not be synced")  # the on-premises mailbox
    shot(page, "06-connected")
    open_section(plugin, "Users")
    rows = plugin.locator("section[aria-labelledby=users-title] table.users tbody tr")
    expect(rows).to_have_count(len(lms_sample.PEOPLE))
    expect(rows.filter(has_text="Gina Gmail")).to_contain_text("Personal e-mail address (not synced)")
    expect(rows.filter(has_text="Oscar Oldserver")).to_contain_text(
        "Mailbox not in Exchange Online (on-premises or unlicensed): move it to Exchange Online")
    expect(rows.filter(has_text="Ada Lovelace")).to_contain_text("Synced")
    shot(page, "12-users")
    assert {e["reminderMinutesBeforeStart"] for e in events(stack)["ada@contoso.example"]} == {15}

    # The reminder, in the settings: a new number of minutes reaches the existing entries
    open_section(plugin, "Settings")
    plugin.get_by_label("Reminder (minutes before start)").fill("30")
    plugin.get_by_role("region", name="Reminder").get_by_role("button", name="Save").click()
    expect(plugin.get_by_role("status").first).to_contain_text("Reminder saved: 30 minutes")
    drain(stack)
    mailboxes = events(stack)
    assert {e["reminderMinutesBeforeStart"] for e in mailboxes["ada@contoso.example"]} == {30}
    assert {e["reminderMinutesBeforeStart"] for e in mailboxes["olivia@contoso.example"]} == {30}

    # A learner sees the page read-only, and every action answers 403
    learner_context = browser.new_context(viewport={"width": 1280, "height": 860})
    learner = learner_context.new_page()
    learner.goto(stack.lms_page("learner", "u-ada"))
    learner_plugin = learner.frame_locator("#plugin")
    expect(learner_plugin.get_by_text("You can see this page, but only the account owner and administrators")) \
        .to_be_visible()
    for name in ("Connect", "Connect integration", "Disconnect", "Save", "Retry", "Resynchronise all"):
        expect(learner_plugin.get_by_role("button", name=name, exact=True)).to_have_count(0)
    shot(learner, "09-learner-read-only")
    for action in ACTIONS:
        answer = learner.request.post(f"{stack.base_url}/integrations/outlook/{action}",
                                      form={"reminder_minutes": "1", "confirm": "yes"})
        assert answer.status == 403, action
    assert learner.request.get(f"{stack.base_url}/integrations/outlook/users.csv").status == 403
    learner_context.close()

    # Consent revoked in Azure AD, then the event changes: syncing stops and the page says why
    stack.emulator.admin.revoke_consent(stack.tenant_id, CLIENT_ID)
    [(_, event)] = [(t, d) for t, d in lms_sample.deliveries(datetime.now(UTC)) if t == "event.upserted"]
    assert host.send("event.upserted", ACCOUNT, {**event, "title": "Safety training (new room)",
                                                 "version": 2}).status_code == 202
    drain(stack)
    assert state(stack) == ConnectionState.SUSPENDED
    open_section(plugin, "Overview")
    expect(plugin.locator(".badge")).to_have_text("State: Suspended")
    expect(plugin.get_by_text("Consent was revoked in Azure AD")).to_be_visible()
    shot(page, "07-suspended")

    # Consent given again: Connect integration resumes from the LMS's current state
    stack.emulator.admin.grant_consent(stack.tenant_id, CLIENT_ID)
    plugin.get_by_role("button", name="Connect integration").click()
    expect(plugin.locator(".badge")).to_have_text("State: Connected")
    open_section(plugin, "Users")
    plugin.get_by_role("button", name="Resynchronise all").click()
    expect(plugin.get_by_role("status").first).to_contain_text(
        f"All {len(lms_sample.PEOPLE)} users will be synchronised again shortly.")
    drain(stack)
    assert {e["subject"] for e in events(stack)["ada@contoso.example"]} == {"Safety training (new room) — Morning"}

    # Disconnect (on the overview, apart from everyday controls), with the confirmation step, removing the
    # future entries
    open_section(plugin, "Overview")
    plugin.get_by_role("link", name="Disconnect").click()
    expect(plugin.get_by_role("heading", name="Disconnect Outlook Calendar?")).to_be_visible()
    plugin.get_by_label("Also remove the future entries the plugin made").check()
    shot(page, "08-disconnect-confirm")
    plugin.get_by_role("button", name="Disconnect").click()
    expect(plugin.get_by_role("status").first).to_contain_text("Disconnected.")
    drain(stack)
    drain(stack)  # a new worker's first housekeeping finishes the disconnect
    assert state(stack) == ConnectionState.DISCONNECTED
    assert all(not entries for entries in events(stack).values())
    page.reload()
    expect(plugin.locator(".badge")).to_have_text("State: Not connected")
    owner_context.close()
