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
from tests.browser.conftest import Stack, open_section
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
