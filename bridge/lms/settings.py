"""An LMS account's settings, read and written here only.

Five settings in four tables (the schema keeps them where they were): the entries' reminder and
language (``accounts``), who is offered a calendar feed (``feed_settings``), what becomes of an
entry a user moved in Outlook (``outlook_settings``) and deadlines (``deadline_settings``: offered,
their reminder, what becomes of a done one's entry). Reads give one :class:`AccountSettings`, the
defaults for an account not seen yet or a setting never chosen; a query that needs them beside other
columns (the sync's account context, a feed's holder) joins them with :func:`joined` and reads them
with :func:`from_row`. Each setting has one writer; a change to what the entries say (the reminder,
the language) queues the users holding entries, so each entry is rewritten once on their next pass
(an update: nobody is e-mailed).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from bridge.codes import FeedMode, MovedChoice, WhenDone
from bridge.lms.ingest import ensure_account
from bridge.lms.rules import DeadlinePolicy
from bridge.models import Account, DeadlineSetting, Entry, FeedSetting, LmsLearnerDeadline, OutlookSetting
from bridge.queue import dirty_keys

DEADLINE_REMINDER = 24 * 60  # minutes: a deadline's reminder a day before, unless the account chose otherwise
MAX_DEADLINE_REMINDER = 4 * 7 * 24 * 60  # minutes: four weeks, Outlook's longest reminder choice


@dataclass(frozen=True)
class AccountSettings:
    """An account's settings: the reminder in minutes before the start (None: no reminder), the
    entries' language (a catalogue's code such as ``ru``; None: English), who is offered a feed, and
    the choice for an entry moved in Outlook; whether deadlines are offered, their reminder (minutes
    before the due time; None: none) and what becomes of a done one. The defaults are those of an
    account not seen yet."""

    reminder_minutes: int | None = 15  # as bridge.models.Account's column default
    locale: str | None = None
    feed_mode: FeedMode = FeedMode.UNREACHABLE
    moved_choice: MovedChoice = MovedChoice.PUT_BACK
    deadlines_offered: bool = True
    deadline_reminder_minutes: int | None = DEADLINE_REMINDER
    when_done: WhenDone = WhenDone.REMOVE

    @property
    def deadlines(self) -> DeadlinePolicy:
        """What the rules need of the deadline setting (bridge.lms.rules.deadlines_of)."""
        return DeadlinePolicy(offered=self.deadlines_offered, keep_done=self.when_done == WhenDone.KEEP)


DEFAULTS = AccountSettings()
Query = Select[*tuple[Any, ...]]  # a SELECT of any columns
_COLUMNS = (Account.reminder_minutes.label("settings_reminder_minutes"), Account.locale.label("settings_locale"),
            FeedSetting.mode.label("settings_feed_mode"), OutlookSetting.moved.label("settings_moved_choice"),
            DeadlineSetting.offered.label("settings_deadlines_offered"),
            DeadlineSetting.reminder_minutes.label("settings_deadline_reminder"),
            DeadlineSetting.when_done.label("settings_when_done"))


def joined(query: Query, account_id: Any) -> Query:
    """``query`` with the settings of the account whose id is ``account_id`` (a column of the query)
    added as columns, for :func:`from_row`; only rows of an account that exists are found."""
    return _with_settings(query.join(Account, Account.id == account_id))


def _with_settings(query: Query) -> Query:
    """``query`` (its FROM holds ``accounts``) with the settings' columns and tables."""
    return (query.add_columns(*_COLUMNS).outerjoin(FeedSetting, FeedSetting.account_id == Account.id)
            .outerjoin(OutlookSetting, OutlookSetting.account_id == Account.id)
            .outerjoin(DeadlineSetting, DeadlineSetting.account_id == Account.id))


def from_row(row: Any) -> AccountSettings:
    """The settings in a row of a :func:`joined` query."""
    chosen = row.settings_deadlines_offered is not None  # a deadline_settings row
    return AccountSettings(row.settings_reminder_minutes, row.settings_locale,
                           FeedMode(row.settings_feed_mode or DEFAULTS.feed_mode),
                           MovedChoice(row.settings_moved_choice or DEFAULTS.moved_choice),
                           row.settings_deadlines_offered if chosen else DEFAULTS.deadlines_offered,
                           row.settings_deadline_reminder if chosen else DEFAULTS.deadline_reminder_minutes,
                           WhenDone(row.settings_when_done) if chosen else DEFAULTS.when_done)


