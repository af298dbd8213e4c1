"""The page's sections in headless Chromium, inside the LMS's iframe: every view of every state at a phone's,
a tablet's and a desktop's width, in English and Russian, checked by axe-core (no serious or critical
violation) and measured (nothing scrolls sideways, no control touches its card's edge); what needs
attention above the fold at 1280 px; the page by keyboard alone; radio buttons beside their labels.

Screenshots (``40-`` to ``45-``): the overview with something needing attention, the settings and the
activity, the overview in Russian at 1280 and 390 px.
"""
from __future__ import annotations

from typing import Any

import pytest

from bridge.codes import ConnectionState, TenantReason
from tests.browser import pages
from tests.browser.conftest import Stack
from tests.browser.test_flow import shot

pytestmark = pytest.mark.timeout(300)
WIDTHS = {390: 844, 768: 1024, 1280: 800}
SHOTS = {("overview", "en", 1280): "40-overview-attention", ("settings", "en", 1280): "41-settings",
         ("activity", "en", 1280): "42-activity", ("users-failed", "en", 1280): "43-users-failed",
         ("overview", "ru", 1280): "44-overview-ru", ("overview", "ru", 390): "45-overview-ru-390"}


@pytest.fixture(scope="module")
def account(stack: Stack) -> Stack:
    pages.populate(stack)
    return stack


def frame_of(page: Any) -> Any:
    frame = page.frame(name="plugin")
    assert frame is not None
    return frame


def open_view(page: Any, stack: Stack, view: pages.View, locale: str) -> Any:
    """Launch ``view``'s role in the LMS page (a fresh launch each time), then go to its address in the frame."""
    page.goto(stack.lms_page(view.role, f"u-{view.role}" if view.role != "owner" else "u-owner", locale))
    frame = frame_of(page)
    frame.wait_for_selector("h1")
    if view.path != pages.PAGE:
        frame.goto(stack.base_url + view.path)
    if view.act:
        view.act(frame)
    return frame


@pytest.mark.parametrize("locale", ["en", "ru"])
@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_view_passes_axe_and_fits(account: Stack, browser: Any, width: int, locale: str) -> None:
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]})
    found: dict[str, list[str]] = {}
    try:
        page = context.new_page()
        for view in pages.VIEWS:
            pages.become(account, view.state, TenantReason.CONSENT_MISSING
                         if view.state == ConnectionState.SUSPENDED else None)
            pages.needing_attention(account, on=True)
            frame = open_view(page, account, view, locale)
            assert frame.locator("html").get_attribute("lang") == locale
            problems = pages.serious_violations(frame) + frame.evaluate(pages.LAYOUT)
            if problems:
                found[view.name] = problems
            if (view.name, locale, width) in SHOTS:
                shot(page, SHOTS[view.name, locale, width])
    finally:
        context.close()
    assert not found, found


def test_the_checks_catch_what_they_look_for(account: Stack, browser: Any) -> None:
    """axe-core and the layout measure report a field without a label and a control past its card's edge."""
    pages.become(account, ConnectionState.CONNECTED)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        frame = open_view(context.new_page(), account, pages.VIEWS[8], "en")  # the settings
        assert not pages.serious_violations(frame) and not frame.evaluate(pages.LAYOUT)
        frame.evaluate("""() => {
          document.querySelector('label[for=reminder_minutes]').remove();
          document.querySelector('#feeds-title ~ form button').style.marginLeft = '2000px';
        }""")
        assert any(v.startswith("label (critical)") for v in pages.serious_violations(frame))
        assert any("Apply" in problem for problem in frame.evaluate(pages.LAYOUT))
    finally:
        context.close()


