"""The pure parts of a pass beside the planner (:mod:`bridge.sync.reconcile`), as values:

- :func:`look_up_for`: which actions must first find their entry by its tag;
- :func:`writes_for`: an action (and what the look-up found) → the concrete Graph writes;
- :func:`settle`: an action and its writes' answers → the change to its record (:class:`Save`,
  :class:`Drop`, or none: the record stays "in flight" and the next pass finds out), the error to
  retry the user for, and whether another pass is needed;
- :func:`outcome`: a user's settled actions → the user's state, or the error to retry for.

A mailbox is the Graph user, whose id never changes; an address is only a way to reach it. A write
addressed by an address the directory has not been asked about yet (``findable``) that answers
404 ("no such user", "no such item") says nothing about the entry: the user may have been renamed
(the old address is now only an alias, which Graph does not take in a path, or another user's UPN).
The record is kept and the address is looked up (:class:`LookUpAddress`); the next pass writes to
the mailbox by its id.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from bridge.codes import EntryState, Reason, UserState
from bridge.graph import errors
from bridge.graph.calendar import Answer, Write
from bridge.lms import rules
from bridge.sync.reconcile import (
    Action,
    Create,
    Delete,
    Desired,
    Forget,
    Key,
    Made,
    Move,
    Resume,
    Update,
    same_mailbox,
)


@dataclass(frozen=True)
class Outcome:
    """How a user's pass ended; ``again`` asks for another pass (e.g. a mailbox moved)."""

    state: UserState
    reason: Reason | None = None
    detail: str | None = None
    again: bool = False


@dataclass(frozen=True)
class LookUpAddress:
    """Graph does not know these addresses as UPNs: find their users by ``mail`` or ``proxyAddresses``
    (the user's own address, or the address an entry's mailbox was reached by)."""

    addresses: tuple[str, ...]


def settled(decision: rules.Decision, again: bool = False) -> Outcome:
    """The state of a user whose pass went through."""
    if decision.skip_reason:
        return Outcome(UserState.SKIPPED, decision.skip_reason, again=again)
    return Outcome(UserState.SYNCED, None if decision.wanted else Reason.NO_UPCOMING_SESSIONS, again=again)


@dataclass(frozen=True)
class Save:
    """Write the record of an entry."""

    desired: Desired
    mailbox: str
    state: EntryState
    transaction_id: str
    event_id: str | None
    payload_hash: str | None
    material_hash: str | None


@dataclass(frozen=True)
class Drop:
    """Remove the record of an entry."""

    key: Key


@dataclass(frozen=True)
class Settled:
    """An action's record change, the error to retry for, another pass wanted, and the address to
    find in the directory first (``find``: its mailbox was not found by it)."""

    change: Save | Drop | None
    error: errors.GraphError | None = None
    again: bool = False
    find: str | None = None
    left: Key | None = None  # a move's old session: its record goes too


def by_address(mailbox: str) -> bool:
    """Whether a recorded or planned mailbox is an address (a UPN or alias) rather than a Graph user id."""
    return "@" in mailbox


def findable(mailboxes: Iterable[str | None], cache: Mapping[str, str | None]) -> set[str]:
    """Of these mailboxes, the addresses the directory has not been asked about yet (lower-cased)."""
    return {m.lower() for m in mailboxes if m and by_address(m) and m.lower() not in cache}


def by_id(made: Mapping[Key, Made], cache: Mapping[str, str | None]) -> dict[Key, Made]:
    """Entries recorded under an address, moved to the Graph user id the directory found for it
    (``cache``: lower-cased address → id, None when no user has it). An entry whose address no user
    has now keeps its record as it is: the user may be restored (Entra keeps a deleted user 30 days,
    with its id, mailbox and entries), and its entries must then be found, not made again."""
    moved: dict[Key, Made] = {}
    for key, entry in made.items():
        found = cache.get(entry.mailbox_id.lower()) if by_address(entry.mailbox_id) else None
        moved[key] = replace(entry, mailbox_id=found) if found else entry
    return moved


def to_find(desired: Mapping[Key, Desired], made: Mapping[Key, Made], mailbox: str | None,
            cache: Mapping[str, str | None]) -> list[str]:
    """Addresses to find in the directory before a wanted entry is judged to be in another mailbox
    than the user's: two addresses (or an address and an id) may be one mailbox."""
    if mailbox is None:
        return []
    differing = [m.mailbox_id for k, m in made.items() if k in desired and not same_mailbox(m.mailbox_id, mailbox)]
    return sorted(findable([mailbox, *differing], cache)) if differing else []


def look_up_for(action: Action) -> tuple[str, str] | None:
    """(mailbox, tag) to find first: a create whose outcome is unknown, a deletion with no known id."""
    if isinstance(action, Resume) or (isinstance(action, Delete) and not action.made.graph_event_id):
        return action.made.mailbox_id, action.made.tag
    return None


