"""Removals held by the mass-removal guard, on the page: how many and why (in the page's language, the
time in the viewer's zone), and the owner's confirmation."""
from __future__ import annotations

import re
from datetime import UTC, datetime

from flask.testing import FlaskClient

from bridge.db import Database
from bridge.models import AuditRecord, Entry, LmsUser, RemovalHold
from bridge.sync import guard
from tests.page.conftest import ACCOUNT, ACTIVITY, Launch, csrf
from tests.page.test_actions import queued, ready  # noqa: F401  # the fixture

PAGE = "/integrations/outlook"
WHY = "240 entries of 12 deleted events (noticed 30 November 2026, 14:02 UTC)"
CAUSES = {"events_deleted": [240, 12], "events_cancelled": [25, 21], "sessions_removed": [3, 3],
          "users_gone": [1, 1], "enrollments_ended": [22, 2]}


def hold(database: Database, causes: dict[str, list[int]] | None = None, future: int = 300) -> None:
    causes = causes or {"events_deleted": [240, 12]}
    with database.session() as session:
        session.add(Entry(account_id=ACCOUNT, user_id="u-ada", event_id="e", session_id="s", tenant_id="t",
                          mailbox_id="m", transaction_id="x", tag="tag", state="active",
                          starts_at=datetime(2030, 1, 1, tzinfo=UTC), ends_at=datetime(2030, 1, 1, 1, tzinfo=UTC)))
        session.add(RemovalHold(account_id=ACCOUNT, removals=sum(n for n, _ in causes.values()), future_entries=future,
                                users=40, causes=causes, held_at=datetime(2026, 11, 30, 14, 2, tzinfo=UTC)))


def in_moscow(database: Database, user_id: str) -> None:
    with database.session() as session:
        session.add(LmsUser(account_id=ACCOUNT, id=user_id, version=1, active=True, timezone="Europe/Moscow"))


def text(html: str) -> str:
    """The page's words with runs of spaces and line breaks as one space (no-break spaces kept)."""
    return re.sub(r"[ \n]+", " ", html)


def test_the_page_says_how_many_and_why_and_the_owner_confirms(client: FlaskClient, launch: Launch,
                                                               database: Database, ready: None) -> None:  # noqa: F811
    hold(database)
    launch("owner")
    html = client.get(PAGE).get_data(as_text=True)
    assert "Removals on hold: 240 of 300" in html and WHY in html and "Remove 240 entries" in html
    answer = client.post(f"{PAGE}/removals/confirm", data={"csrf_token": csrf(client)}, follow_redirects=True)
    assert "Confirmed: 240 future entries will be removed" in answer.get_data(as_text=True)
    assert "240 entries of 40 users removed from Outlook" in client.get(ACTIVITY).get_data(as_text=True)
    assert "Removals on hold" not in answer.get_data(as_text=True)
    with database.session() as session:
        assert guard.current(session, ACCOUNT) is None
        confirmed = session.get(RemovalHold, ACCOUNT)
        assert confirmed is not None and confirmed.confirmed_by is not None
        assert session.query(AuditRecord.detail).one() == ({"entries": 240, "users": 40},)
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


def test_the_hold_in_russian_counts_with_russian_plurals(client: FlaskClient, launch: Launch, database: Database,
                                                         ready: None) -> None:  # noqa: F811
    hold(database, CAUSES, future=1001)
    in_moscow(database, "u-owner")
    launch("owner", locale="ru")
    html = text(client.get(PAGE).get_data(as_text=True))
    assert ("Удаления приостановлены: из Outlook разом были бы удалены 291 из 1\u00a0001 будущей записи." in html)
    assert ("Причина: 240 записей из 12 удалённых мероприятий; 25 записей из 21 отменённого мероприятия; "
            "3 записи из 3 удалённых сеансов; 1 запись у 1 удалённого или отключённого пользователя; "
            "22 записи из 2 завершённых или перенесённых зачислений (замечено 30 ноября 2026 г., 17:02 MSK)." in html)
    assert "Удалить 291 запись" in html
    assert "Removals on hold" not in html and "deleted events" not in html


def test_the_hold_in_english_counts_with_english_plurals(client: FlaskClient, launch: Launch, database: Database,
                                                         ready: None) -> None:  # noqa: F811
    hold(database, CAUSES, future=1001)
    in_moscow(database, "u-learner")
    launch("learner", locale="en")
    html = text(client.get(PAGE).get_data(as_text=True))
    assert "Removals on hold: 291 of 1,001 future entries would be removed from Outlook at once." in html
    assert ("Why: 240 entries of 12 deleted events; 25 entries of 21 cancelled events; 3 entries of 3 removed "
            "sessions; 1 entry of 1 user deleted or deactivated; 22 entries of 2 enrollments ended or moved "
            "(noticed 30 November 2026, 17:02 MSK)." in html)
    assert "The account owner or an administrator can confirm them." in html
