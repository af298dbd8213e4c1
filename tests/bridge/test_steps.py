"""The pure parts of a pass beside the planner (bridge.sync.steps), as tables: an action and what the
look-up found → the writes; an action and its answers → the record change, the error, another pass;
a user's settled actions → the user's outcome."""
from __future__ import annotations

from typing import Any

import pytest

from bridge.codes import EntryState, Reason, UserState
from bridge.graph import errors
from bridge.graph.calendar import Write
from bridge.lms import rules
from bridge.sync import reconcile as r
from bridge.sync import steps
from tests.bridge.test_reconcile import desired, made

NEW = desired(payload_hash="p2")
MADE = made()
PENDING = made(state=EntryState.CREATING, graph_id=None)
MOVED = desired("s2")  # the old session's entry MADE, moved to s2
LOST = errors.Transient("lost")
THROTTLED = errors.Throttled("429", 3.0)
NOT_FOUND = errors.NotFound("404")
NO_USER = errors.MailboxUnreachable("404", Reason.USER_NOT_FOUND)
OLD = "ann@old.example"  # an address the directory was not asked about yet
AT_ADDRESS = made(mailbox=OLD)
ON_PREMISES = errors.MailboxUnreachable("404", Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE)

WRITES: list[tuple[str, r.Action, list[str], list[Write]]] = [
    ("create in the user's mailbox with a fresh transaction id", r.Create(NEW), [],
     [Write.create("box", NEW.payload, "tx-new")]),
    ("resume, nothing found: create again under the recorded transaction id", r.Resume(NEW, PENDING), [],
     [Write.create("mbx", NEW.payload, "tx")]),
    ("resume, found: adopt it (update), remove duplicates", r.Resume(NEW, PENDING), ["g7", "g8"],
     [Write.update("mbx", "g7", NEW.payload), Write.delete("mbx", "g8")]),
    ("update by id", r.Update(NEW, MADE), [], [Write.update("mbx", "g1", NEW.payload)]),
    ("move: the made entry updated by id with the new session's payload", r.Move(MOVED, MADE), [],
     [Write.update("mbx", "g1", MOVED.payload)]),
    ("delete by id", r.Delete(MADE), [], [Write.delete("mbx", "g1")]),
    ("delete with no id: whatever carries the tag", r.Delete(PENDING), ["g7", "g8"],
     [Write.delete("mbx", "g7"), Write.delete("mbx", "g8")]),
    ("forget: nothing to send", r.Forget(MADE), [], []),
]


@pytest.mark.parametrize(("name", "action", "found", "expected"), WRITES, ids=[w[0] for w in WRITES])
def test_writes_for(name: str, action: r.Action, found: list[str], expected: list[Write]) -> None:
    assert steps.writes_for(action, "box", "tx-new", found) == expected


def test_only_unknown_ids_are_looked_up() -> None:
    assert steps.look_up_for(r.Resume(NEW, PENDING)) == ("mbx", PENDING.tag)
    assert steps.look_up_for(r.Delete(PENDING)) == ("mbx", PENDING.tag)
    assert [steps.look_up_for(a) for a in (r.Create(NEW), r.Update(NEW, MADE), r.Move(MOVED, MADE),
                                           r.Delete(MADE))] == [None] * 4


def save(event_id: str | None, *, state: str = EntryState.ACTIVE, mailbox: str = "box", transaction: str = "tx-new",
         payload_hash: str | None = "p2", material: str | None = "m1") -> steps.Save:
    return steps.Save(NEW, mailbox, state, transaction, event_id, payload_hash, material)


