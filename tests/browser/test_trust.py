"""The trust panels in headless Chromium, inside the LMS's iframe: the preview before Connect integration
(with users left out and why), then the health panel and the activity log; a screenshot of each."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bridge.graph.client import Graph
from bridge.trust import credentials
from bridge.worker.loop import Worker
from plugin.host import HostClient
from tests.browser.conftest import ACCOUNT, CLIENT_ID, SCREENSHOTS, Stack, open_section
from tests.page import lms_sample

pytestmark = pytest.mark.timeout(300)
EXTRA = [("u-pat", "Pat Policy", "pat@contoso.example"), ("u-zed", "Zed Foreign", "zed@fabrikam.example"),
         ("u-gus", "Gus Ghost", "gus@contoso.example")]


def panel_shot(locator: Any, name: str) -> None:
    """Screenshot one card of the page (into the screenshots folder the browser tests share)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def deliveries() -> list[tuple[str, dict[str, Any]]]:
    out = lms_sample.deliveries(datetime.now(UTC))
    for uid, name, mail in EXTRA:
        out.append(("user.upserted", {"id": uid, "email": mail, "name": name, "active": True, "role": "learner",
                                      "timezone": "Europe/Berlin", "version": 1}))
        out.append(("enrollment.upserted", {"event_id": "e-safety", "user_id": uid, "session_id": "s-1",
                                            "version": 1}))
    return out


def test_preview_before_connect_then_health_and_activity(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    admin = stack.emulator.admin
    admin.create_user(stack.tenant_id, "pat@contoso.example", mail="pat@contoso.example", display_name="Pat")
    admin.set_access_policy(stack.tenant_id, CLIENT_ID, [
        u["id"] for u in admin.users(stack.tenant_id) if u["userPrincipalName"] != "pat@contoso.example"])
    host = HostClient(stack.base_url, stack.settings.host_secret)
    sent = host.send_batch([host.delivery(t, ACCOUNT, d) for t, d in deliveries()])
    assert sent.status_code == 202, sent.text

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(stack.lms_page("owner", "u-owner"))
    plugin = page.frame_locator("#plugin")
    plugin.get_by_role("button", name="Connect", exact=True).click()
    link = plugin.locator("#consent-link").input_value()
    target = lms_sample.accept_on_emulator(link, stack.emulator.ca_path)
    assert requests.get(target, timeout=30).status_code == 200
    page.reload()
    expect(plugin.locator(".badge")).to_have_text("State: Consent received")

    # The preview, before Connect integration: nothing is written, users left out are listed with why
    plugin.get_by_role("button", name="Preview", exact=True).click()
    expect(plugin.get_by_role("status").first).to_contain_text("nothing is written to any mailbox")
    for _ in range(60):
        if plugin.get_by_text("nothing was written to any mailbox").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    card = plugin.locator("#preview")
    expect(card).to_contain_text("Preview: what connecting will do")
    expect(card.locator(".count").first).to_contain_text("3")
    rows = card.locator("table.users tbody tr")
    expect(rows).to_have_count(7)
    for name, reason in (("Oscar Oldserver", "Mailbox not in Exchange Online"), ("Gina Gmail", "Personal e-mail"),
                         ("Pat Policy", "application access policy"), ("Gus Ghost", "not found"),
                         ("Zed Foreign", "verified")):
        expect(rows.filter(has_text=name)).to_contain_text(reason, ignore_case=True)
    expect(plugin.get_by_role("button", name="Connect integration")).to_be_visible()
    assert all(not m["events"] for m in admin.mailboxes(stack.tenant_id).values())
    panel_shot(card, "30-preview")

    # Connect integration, a sync, a changed reminder: the health panel and the activity log
    plugin.get_by_role("button", name="Connect integration").click()
    expect(plugin.get_by_role("status").first).to_contain_text("Connected.")
    graph = Graph.from_settings(stack.settings)
    graph.tokens.on_outcome = credentials.recorder(stack.database)
    Worker(stack.database, graph, concurrency=4).drain(timeout=60)
    open_section(plugin, "Settings")
    plugin.get_by_label("Reminder (minutes before start)").fill("30")
    plugin.get_by_role("region", name="Reminder").get_by_role("button", name="Save").click()
    expect(plugin.get_by_role("status").first).to_contain_text("Reminder saved: 30 minutes")
    Worker(stack.database, graph, concurrency=4).drain(timeout=60)
    open_section(plugin, "Overview")
    health = plugin.locator("#health")
    expect(health).to_contain_text("95% within")
    expect(health).to_contain_text("Current client secret")
    expect(health).to_contain_text("Mailbox not in Exchange Online")
    panel_shot(health, "31-health")
    open_section(plugin, "Activity")
    activity = plugin.locator("#audit")
    expect(activity.locator("tbody tr")).to_have_count(2)
    expect(activity.locator("tbody tr").first).to_contain_text("30 minutes before the start")
    expect(activity.locator("tbody tr").nth(1)).to_contain_text("Connected the integration")
    expect(activity).to_contain_text("Olivia Owner")
    panel_shot(activity, "32-audit")
    context.close()