@pytest.mark.parametrize("framed", [False, True], ids=["alone", "in-the-lms"])
def test_at_1280_px_what_needs_attention_and_the_counts_show_without_scrolling(account: Stack, browser: Any,
                                                                               framed: bool) -> None:
    from playwright.sync_api import expect

    pages.become(account, ConnectionState.CONNECTED)
    pages.needing_attention(account, on=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        if framed:
            page.goto(account.lms_page("owner", "u-owner"))
            plugin = page.frame_locator("#plugin")
        else:
            page.goto(account.launch("owner", "u-owner"))
            plugin = page
        needs = plugin.locator("#attention .need")
        expect(needs).to_have_count(4)
        expect(needs.nth(0)).to_contain_text("240 future entries wait for confirmation")
        expect(needs.nth(1)).to_contain_text("1 credential of the plugin expires soon or is refused")
        expect(needs.nth(2)).to_contain_text("2 users could not be synced")
        expect(needs.nth(3)).to_contain_text("1 user waits after Microsoft throttled the plugin")
        counts = plugin.locator("#user-counts .counts")
        expect(counts).to_contain_text("2 Failed")
        for part in [*(needs.nth(n) for n in range(4)), counts]:
            box = part.bounding_box()  # in the browser window's coordinates, the LMS's frame included
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, box
        assert page.evaluate("scrollY") == 0
        needs.nth(2).get_by_role("link").click()  # where it is fixed: the table of the failed users, with Retry
        rows = plugin.locator("table.users tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text="Oscar Oldserver").get_by_role("button", name="Retry")).to_be_visible()
        plugin.get_by_role("link", name="Overview", exact=True).click()
        plugin.locator("#attention .need").nth(0).get_by_role("link").click()
        if framed:  # the stand-in LMS gives its frame the page's whole height: the LMS page does not scroll to it
            assert frame_of(page).url.endswith("/integrations/outlook#hold")
        else:
            expect(plugin.get_by_role("button", name="Remove 240 entries")).to_be_in_viewport()
    finally:
        context.close()


FOCUSED = """() => {
  const e = document.activeElement, style = getComputedStyle(e);
  return {name: (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().split('\\n')[0],
          tag: e.tagName, current: e.getAttribute('aria-current'), weight: style.fontWeight,
          ring: style.boxShadow.includes('rgb(15, 108, 189)') || style.outlineStyle !== 'none'};
}"""


def test_the_page_works_by_keyboard_alone(account: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    pages.become(account, ConnectionState.CONNECTED)
    pages.needing_attention(account, on=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(account.launch("owner", "u-owner"))
        seen = []
        for _ in range(40):
            page.keyboard.press("Tab")
            seen.append(page.evaluate(FOCUSED))
            if seen[-1]["name"] == "Disconnect":
                break
        assert all(f["ring"] for f in seen), [f for f in seen if not f["ring"]]  # focus is always visible
        names = [f["name"] for f in seen]
        assert names[:5] == ["Skip to content", "Overview", "Users", "Settings", "Activity"], names
        assert names[5:9] == ["240 future entries wait for confirmation before they are removed",
                              "1 credential of the plugin expires soon or is refused", "2 users could not be synced",
                              "1 user waits after Microsoft throttled the plugin"], names
        assert names[9] == "Open the users table" and names[-1] == "Disconnect", names
        assert names.index("Remove 240 entries") < names.index("Disconnect")
        overview = seen[1]  # the current section is told by its weight (and an underline), not its colour alone
        assert overview["current"] == "page" and int(overview["weight"]) >= 600 and int(seen[2]["weight"]) < 600

        # To the settings and back by keys: choose who is offered calendar feeds, and apply
        page.keyboard.press("Shift+Tab")
        while page.evaluate(FOCUSED)["name"] != "Settings":
            page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Calendar feeds")).to_be_visible()
        for _ in range(30):  # past the reminder and the language to the checked radio button of the feeds
            page.keyboard.press("Tab")
            assert page.evaluate(FOCUSED)["ring"]
            if page.evaluate("document.activeElement.id") == "feed-mode-unreachable":
                break
        page.keyboard.press("ArrowDown")
        assert page.evaluate("document.activeElement.id") == "feed-mode-everyone"
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED)["name"] == "Apply"
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").first).to_contain_text("Calendar feeds are offered to everyone")
        expect(page.locator("#feed-mode-everyone")).to_be_checked()
    finally:
        context.close()


CHOICES = """() => [...document.querySelectorAll('.choice')].map(row => {
  const input = row.querySelector('input').getBoundingClientRect(), label = row.querySelector('label');
  const box = label.getBoundingClientRect(), line = parseFloat(getComputedStyle(label).lineHeight);
  const middle = input.top + input.height / 2, first = box.top + parseFloat(getComputedStyle(label).paddingTop);
  return {id: row.querySelector('input').id, beside: input.right <= box.left, width: box.width,
          centred: Math.abs(middle - (first + line / 2)) <= 2, height: box.height};
})"""


@pytest.mark.parametrize("width", [390, 1280])
def test_each_radio_button_is_beside_its_label_and_the_whole_label_clicks_it(account: Stack, browser: Any,
                                                                            width: int) -> None:
    pages.become(account, ConnectionState.CONNECTED)
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        frame = open_view(context.new_page(), account, pages.VIEWS[8], "ru")  # the settings, in Russian
        rows = frame.evaluate(CHOICES)
        assert len(rows) == 8 and all(r["beside"] and r["centred"] for r in rows), rows  # deadlines: a box, two radios
        for row in rows:  # a click at the label's far end, away from its words, chooses it (a box: turns it over)
            control = frame.locator(f"#{row['id']}")
            before, box = control.is_checked(), control.get_attribute("type") == "checkbox"
            frame.locator(f"label[for={row['id']}]").click(position={"x": row["width"] - 3, "y": row["height"] / 2})
            assert control.is_checked() == (not before if box else True), row
    finally:
        context.close()
