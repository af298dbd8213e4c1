"""Cross-account access, the CSV export and the users table at 10,000 users."""
from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from bridge.accounts import connection
from bridge.codes import ConnectionState
from bridge.db import Database
from bridge.models import Account, DirtyKey, LmsUser, UserState
from tests.page.conftest import USERS, Launch, csrf, shown, user
from tests.page.test_roles import connected

PAGE = "/integrations/outlook"


def test_a_session_acts_only_on_its_own_account(client: FlaskClient, launch: Launch, database: Database,
                                                hooks: Callable[..., object]) -> None:
    hooks("acct-a", [user("u-a", "ann@a.example", "Ann")])
    hooks("acct-b", [user("u-b", "ben@b.example", "Ben")])
    connected(database, "acct-a")
    connected(database, "acct-b")
    with database.session() as session:
        for key in session.scalars(select(DirtyKey)):
            session.delete(key)
    launch("owner", account="acct-a")
    token = csrf(client)
    html = client.get(f"{USERS}?account=acct-b").get_data(as_text=True)
    assert shown("ann@a.example") in html and shown("ben@b.example") not in html
    export = client.get(f"{PAGE}/users.csv?account=acct-b").get_data(as_text=True)
    assert "ann@a.example" in export and "ben@b.example" not in export
    # naming the other account anywhere in the request changes nothing there
    assert client.post(f"{PAGE}/users/u-b/retry", data={"csrf_token": token, "account": "acct-b"}).status_code == 404
    client.post(f"{PAGE}/reminder?account=acct-b", data={"csrf_token": token, "reminder_minutes": "5",
                                                          "account": "acct-b"})
    client.post(f"{PAGE}/disconnect", data={"csrf_token": token, "confirm": "yes", "account": "acct-b"})
    with database.session() as session:
        a, b = session.get(Account, "acct-a"), session.get(Account, "acct-b")
        assert a is not None and b is not None
        assert (a.reminder_minutes, b.reminder_minutes) == (5, 15)
        assert connection.connection(session, "acct-a").state == ConnectionState.DISCONNECTED
        assert connection.connection(session, "acct-b").state == ConnectionState.CONNECTED
        assert session.scalars(select(DirtyKey)).all() == []


def test_a_forged_or_altered_session_cookie_is_ignored(client: FlaskClient, launch: Launch) -> None:
    launch("learner", account="acct-a")
    cookie = client.get_cookie("outlook_sync_session", path=PAGE)
    assert cookie is not None
    impostor = Flask("impostor")
    impostor.secret_key = "not-the-plugin-secret-key"
    serializer = SecureCookieSessionInterface().get_signing_serializer(impostor)
    assert serializer is not None
    forged = serializer.dumps({"account": "acct-a", "user_id": "u", "role": "owner", "csrf": "x",
                               "since": int(time.time())})
    flipped = "A" if cookie.value[8] != "A" else "B"
    altered = cookie.value[:8] + flipped + cookie.value[9:]  # the signature no longer matches
    for value in (forged, altered):
        client.delete_cookie("outlook_sync_session", path=PAGE)
        client.set_cookie("outlook_sync_session", value, path=PAGE)
        assert client.get(PAGE).status_code == 403
        assert client.post(f"{PAGE}/connect", data={"csrf_token": "x"}).status_code == 403


def seed_users(database: Database, account: str, count: int) -> None:
    """``count`` users with outcomes, inserted in bulk (as many hooks and passes would leave them)."""
    states = ["synced", "skipped", "failed", "synced", "synced"]
    reasons = [None, "personal_email", "mailbox_not_in_exchange_online", None, "no_upcoming_sessions"]
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with database.session() as session:
        session.execute(insert(LmsUser), [
            {"account_id": account, "id": f"u{i:05d}", "version": 1, "deleted": False, "active": True,
             "email": f"user{i:05d}@contoso.example", "name": f"User {i:05d}", "role": "learner"}
            for i in range(count)])
        session.execute(insert(UserState), [
            {"account_id": account, "user_id": f"u{i:05d}", "state": states[i % 5], "reason": reasons[i % 5],
             "detail": None, "entries": 1, "changed_at": now} for i in range(count)])


def test_csv_export_lists_every_matching_user_with_reasons_in_words(client: FlaskClient, launch: Launch,
                                                                    database: Database) -> None:
    launch("owner")
    seed_users(database, "acct-1", 2500)
    with database.session() as session:
        session.add(LmsUser(account_id="acct-1", id="evil", version=1, deleted=False, active=True,
                            email="=HYPERLINK(\"x\")@contoso.example", name="=cmd|' /C calc'!A0", role="learner"))
    connected(database, "acct-1")
    answer = client.get(f"{PAGE}/users.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert len(table) == 2501
    first = next(r for r in table if r["user_id"] == "u00002")
    assert first == {"user_id": "u00002", "name": "User 00002", "email": "user00002@contoso.example",
                     "state": "failed", "reason": "mailbox_not_in_exchange_online",
                     "reason_text": "Mailbox not in Exchange Online (on-premises or unlicensed): move it to "
                                    "Exchange Online", "entries": "1", "last_change": "2030-01-01T00:00:00+00:00"}
    evil = next(r for r in table if r["user_id"] == "evil")
    assert evil["name"].startswith("'=") and evil["email"].startswith("'=")
    skipped = list(csv.DictReader(io.StringIO(client.get(f"{PAGE}/users.csv?state=skipped&q=user0001")
                                              .get_data(as_text=True))))
    assert [r["user_id"] for r in skipped] == ["u00011", "u00016"]
    assert {r["reason_text"] for r in skipped} == {"Personal e-mail address (not synced)"}


def test_the_table_pages_10000_users_quickly(client: FlaskClient, launch: Launch, database: Database) -> None:
    launch("owner")
    seed_users(database, "acct-1", 10_000)
    connected(database, "acct-1")
    client.get(USERS)  # warm up
    started = time.perf_counter()
    html = client.get(f"{USERS}?page=137").get_data(as_text=True)
    elapsed = time.perf_counter() - started
    assert "Users 6,801–6,850\n        of 10,000" in html or "Users 6,801–6,850" in html
    assert shown("user06800@contoso.example") in html and shown("user06850@contoso.example") not in html
    assert "Page 137 of 200" in html and 'rel="prev"' in html and 'rel="next"' in html
    assert html.count("<tr>") == 51  # header + 50 rows
    assert ">6,000<" in html  # synced count
    assert elapsed < 1.5, f"page took {elapsed:.2f}s"
    filtered = client.get(f"{USERS}?state=failed&q=user099").get_data(as_text=True)
    assert "of 20" in filtered and shown("user09902@contoso.example") in filtered
    assert client.get(f"{USERS}?page=abc").status_code == 200
    assert client.get(f"{USERS}?page=999999&state=bogus").status_code == 200
