"""The Deadlines card in headless Chromium inside the LMS's iframe: saved from the settings section and
shown again; the users table says "of which N deadlines" inside the Entries cell at 1280 px without
widening the table. Screenshot ``50-deadlines`` (the README's picture of the setting)."""
from __future__ import annotations

from typing import Any

import pytest

from bridge.codes import ConnectionState
from bridge.lms import settings
from tests.browser import pages
from tests.browser.conftest import ACCOUNT, Stack
from tests.browser.test_sections import frame_of
from tests.browser.test_trust import panel_shot

pytestmark = pytest.mark.timeout(300)


def test_the_deadline_setting_is_saved_and_the_users_table_counts_deadlines(stack: Stack, browser: Any) -> None:
    pages.populate(stack)
    pages.become(stack, ConnectionState.CONNECTED)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(stack.lms_page("owner", "u-owner"))
        frame = frame_of(page)
        frame.wait_for_selector("h1")
        frame.goto(stack.base_url + pages.PAGE + "/settings")
        card = frame.locator('section[aria-labelledby="deadlines-title"]')
        card.get_by_label("Reminder (minutes before the due time)").fill("2880")
        card.get_by_label("Keep it until the due time").check()
        with frame.expect_navigation():
            card.get_by_role("button", name="Save").click()
        frame.wait_for_selector("text=Deadlines saved.")
        with stack.database.session() as session:
            chosen = settings.read(session, ACCOUNT)
        assert (chosen.deadlines_offered, chosen.deadline_reminder_minutes, chosen.when_done) == (True, 2880, "keep")
        card = frame.locator('section[aria-labelledby="deadlines-title"]')
        assert card.get_by_label("Reminder (minutes before the due time)").input_value() == "2880"
        card.get_by_label("Reminder (minutes before the due time)").fill("1440")  # the default, for the picture
        card.get_by_label("Remove it from the calendar").check()
        with frame.expect_navigation():
            card.get_by_role("button", name="Save").click()
        frame.wait_for_selector("text=Deadlines saved.")
        panel_shot(frame.locator('section[aria-labelledby="deadlines-title"]'), "50-deadlines")

        frame.goto(stack.base_url + pages.PAGE + "/users")
        cell = frame.locator("tr", has_text="Ada Lovelace").locator("td.num")
        assert " ".join(cell.inner_text().split()) == "3 of which 2 deadlines"
        assert frame.evaluate(pages.LAYOUT) == []  # nothing scrolls sideways, nothing past its card's edge
    finally:
        context.close()
