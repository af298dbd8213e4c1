"""The audit log: each manager action writes its record in the action's own transaction, shown to
managers only (paged) and exported as CSV with formula cells neutralised."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from bridge.codes import AuditAction
from bridge.db import Database
from bridge.models import AuditRecord
from bridge.trust import audit
from tests.page.conftest import ACCOUNT, ACTIVITY, Launch, csrf, user
from tests.page.test_roles import connected

PAGE = "/integrations/outlook"


@pytest.fixture
def ready(database: Database, hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, [user("u-ada", "ada@contoso.example", "Ada Lovelace"),
                    user("u-owner", "olivia@contoso.example", "=HYPERLINK(\"http://x\")", role="owner")])
    connected(database)


def records(database: Database) -> list[tuple[str | None, str, dict[str, object] | None]]:
    with database.session() as session:
        return [(r.actor_id, r.action, r.detail) for r in
                session.scalars(select(AuditRecord).order_by(AuditRecord.id))]


def test_each_action_is_recorded_with_who_and_what_it_caused(client: FlaskClient, launch: Launch,
                                                             database: Database, ready: None) -> None:
    launch("owner", user_id="u-owner")
    token = csrf(client)
    for action, form in (("reminder", {"reminder_minutes": "30"}), ("users/u-ada/retry", {}), ("resync", {}),
                         ("disconnect", {"confirm": "yes", "remove_entries": "yes"})):
        assert client.post(f"{PAGE}/{action}", data={"csrf_token": token, **form}).status_code == 303
    assert records(database) == [
        ("u-owner", AuditAction.REMINDER_CHANGED, {"minutes": 30}),
        ("u-owner", AuditAction.USER_RETRIED, {"user_id": "u-ada"}),
        ("u-owner", AuditAction.RESYNCHRONISED, {"users_queued": 2}),
        ("u-owner", AuditAction.DISCONNECTED, {"remove_entries": True}),
    ]


def test_a_refused_action_records_nothing(client: FlaskClient, launch: Launch, database: Database,
                                          ready: None) -> None:
    launch("owner", user_id="u-owner")
    answer = client.post(f"{PAGE}/reminder", data={"csrf_token": csrf(client), "reminder_minutes": "soon"})
    assert answer.status_code == 400
    assert records(database) == []


def test_the_record_rolls_back_with_its_action(database: Database, ready: None) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        audit.record(session, ACCOUNT, "u-owner", AuditAction.RESYNCHRONISED, users_queued=2)
        raise RuntimeError("the action failed after recording")
    assert records(database) == []


def test_an_unknown_action_is_refused(database: Database, ready: None) -> None:
    with database.session() as session, pytest.raises(ValueError, match="unknown audit action 'hacked'"):
        audit.record(session, ACCOUNT, "u-owner", "hacked")


def test_managers_see_it_paged_and_others_do_not(client: FlaskClient, launch: Launch, database: Database,
                                                 ready: None) -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with database.session() as session:
        for n in range(25):
            audit.record(session, ACCOUNT, "u-owner", AuditAction.USER_RETRIED, at=start + timedelta(minutes=n),
                         user_id=f"user-{n:02d}")
    launch("owner", user_id="u-owner")
    first = client.get(ACTIVITY).get_data(as_text=True)
    assert 'id="audit-title">Activity' in first and "user user-24 queued again" in first
    assert "user user-04 queued again" not in first and "Page 1 of 2" in first
    second = client.get(ACTIVITY, query_string={"audit_page": "2"}).get_data(as_text=True)
    assert "user user-04 queued again" in second and "user user-24 queued again" not in second
    launch("learner", user_id="u-ada")
    assert "Activity" not in client.get(PAGE).get_data(as_text=True)
    assert client.get(ACTIVITY).status_code == 403
    assert client.get(f"{PAGE}/audit.csv").status_code == 403


def test_csv_lists_everything_with_formulas_neutralised(client: FlaskClient, launch: Launch, database: Database,
                                                        ready: None) -> None:
    with database.session() as session:
        for n in range(1200):  # more than one chunk
            audit.record(session, ACCOUNT, "u-owner", AuditAction.REMINDER_CHANGED, minutes=n)
        total = session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    launch("owner", user_id="u-owner")
    answer = client.get(f"{PAGE}/audit.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["at", "actor_id", "actor", "action", "what_it_caused"]
    assert len(rows) - 1 == total == 1200
    assert rows[1][2] == "'=HYPERLINK(\"http://x\")" and rows[1][3] == AuditAction.REMINDER_CHANGED


def test_a_confirmed_mass_removal_reads_as_what_it_removed(client: FlaskClient, launch: Launch,
                                                           database: Database, ready: None) -> None:
    with database.session() as session:  # as the mass-removal guard's confirm action records it
        audit.record(session, ACCOUNT, "u-owner", AuditAction.MASS_REMOVAL_CONFIRMED, entries=120, users=60)
    launch("owner", user_id="u-owner")
    page = client.get(ACTIVITY).get_data(as_text=True)
    assert "Confirmed a mass removal" in page and "120 entries of 60 users removed from Outlook" in page


def test_a_mass_removal_recorded_without_its_users_reads_without_them(client: FlaskClient, launch: Launch,
                                                                      database: Database, ready: None) -> None:
    with database.session() as session:  # as recorded before the users were counted
        audit.record(session, ACCOUNT, "u-owner", AuditAction.MASS_REMOVAL_CONFIRMED, entries=1)
    launch("owner", user_id="u-owner", locale="ru")
    page = client.get(ACTIVITY).get_data(as_text=True)
    assert "из Outlook удалена 1 запись" in page and "?" not in page.split("Подтвердил(а) массовое удаление")[1][:300]
