"""Removals held by the mass-removal guard, on the page: how many and why, and the owner's confirmation."""
from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient

from bridge import guard
from bridge.db import Database
from bridge.models import Entry, RemovalHold
from tests.page.conftest import ACCOUNT, Launch, csrf
from tests.page.test_actions import queued, ready  # noqa: F401  # the fixture

PAGE = "/integrations/outlook"
WHY = "240 of 12 deleted events (noticed at 2026-11-30 14:02 UTC)"


def hold(database: Database) -> None:
    with database.session() as session:
        session.add(Entry(account_id=ACCOUNT, user_id="u-ada", event_id="e", session_id="s", tenant_id="t",
                          mailbox_id="m", transaction_id="x", tag="tag", state="active",
                          starts_at=datetime(2030, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 1, 1, 1, tzinfo=UTC)))
        session.add(RemovalHold(account_id=ACCOUNT, removals=240, future_entries=300, reason=WHY,
                                held_at=datetime(2026, 11, 30, 14, 2, tzinfo=UTC)))


def test_the_page_says_how_many_and_why_and_the_owner_confirms(client: FlaskClient, launch: Launch,
                                                               database: Database, ready: None) -> None:  # noqa: F811
    hold(database)
    launch("owner")
    html = client.get(PAGE).get_data(as_text=True)
    assert "Removals on hold: 240 of 300" in html and WHY in html and "Remove 240 entries" in html
    answer = client.post(f"{PAGE}/removals/confirm", data={"csrf_token": csrf(client)}, follow_redirects=True)
    assert "Confirmed: 240 future entries will be removed" in answer.get_data(as_text=True)
    assert "Removals on hold" not in answer.get_data(as_text=True)
    with database.session() as session:
        assert guard.current(session, ACCOUNT) is None
        confirmed = session.get(RemovalHold, ACCOUNT)
        assert confirmed is not None and confirmed.confirmed_by is not None
    assert queued(database) == ["u-ada"]  # the holders of entries are passed again


def test_a_learner_sees_the_hold_but_cannot_confirm(client: FlaskClient, launch: Launch, database: Database,
                                                    ready: None) -> None:  # noqa: F811
    hold(database)
    launch("learner")
    html = client.get(PAGE).get_data(as_text=True)
    assert "Removals on hold: 240 of 300" in html and "Remove 240 entries" not in html
    assert client.post(f"{PAGE}/removals/confirm", data={"csrf_token": csrf(client)}).status_code == 403
    with database.session() as session:
        assert guard.current(session, ACCOUNT) is not None
