"""An account's settings (bridge.lms.settings): read as one value, each written by its own writer;
a change to what the entries say queues the users holding entries, other settings queue nobody;
a value not offered is refused with the values allowed, and nothing is stored."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from bridge.codes import EntryState, FeedMode, MovedChoice
from bridge.db import Database
from bridge.lms import settings
from bridge.lms.ingest import ensure_account
from bridge.models import DirtyKey, Entry, utcnow

ACCOUNT = "acme"


@pytest.fixture
def holder(database: Database) -> Database:
    """An account where "ann" holds one entry, and nobody is queued."""
    now = utcnow()
    with database.session() as session:
        ensure_account(session, ACCOUNT)
        session.add(Entry(account_id=ACCOUNT, user_id="ann", event_id="e1", session_id="s1", tenant_id="t",
                          mailbox_id="m", transaction_id="tx", tag="tag", state=EntryState.ACTIVE, starts_at=now,
                          ends_at=now))
    return database


def queued(database: Database) -> list[str]:
    with database.session() as session:
        users = sorted(session.scalars(select(DirtyKey.user_id)))
        session.execute(delete(DirtyKey))
        return users


def test_an_account_not_seen_yet_has_the_defaults(database: Database) -> None:
    with database.session() as session:
        assert settings.read(session, "nobody") == settings.DEFAULTS
    assert settings.AccountSettings(15, None, FeedMode.UNREACHABLE, MovedChoice.PUT_BACK) == settings.DEFAULTS


def test_each_setting_is_read_back_in_one_value(holder: Database) -> None:
    with holder.session() as session:
        settings.set_reminder(session, ACCOUNT, None)
        settings.set_locale(session, ACCOUNT, "ru")
        settings.set_feed_mode(session, ACCOUNT, "everyone")
        settings.set_moved_choice(session, ACCOUNT, "leave")
    with holder.session() as session:
        assert settings.read(session, ACCOUNT) == settings.AccountSettings(None, "ru", FeedMode.EVERYONE,
                                                                           MovedChoice.LEAVE)


def test_what_the_entries_say_queues_their_holders_once_changed(holder: Database) -> None:
    with holder.session() as session:
        settings.set_reminder(session, ACCOUNT, 15)  # unchanged
        settings.set_feed_mode(session, ACCOUNT, "off")
        settings.set_moved_choice(session, ACCOUNT, "leave")
    assert queued(holder) == []
    with holder.session() as session:
        settings.set_reminder(session, ACCOUNT, 30)
    assert queued(holder) == ["ann"]
    with holder.session() as session:
        settings.set_locale(session, ACCOUNT, "ru")
    assert queued(holder) == ["ann"]


def test_a_language_is_adopted_only_by_an_account_without_one(holder: Database) -> None:
    with holder.session() as session:
        settings.adopt_locale(session, ACCOUNT, "ru")
        settings.adopt_locale(session, ACCOUNT, "en")
    with holder.session() as session:
        assert settings.read(session, ACCOUNT).locale == "ru"
    assert queued(holder) == []


@pytest.mark.parametrize(("write", "words"), [
    (settings.set_feed_mode, "feed mode must be one of off, unreachable, everyone, not 'sometimes'"),
    (settings.set_moved_choice, "moved entries: 'sometimes' is not one of put_back, leave"),
])
def test_a_value_not_offered_is_refused_and_nothing_stored(holder: Database, write: object, words: str) -> None:
    with holder.session() as session, pytest.raises(ValueError, match=words):
        write(session, ACCOUNT, "sometimes")  # type: ignore[operator]
    with holder.session() as session:
        assert settings.read(session, ACCOUNT) == settings.DEFAULTS