def read(session: Session, account_id: str) -> AccountSettings:
    """The account's settings (one query); :data:`DEFAULTS` for an account not seen yet."""
    row = session.execute(_with_settings(select(Account.id)).where(Account.id == account_id)).first()
    return from_row(row) if row is not None else DEFAULTS


def set_reminder(session: Session, account_id: str, minutes: int | None) -> None:
    """Change the reminder (minutes before the start; None: none); existing future entries follow on
    the next pass."""
    account = _account(session, account_id)
    if account.reminder_minutes != minutes:
        account.reminder_minutes = minutes
        _mark_entry_holders(session, account_id)


def set_locale(session: Session, account_id: str, locale: str) -> None:
    """Change the entries' language (a catalogue's code such as ``ru``); existing future entries follow
    on the next pass, like a reminder change."""
    account = _account(session, account_id)
    if account.locale != locale:
        account.locale = locale
        _mark_entry_holders(session, account_id)


def adopt_locale(session: Session, account_id: str, locale: str | None) -> None:
    """The entries' language when the account has none yet: the language of the manager who connects
    it (the caller queues every user then)."""
    account = _account(session, account_id)
    if account.locale is None:
        account.locale = locale


def set_feed_mode(session: Session, account_id: str, mode: str) -> None:
    """Change who is offered feeds; raises ValueError naming the modes for a value not in :class:`FeedMode`
    (nothing stored)."""
    if mode not in tuple(FeedMode):
        raise ValueError(f"feed mode must be one of {', '.join(FeedMode)}, not {mode!r}")
    ensure_account(session, account_id)
    session.merge(FeedSetting(account_id=account_id, mode=FeedMode(mode)))


def set_moved_choice(session: Session, account_id: str, choice: str) -> None:
    """Change what becomes of an entry moved in Outlook; raises ValueError naming the choices for a value
    not in :class:`MovedChoice` (nothing stored)."""
    if choice not in tuple(MovedChoice):
        raise ValueError(f"moved entries: {choice!r} is not one of {', '.join(MovedChoice)}")
    ensure_account(session, account_id)
    session.merge(OutlookSetting(account_id=account_id, moved=MovedChoice(choice)))


def set_deadlines(session: Session, account_id: str, *, offered: bool, reminder_minutes: int | None,
                  when_done: str) -> None:
    """Change the deadline setting: offered or not, the reminder (0 to four weeks, in minutes before the
    due time; None: none) and what becomes of a done one's entry (a :class:`WhenDone` value). Raises
    ValueError naming what is wrong (nothing stored). The users holding entries, and those with
    deadlines, are queued so their entries follow on their next pass."""
    if when_done not in tuple(WhenDone):
        raise ValueError(f"when done: {when_done!r} is not one of {', '.join(WhenDone)}")
    if reminder_minutes is not None and not 0 <= reminder_minutes <= MAX_DEADLINE_REMINDER:
        raise ValueError(f"deadline reminder must be 0 to {MAX_DEADLINE_REMINDER} minutes, not {reminder_minutes}")
    before = read(session, account_id)
    ensure_account(session, account_id)
    session.merge(DeadlineSetting(account_id=account_id, offered=offered, reminder_minutes=reminder_minutes,
                                  when_done=WhenDone(when_done)))
    if (before.deadlines_offered, before.deadline_reminder_minutes, before.when_done) != (
            offered, reminder_minutes, when_done):
        _mark_entry_holders(session, account_id)
        stated = select(LmsLearnerDeadline.user_id).distinct().where(LmsLearnerDeadline.account_id == account_id,
                                                                    LmsLearnerDeadline.deleted.is_(False))
        dirty_keys.mark_dirty(session, account_id, [u for (u,) in session.execute(stated)])


def _account(session: Session, account_id: str) -> Account:
    """The account's row, made on first sight (bridge.lms.ingest.ensure_account)."""
    ensure_account(session, account_id)
    account = session.get(Account, account_id)
    assert account is not None
    return account


def _mark_entry_holders(session: Session, account_id: str) -> None:
    """Queue every user who has entries, so their entries are rewritten with the account's settings."""
    users = [u for (u,) in session.execute(select(Entry.user_id).where(Entry.account_id == account_id))]
    dirty_keys.mark_dirty(session, account_id, users, lane=dirty_keys.Lane.BULK)
