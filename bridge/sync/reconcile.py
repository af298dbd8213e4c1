"""The pure planner: entries wanted vs. entries made → the actions that close the gap.

Level-triggered: planning again after the actions ran yields nothing. Past entries are never
touched, "past" judged by the session as the LMS describes it now (see :func:`plan`).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bridge.codes import Because, EntryState
from bridge.i18n import language
from bridge.lms.rules import Decision
from bridge.lms.settings import DEADLINE_REMINDER
from bridge.lms.views import Event, Session
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
class Move:
    """The learner moved to another session of the same event: the made entry (``made``, of the old
    session) is changed into the new one's (``desired``: its time, place and tag) by one update,
    where a deletion and a creation would be two writes — the entry keeps its Graph id, so Outlook
    shows a meeting that moved rather than one cancelled and another new. Graph sets the tag (a
    single-value extended property) on a PATCH as on a POST (learn.microsoft.com/graph/api/
    singlevaluelegacyextendedproperty-post-singlevalueextendedproperties: "an existing resource
    instance"), so the moved entry is found by its new session's tag from then on."""

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


Action = Create | Resume | Update | Move | Delete | Forget


PAYLOADS_KEPT = 1024  # built payloads kept by the process (each session's, shared by its learners)
KEPT_DESCRIPTION = 65_536  # characters: an event with a longer description is built each time (bounded memory)


def desired_entries(decision: Decision, account_id: str, user_id: str, reminder_minutes: int | None,
                    locale: str | None = None, deadline_reminder: int | None = DEADLINE_REMINDER) -> dict[Key, Desired]:
    """The payload of every wanted entry, with its hashes and tag, in the account's ``locale``
    (a language code such as ``ru``; English when None or unknown): a session's with
    ``reminder_minutes``, a deadline's (bridge.sync.deadline_payload) with ``deadline_reminder``.

    Everyone with a session (or a deadline due at the same time) gets the same body, so it is built
    and hashed once for all of them (:func:`built`); only the tag is each user's.
    """
    result = {}
    for key, wanted in decision.wanted.items():
        deadline = wanted.because == Because.DEADLINE
        body, body_hash, material = built(deadline, wanted.event, wanted.session,
                                          deadline_reminder if deadline else reminder_minutes, locale)
        tag = payloads.tag_value(account_id, user_id, *key)
        result[key] = Desired(key=key, payload=payloads.with_tag(body, tag), payload_hash=body_hash,
                              material_hash=material, starts_at=wanted.session.start, ends_at=wanted.session.end,
                              tag=tag)
    return result


def built(deadline: bool, event: Event, session: Session, reminder: int | None,
          locale: str | None) -> tuple[dict[str, Any], str, str]:
    """(payload, payload hash, material hash) of a session's entry (a deadline's when ``deadline``),
    the same for every user who has it: kept by the process for the :data:`PAYLOADS_KEPT` latest
    (event, session, reminder, locale), every field of the event and session part of the key, so an
    LMS change is a new key. The payload is shared: callers copy before changing it (:func:`payload.with_tag`)."""
    if len(event.description or "") > KEPT_DESCRIPTION:
        return _build(deadline, event, session, reminder, locale)
    return _kept(deadline, event, session, reminder, locale)


def _build(deadline: bool, event: Event, session: Session, reminder: int | None,
           locale: str | None) -> tuple[dict[str, Any], str, str]:
    body = (deadline_payload if deadline else payloads.session_payload)(event, session, reminder, language(locale))
    return body, payloads.payload_hash(body), payloads.material_hash(event, session)


_kept = functools.lru_cache(maxsize=PAYLOADS_KEPT)(_build)


def same_mailbox(a: str, b: str) -> bool:
    """Whether two mailboxes (Graph user ids or addresses) are written as one: letter case does not
    tell mailboxes apart (an SMTP address's domain is case-insensitive (RFC 5321 §2.4) and Exchange
    matches the local part without case too; Graph ids are GUIDs)."""
    return a.lower() == b.lower()


def plan(desired: dict[Key, Desired], made: dict[Key, Made], mailbox_id: str | None,
         now: datetime, ends: Mapping[Key, datetime] | None = None) -> list[Action]:
    """Actions for one user, deletions first (a moved learner loses the old session first).

    A made entry of a session no longer wanted and a new entry of another session of the same event,
    in the same mailbox, are one :class:`Move` (:func:`_moves`).

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
    return _moves(removals + writes, mailbox_id)


def _moves(actions: list[Action], mailbox_id: str | None) -> list[Action]:
    """``actions`` with each deletion of a made entry (its Graph id known, in ``mailbox_id``) and a
    creation for another session of the same event paired into one :class:`Move`, in the creation's
    place; each deletion pairs once, in the order of the sessions' ids."""
    if mailbox_id is None:
        return actions
    leaving: dict[str, list[Delete]] = {}
    for action in actions:
        if isinstance(action, Delete) and action.made.state == EntryState.ACTIVE and action.made.graph_event_id \
                and same_mailbox(action.made.mailbox_id, mailbox_id):
            leaving.setdefault(action.made.key[0], []).append(action)
    if not leaving:
        return actions
    for deletions in leaving.values():
        deletions.sort(key=lambda d: d.made.key[1])
    moved: list[Action] = []
    paired: set[Key] = set()
    for action in actions:
        deletions = leaving.get(action.desired.key[0], []) if isinstance(action, Create) else []
        if isinstance(action, Create) and deletions:
            old = deletions.pop(0)
            paired.add(old.made.key)
            moved.append(Move(action.desired, old.made))
        else:
            moved.append(action)
    return [a for a in moved if not (isinstance(a, Delete) and a.made.key in paired)]


def session_ends(events: Iterable[Event]) -> dict[Key, datetime]:
    """The end of every session of these events, as the LMS describes it now (for :func:`plan`)."""
    return {(event.id, session.id): session.end for event in events for session in event.sessions}