SETTLE: list[tuple[str, r.Action, list[Any], Any, steps.Settled]] = [
    ("created: active with its id", r.Create(NEW), ["g9"], None, steps.Settled(save("g9"))),
    ("create lost: record stays creating", r.Create(NEW), [LOST], None, steps.Settled(None, LOST)),
    ("create refused, no such mailbox: nothing was made", r.Create(NEW), [NO_USER], None,
     steps.Settled(steps.Drop(NEW.key), NO_USER)),
    ("create refused at an address never looked up: nothing made, find the address", r.Create(NEW), [NO_USER],
     None, steps.Settled(steps.Drop(NEW.key), NO_USER, find="box")),
    ("create throttled out: retried", r.Create(NEW), [THROTTLED], None, steps.Settled(None, THROTTLED)),
    ("resumed and found: active under the old transaction", r.Resume(NEW, PENDING), ["g7", "g8"], None,
     steps.Settled(save("g7", mailbox="mbx", transaction="tx"))),
    ("resume's look-up failed", r.Resume(NEW, PENDING), [], LOST, steps.Settled(None, LOST)),
    ("updated", r.Update(NEW, MADE), ["g1"], None, steps.Settled(save("g1", mailbox="mbx", transaction="tx"))),
    ("update refused, no such user (deleted, maybe restored later): the record kept", r.Update(NEW, MADE),
     [NO_USER], None, steps.Settled(None, NO_USER)),
    ("resume refused, no such user: the record stays creating", r.Resume(NEW, PENDING), [NO_USER], None,
     steps.Settled(None, NO_USER)),
    ("update lost: in flight (hash cleared before sending)", r.Update(NEW, MADE), [LOST], None,
     steps.Settled(None, LOST)),
    ("deleted in Outlook, only the title changed: stays gone", r.Update(NEW, MADE), [NOT_FOUND], None,
     steps.Settled(save(None, state=EntryState.DELETED_IN_OUTLOOK, mailbox="mbx", transaction="tx",
                        payload_hash=None))),
    ("deleted in Outlook, time changed: made again next pass", r.Update(desired(material="m2"), MADE),
     [NOT_FOUND], None, steps.Settled(steps.Save(desired(material="m2"), "mbx", EntryState.DELETED_IN_OUTLOOK, "tx",
                                                 None, None, "m1"), again=True)),
    ("moved: the new session's record active with the old one's id, the old record goes", r.Move(MOVED, MADE),
     ["g1"], None, steps.Settled(steps.Save(MOVED, "mbx", EntryState.ACTIVE, "tx-new", "g1", "p1", "m1"),
                                 left=MADE.key)),
    ("move's entry deleted in Outlook: the old record goes, the new one made next pass", r.Move(MOVED, MADE),
     [NOT_FOUND], None, steps.Settled(None, again=True, left=MADE.key)),
    ("move lost: both in flight (found by their tags next pass)", r.Move(MOVED, MADE), [LOST], None,
     steps.Settled(None, LOST)),
    ("move refused, no such user: the records kept", r.Move(MOVED, MADE), [NO_USER], None,
     steps.Settled(None, NO_USER)),
    ("move at an address no user has as UPN: records kept, find it", r.Move(MOVED, AT_ADDRESS), [NOT_FOUND], None,
     steps.Settled(None, NOT_FOUND, find=OLD)),
    ("deleted", r.Delete(MADE), ["g1"], None, steps.Settled(steps.Drop(MADE.key))),
    ("deletion of an unknown mailbox: nothing to delete", r.Delete(MADE), [NO_USER], None,
     steps.Settled(steps.Drop(MADE.key))),
    ("deletion lost: in flight", r.Delete(MADE), [LOST], None, steps.Settled(None, LOST)),
    ("deleted from the old mailbox: another pass makes it in the new", r.Delete(made(mailbox="old")), ["g1"],
     None, steps.Settled(steps.Drop(MADE.key), again=True)),
    ("deletion with no id, nothing found", r.Delete(PENDING), [], None, steps.Settled(steps.Drop(MADE.key))),
    ("forgotten", r.Forget(MADE), [], None, steps.Settled(steps.Drop(MADE.key))),
    ("update at an address no user has as UPN (renamed?): record kept, find it", r.Update(NEW, AT_ADDRESS),
     [NO_USER], None, steps.Settled(None, NO_USER, find=OLD)),
    ("update not found at such an address (now another user's UPN?): not deleted in Outlook, find it",
     r.Update(NEW, AT_ADDRESS), [NOT_FOUND], None, steps.Settled(None, NOT_FOUND, find=OLD)),
    ("deletion at such an address: not gone, find it", r.Delete(AT_ADDRESS), [NO_USER], None,
     steps.Settled(None, NO_USER, find=OLD)),
    ("deletion's tag look-up at such an address: not gone, find it", r.Delete(made(mailbox=OLD, graph_id=None)),
     [], NO_USER, steps.Settled(None, NO_USER, find=OLD)),
    ("resume at such an address: creating stays, find it", r.Resume(NEW, made(mailbox=OLD, state=EntryState.CREATING)),
     [NO_USER], None, steps.Settled(None, NO_USER, find=OLD)),
]
FINDABLE = {"box", OLD}


