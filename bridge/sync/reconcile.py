"""The pure planner: entries wanted vs. entries made → the actions that close the gap.

Level-triggered: planning again after the actions ran yields nothing. Past entries are never
touched, "past" judged by the session as the LMS describes it now (see :func:`plan`).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.codes import Because, EntryState
from bridge.i18n import language
from bridge.lms.rules import Decision
from bridge.lms.settings import DEADLINE_REMINDER
from bridge.lms.views import Event
from bridge.sync import payload as payloads
from bridge.sync.deadline_payload import deadline_payload

Key = tuple[str, str]  # (event id, session id)


@dataclass(frozen=True)
class Desired:
    key: Key
    payload: dict[str, Any]
    payload_hash: str
    material_hash: str
    starts_at: datetime
    ends_at: datetime
    tag: str


@dataclass(frozen=True)
class Made:
    key: Key
    mailbox_id: str
    graph_event_id: str | None
    transaction_id: str
    state: EntryState
    payload_hash: str | None
    material_hash: str | None
    ends_at: datetime
    tag: str


@dataclass(frozen=True)
class Create:
    desired: Desired


@dataclass(frozen=True)
class Resume:
    """A create whose outcome is unknown: look the tag up before creating again."""

    desired: Desired
    made: Made


@dataclass(frozen=True)
class Update:
    desired: Desired
    made: Made


@dataclass(frozen=True)
class Delete:
    """Remove a made entry (looked up by tag when its id was never confirmed)."""

    made: Made


@dataclass(frozen=True)
class Forget:
    """Drop the record of an entry the user already deleted in Outlook."""

    made: Made


Action = Create | Resume | Update | Delete | Forget


SharedPayloads = dict[tuple[Key, datetime, int | None, str | None], tuple[dict[str, Any], str, str]]


def desired_entries(decision: Decision, account_id: str, user_id: str, reminder_minutes: int | None,
                    shared: SharedPayloads | None = None, locale: str | None = None,
                    deadline_reminder: int | None = DEADLINE_REMINDER) -> dict[Key, Desired]:
    """The payload of every wanted entry, with its hashes and tag, in the account's ``locale``
    (a language code such as ``ru``; English when None or unknown): a session's with
    ``reminder_minutes``, a deadline's (bridge.sync.deadline_payload) with ``deadline_reminder``.

    ``shared`` keeps each payload and hashes across the users of one pass: everyone with a session
    (or a deadline due at the same time) gets the same body, so it is built and hashed once.
    """
    shared = {} if shared is None else shared
    result = {}
    for key, wanted in decision.wanted.items():
        deadline = wanted.because == Because.DEADLINE
        reminder = deadline_reminder if deadline else reminder_minutes
        same = (key, wanted.session.start, reminder, locale)
        if same not in shared:
            build = deadline_payload if deadline else payloads.session_payload
            body = build(wanted.event, wanted.session, reminder, language(locale))
            shared[same] = (body, payloads.payload_hash(body), payloads.material_hash(wanted.event, wanted.session))
        body, body_hash, material = shared[same]
        tag = payloads.tag_value(account_id, user_id, *key)
        result[key] = Desired(key=key, payload=payloads.with_tag(body, tag), payload_hash=body_hash,
                              material_hash=material, starts_at=wanted.session.start, ends_at=wanted.session.end,
                              tag=tag)
    return result


def same_mailbox(a: str, b: str) -> bool:
    """Whether two mailboxes (Graph user ids or addresses) are written as one: letter case does not
    tell mailboxes apart (an SMTP address's domain is case-insensitive (RFC 5321 §2.4) and Exchange
    matches the local part without case too; Graph ids are GUIDs)."""
    return a.lower() == b.lower()


def plan(desired: dict[Key, Desired], made: dict[Key, Made], mailbox_id: str | None,
         now: datetime, ends: Mapping[Key, datetime] | None = None) -> list[Action]:
    """Actions for one user, deletions first (a moved learner loses the old session first).

    Past entries are never touched, "past" as the LMS describes the session now: ``ends`` gives the
    end of every session the LMS still has for this user (their events' sessions); a session moved
    from the past into the future is wanted again and its entry follows it, one moved into the past
    is left alone. For a session the LMS no longer has, the recorded end decides.
    """
    removals: list[Action] = []
    writes: list[Action] = []
    for key, entry in made.items():
        wanted = desired.get(key)
        if wanted is None and (ends or {}).get(key, entry.ends_at) <= now:
            if entry.state == EntryState.CREATING:
                removals.append(Forget(entry))  # never confirmed, now past: only the record goes
            continue  # past entries are never touched
        if wanted is None or (mailbox_id is not None and not same_mailbox(entry.mailbox_id, mailbox_id)):
            # not wanted any more, or the user now has another mailbox (re-made on the next pass)
            removals.append(Forget(entry) if entry.state == EntryState.DELETED_IN_OUTLOOK else Delete(entry))
        elif entry.state == EntryState.CREATING:
            writes.append(Resume(wanted, entry))
        elif entry.state == EntryState.DELETED_IN_OUTLOOK:
            if wanted.material_hash != entry.material_hash:
                writes.append(Create(wanted))  # a material change brings it back
        elif wanted.payload_hash != entry.payload_hash:
            writes.append(Update(wanted, entry))
    if mailbox_id is not None:
        writes.extend(Create(d) for key, d in desired.items() if key not in made)
    return removals + writes


def session_ends(events: Iterable[Event]) -> dict[Key, datetime]:
    """The end of every session of these events, as the LMS describes it now (for :func:`plan`)."""
    return {(event.id, session.id): session.end for event in events for session in event.sessions}
