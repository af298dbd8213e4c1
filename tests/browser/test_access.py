"""Only the LMS's people in headless Chromium, inside the LMS's iframe: the choice beside Connect, the
consent link of the second registration, the Exchange administrator's PowerShell block with Copy and
the two traps, then the preview's in/out list once Exchange scopes the app; axe-core on each state and
a screenshot of each (docs/screenshots/60-…)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from bridge.lms import grant
from plugin.host import HostClient
from tests.browser.conftest import ACCOUNT, SCOPED_CLIENT_ID, SCREENSHOTS, Stack
from tests.browser.pages import serious_violations
from tests.page import lms_sample

pytestmark = pytest.mark.timeout(300)
GROUP = "LMS people"


def shot(locator: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def exchange_admin_scopes_the_app(stack: Stack) -> None:
    """The block's effect, through the emulator's Exchange cmdlets: Olivia in the group, Ada not."""
    admin, tid = stack.emulator.admin, stack.tenant_id
    admin.set_limits(rbac_cache_idle_seconds=0, rbac_cache_max_seconds=0)
    group = admin.create_group(tid, GROUP, members=["olivia@contoso.example"])
    object_id = next(t for t in admin.tenants() if t["id"] == tid)["consents"][SCOPED_CLIENT_ID]["object_id"]
    admin.new_service_principal(tid, SCOPED_CLIENT_ID, object_id, grant.SCOPE_NAME)
    admin.new_management_scope(tid, grant.SCOPE_NAME, f"MemberOfGroup -eq '{group['distinguishedName']}'")
    admin.new_role_assignment(tid, grant.EXCHANGE_ROLE, SCOPED_CLIENT_ID, custom_resource_scope=grant.SCOPE_NAME)


def test_the_choice_the_block_and_the_in_out_list(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    host = HostClient(stack.base_url, stack.settings.host_secret)
    sent = host.send_batch([host.delivery(t, ACCOUNT, d) for t, d in lms_sample.deliveries(datetime.now(UTC))])
    assert sent.status_code == 202, sent.text
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    for origin in (stack.base_url, stack.lms_url):
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
    page = context.new_page()
    page.goto(stack.lms_page("owner", "u-owner"))
    plugin = page.frame_locator("#plugin")

    # The choice, before the consent link: the whole label chooses; the group is named in a labelled field
    choice = plugin.locator("fieldset.access-choice")
    expect(choice.get_by_role("radio", name="The whole organisation")).to_be_checked()
    choice.get_by_text("Only the LMS's people", exact=True).click()
    expect(choice.get_by_role("radio", name="Only the LMS's people")).to_be_checked()
    plugin.get_by_label("Mail-enabled security group of the LMS's people (for only the LMS's people)").fill(GROUP)
    assert serious_violations(page.frame(name="plugin")) == []
    shot(choice, "60-access-choice")
    plugin.get_by_role("button", name="Connect", exact=True).click()
    expect(plugin.get_by_role("status").first).to_contain_text("A new consent link is ready")
    link = plugin.locator("#consent-link").input_value()
    assert parse_qs(urlsplit(link).query)["client_id"] == [SCOPED_CLIENT_ID]

    # The Exchange administrator's block, with Copy and the two traps
    card = plugin.locator("#access")
    block = card.locator("#powershell-block").input_value()
    assert block == grant.powershell(SCOPED_CLIENT_ID, GROUP)
    card.get_by_role("button", name="Copy").click()
    expect(card.locator("#powershell-status")).to_have_text("Copied to the clipboard.")
    assert page.frame(name="plugin").evaluate("navigator.clipboard.readText()") == block
    expect(card).to_contain_text("Grants add up.")
    expect(card).to_contain_text("Only direct members count.")
    assert serious_violations(page.frame(name="plugin")) == []
    shot(card, "61-powershell-block")

    # Consent (directory permissions only), Exchange scopes the app, then the preview lists in and out
    target = lms_sample.accept_on_emulator(link, stack.emulator.ca_path)
    assert requests.get(target, timeout=30).status_code == 200
    exchange_admin_scopes_the_app(stack)
    page.reload()
    plugin.get_by_role("button", name="Preview", exact=True).click()
    for _ in range(60):
        if plugin.get_by_text("nothing was written to any mailbox").count():
            break
        page.wait_for_timeout(500)
        page.reload()
    preview = plugin.locator("#preview")
    expect(preview.locator("#scope-summary")).to_contain_text("In the plugin's scope in Exchange: 1 user")
    expect(preview.locator("#scope-summary")).to_contain_text("Outside it: 2 users")
    rows = preview.locator("table.users tbody tr")
    for name in ("Ada Lovelace", "Oscar Oldserver"):
        expect(rows.filter(has_text=name)).to_contain_text(f"add them to the group {GROUP}")
    assert serious_violations(page.frame(name="plugin")) == []
    shot(preview, "62-preview-in-out")
    assert all(not m["events"] for m in stack.emulator.admin.mailboxes(stack.tenant_id).values())
    context.close()