@pytest.mark.parametrize(("name", "action", "answers", "looked", "expected"), SETTLE, ids=[s[0] for s in SETTLE])
def test_settle(name: str, action: r.Action, answers: list[Any], looked: Any, expected: steps.Settled) -> None:
    findable = FINDABLE if "address" in name else set()
    assert steps.settle(action, answers, "box" if not isinstance(action, r.Delete) else "mbx", "tx-new",
                        looked, findable) == expected


WANTED = rules.Decision({("e1", "s1"): object()}, None)  # type: ignore[dict-item]
OUTCOMES: list[tuple[str, list[steps.Settled], Any]] = [
    ("all went through", [steps.Settled(None)], steps.Outcome(UserState.SYNCED)),
    ("another pass asked for", [steps.Settled(None), steps.Settled(None, again=True)],
     steps.Outcome(UserState.SYNCED, again=True)),
    ("a write lost: retry the user", [steps.Settled(None), steps.Settled(None, LOST)], LOST),
    ("on-premises mailbox: failed with the reason", [steps.Settled(None, ON_PREMISES)],
     steps.Outcome(UserState.FAILED, Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE, str(ON_PREMISES))),
    ("unknown UPN: look the addresses up, each once", [steps.Settled(None, NO_USER, find="b@x"), steps.Settled(
        None, NO_USER, find="a@x"), steps.Settled(None, NO_USER, find="b@x")], steps.LookUpAddress(("a@x", "b@x"))),
    ("unknown even after a look-up: failed", [steps.Settled(None, NO_USER)],
     steps.Outcome(UserState.FAILED, Reason.USER_NOT_FOUND, str(NO_USER))),
]


@pytest.mark.parametrize(("name", "done", "expected"), OUTCOMES, ids=[o[0] for o in OUTCOMES])
def test_outcome(name: str, done: list[steps.Settled], expected: Any) -> None:
    assert steps.outcome(WANTED, done) == expected


def test_a_skipped_user_keeps_the_reason() -> None:
    assert steps.outcome(rules.Decision({}, "inactive"), [steps.Settled(None)]) == \
        steps.Outcome(UserState.SKIPPED, "inactive")
    assert steps.outcome(rules.Decision({}, None), []) == steps.Outcome(UserState.SYNCED, Reason.NO_UPCOMING_SESSIONS)


CACHE: dict[str, str | None] = {OLD: "id-ann", "gone@old.example": None, "self@x.example": "self@x.example"}


def test_entries_recorded_under_a_resolved_address_move_to_the_id_and_none_is_forgotten() -> None:
    kept, at_id, itself = made(mailbox="id-bob"), made(mailbox="Ann@Old.example"), made(mailbox="self@x.example")
    gone, unknown = made(mailbox="gone@old.example"), made(mailbox="new@x.example")
    moved = steps.by_id({("e", "1"): kept, ("e", "2"): at_id, ("e", "3"): itself, ("e", "4"): gone,
                         ("e", "5"): unknown}, CACHE)
    assert {k: m.mailbox_id for k, m in moved.items()} == {
        ("e", "1"): "id-bob", ("e", "2"): "id-ann", ("e", "3"): "self@x.example",
        ("e", "4"): "gone@old.example",  # no user has it now; kept, for a user restored with its entries
        ("e", "5"): "new@x.example"}


TO_FIND: list[tuple[str, str | None, str, list[str]]] = [
    ("same address: nothing to ask", "ann@x.example", "ANN@x.example", []),
    ("the user's new address, the entry under an id: ask the new one", "ann.new@x.example", "id-ann",
     ["ann.new@x.example"]),
    ("two addresses never asked: ask both", "ann.new@x.example", "ann@x.example",
     ["ann.new@x.example", "ann@x.example"]),
    ("both known already: nothing to ask (a real move)", "self@x.example", "id-bob", []),
    ("no mailbox wanted: nothing to ask", None, "ann@x.example", []),
]


@pytest.mark.parametrize(("name", "mailbox", "recorded", "expected"), TO_FIND, ids=[t[0] for t in TO_FIND])
def test_addresses_to_find_before_an_entry_is_judged_moved(name: str, mailbox: str | None, recorded: str,
                                                           expected: list[str]) -> None:
    entry = made(mailbox=recorded)
    assert steps.to_find({entry.key: NEW}, {entry.key: entry}, mailbox, CACHE) == expected
    assert steps.to_find({}, {entry.key: entry}, mailbox, CACHE) == []  # not wanted: deleted where it is
