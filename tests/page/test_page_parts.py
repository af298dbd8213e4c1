"""Parts of the page: where Retry is offered, where addresses may wrap, the favicon."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from bridge.accounts import status
from plugin.templating import breakable
from tests.page.conftest import Launch

PAGE = "/integrations/outlook"


@pytest.mark.parametrize(("state", "reason", "helps"), [
    ("failed", "mailbox_not_in_exchange_online", True),  # after the mailbox moved to Exchange Online
    ("failed", "access_denied_by_policy", True),  # after the access policy changed
    ("failed", "outside_exchange_scope", True),  # after the user was added to the scope's group
    ("failed", "user_not_found", True),  # after the user was created in Azure AD
    ("failed", "error", True),
    ("failed", None, True),
    ("retrying", "error", True),  # now instead of after the back-off
    ("skipped", "personal_email", False),
    ("skipped", "domain_not_in_tenant", False),
    ("skipped", "inactive", False),
    ("skipped", "no_email", False),
    ("skipped", "no_session_chosen", False),
    ("synced", "no_upcoming_sessions", False),
    ("synced", None, False),
    ("pending", None, False),
    ("pending", "mailbox_not_in_exchange_online", False),  # already queued
])
def test_retry_is_offered_only_where_it_can_help(state: str, reason: str | None, helps: bool) -> None:
    assert status.retry_helps(state, reason) is helps


def test_addresses_wrap_after_the_at_only() -> None:
    # Only the "@" is a place to wrap (issue 26: "ada@contoso" / ".example" was broken at its dots with room to
    # spare); how the whole address fits is measured in the browser (tests/browser/test_widths.py).
    assert str(breakable("ada.love<lace>@contoso.example")) == "ada.love&lt;lace&gt;@<wbr>contoso.example"


def test_the_favicon_is_linked_from_every_page_and_served_as_svg(client: FlaskClient, launch: Launch) -> None:
    link = '<link rel="icon" type="image/svg+xml" href="/integrations/outlook/static/favicon.svg">'
    assert link in client.get(PAGE).get_data(as_text=True)  # no session: the message page
    assert link in client.get(f"{PAGE}/consent").get_data(as_text=True)
    launch("owner")
    assert link in client.get(PAGE).get_data(as_text=True)
    icon = client.get("/integrations/outlook/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data(as_text=True).startswith("<svg ")