def writes_for(action: Action, mailbox: str | None, transaction_id: str, found: Sequence[str] = ()) -> list[Write]:
    """The writes that carry ``action`` out; ``mailbox`` is the user's, ``found`` what the look-up found."""
    if isinstance(action, Create):
        assert mailbox is not None
        return [Write.create(mailbox, action.desired.payload, transaction_id)]
    if isinstance(action, Resume):
        box = action.made.mailbox_id
        if not found:  # never made: create again under the same transactionId (Graph keeps one)
            return [Write.create(box, action.desired.payload, action.made.transaction_id)]
        return [Write.update(box, found[0], action.desired.payload)] + [Write.delete(box, e) for e in found[1:]]
    if isinstance(action, Update | Move):
        return [Write.update(action.made.mailbox_id, action.made.graph_event_id or "", action.desired.payload)]
    if isinstance(action, Delete):
        ids = [action.made.graph_event_id] if action.made.graph_event_id else list(found)
        return [Write.delete(action.made.mailbox_id, e) for e in ids]
    return []


def _gone(error: errors.GraphError) -> bool:
    """An unknown mailbox holds nothing to delete."""
    return isinstance(error, errors.MailboxUnreachable) and error.reason == Reason.USER_NOT_FOUND


def _lost_address(error: errors.GraphError, box: str | None, findable: Collection[str]) -> bool:
    """"No such user" (or, for an entry, "no such item") at a mailbox reached by an address the
    directory may still find: after a rename the address is an alias, or another user's UPN."""
    return box is not None and box.lower() in findable and (_gone(error) or isinstance(error, errors.NotFound))


def settle(action: Action, answers: Sequence[Answer], mailbox: str | None, transaction_id: str,
           look_up_error: errors.GraphError | None = None, findable: Collection[str] = ()) -> Settled:
    """What ``answers`` (one per write of :func:`writes_for`, in order) mean for the record.

    ``findable``: the lower-cased addresses the directory has not been asked about yet; a 404 at one
    of them keeps the entry's record and asks for the address to be found (see the module).
    """
    if isinstance(action, Forget):
        return Settled(Drop(action.made.key))
    if not isinstance(action, Create):
        box = action.made.mailbox_id
        lost = next((e for e in [look_up_error, *answers] if isinstance(e, errors.GraphError)
                     and _lost_address(e, box, findable)), None)
        if lost is not None:
            return Settled(None, lost, find=box)  # renamed? found by the directory, then written by id
    if isinstance(action, Delete):
        failed = [a for a in answers if isinstance(a, errors.GraphError) and not _gone(a)]
        if look_up_error is not None and not _gone(look_up_error):
            failed.insert(0, look_up_error)
        if failed:
            return Settled(None, failed[0])
        return Settled(Drop(action.made.key), again=mailbox is not None and not same_mailbox(action.made.mailbox_id,
                                                                                          mailbox))
    error = look_up_error or next((a for a in answers if isinstance(a, errors.GraphError)), None)
    if isinstance(action, Update) and isinstance(error, errors.NotFound):
        return _deleted_in_outlook(action)
    if isinstance(action, Move) and isinstance(error, errors.NotFound):
        # the user deleted the old session's entry; the new session is a material change: its record,
        # recorded "creating" before the write, is made on the next pass (found by its tag, or created)
        return Settled(None, again=True, left=action.made.key)
    if isinstance(error, errors.MailboxUnreachable):
        if not isinstance(action, Create):  # the entry stays recorded: a restored user gets it updated
            return Settled(None, error)
        find = mailbox if _lost_address(error, mailbox, findable) else None
        return Settled(Drop(action.desired.key), error, find=find)  # nothing can have been made there
    if error is not None:
        return Settled(None, error)
    desired = action.desired
    if isinstance(action, Move):
        return Settled(Save(desired, action.made.mailbox_id, EntryState.ACTIVE, transaction_id,
                            action.made.graph_event_id, desired.payload_hash, desired.material_hash),
                       left=action.made.key)
    if isinstance(action, Update):
        box, transaction, event_id = action.made.mailbox_id, action.made.transaction_id, action.made.graph_event_id
    elif isinstance(action, Resume):
        box, transaction, event_id = action.made.mailbox_id, action.made.transaction_id, str(answers[0])
    else:
        assert mailbox is not None
        box, transaction, event_id = mailbox, transaction_id, str(answers[0])
    return Settled(Save(desired, box, EntryState.ACTIVE, transaction, event_id, desired.payload_hash,
                        desired.material_hash))


def _deleted_in_outlook(action: Update) -> Settled:
    """The user deleted it: keep it gone unless time, place or link changed (then re-make it)."""
    changed = action.desired.material_hash != action.made.material_hash
    material = action.made.material_hash if changed else action.desired.material_hash
    return Settled(Save(action.desired, action.made.mailbox_id, EntryState.DELETED_IN_OUTLOOK,
                        action.made.transaction_id, None, None, material), again=changed)


def outcome(decision: rules.Decision, done: Sequence[Settled]) -> Outcome | LookUpAddress | Exception:
    """The user's state after their actions settled, the error to retry them for, or the directory
    look-ups to make first (addresses tried as UPNs that Graph does not know)."""
    finds = sorted({s.find for s in done if s.find})
    if finds:
        return LookUpAddress(tuple(finds))
    failures = [s.error for s in done if s.error is not None]
    unreachable = next((e for e in failures if isinstance(e, errors.MailboxUnreachable)), None)
    if unreachable is not None:
        return Outcome(UserState.FAILED, unreachable.reason, str(unreachable))
    if failures:
        return failures[0]
    return settled(decision, any(s.again for s in done))
