"""The pure planner: wanted vs. made → actions, and nothing when they agree."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bridge.codes import EntryState
from bridge.sync import reconcile as r

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def desired(sid: str = "s1", payload_hash: str = "p1", material: str = "m1") -> r.Desired:
    return r.Desired(key=("e1", sid), payload={}, payload_hash=payload_hash, material_hash=material,
                     starts_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=1, hours=2), tag=f"t-{sid}")


def made(sid: str = "s1", state: str = EntryState.ACTIVE, payload_hash: str | None = "p1", material: str = "m1",
         ends_at: datetime | None = None, mailbox: str = "mbx", graph_id: str | None = "g1") -> r.Made:
    return r.Made(key=("e1", sid), mailbox_id=mailbox, graph_event_id=graph_id, transaction_id="tx",
                  state=state, payload_hash=payload_hash, material_hash=material,
                  ends_at=ends_at or NOW + timedelta(days=1, hours=2), tag=f"t-{sid}")


def kinds(actions: list[r.Action]) -> list[tuple[str, str]]:
    return [(type(a).__name__, (a.desired if hasattr(a, "desired") else a.made).key[1]) for a in actions]


CASES = [
    ("new wanted entry is created", {"s1": desired()}, {}, [("Create", "s1")]),
    ("unchanged entry: nothing", {"s1": desired()}, {"s1": made()}, []),
    ("changed content is updated", {"s1": desired(payload_hash="p2")}, {"s1": made()}, [("Update", "s1")]),
    ("no longer wanted is deleted", {}, {"s1": made()}, [("Delete", "s1")]),
    ("a past entry is never touched, even if unwanted", {}, {"s1": made(ends_at=NOW - timedelta(hours=1))}, []),
    ("an unconfirmed create is resumed", {"s1": desired()}, {"s1": made(state=EntryState.CREATING, graph_id=None)},
     [("Resume", "s1")]),
    ("an unconfirmed, unwanted create is looked up and deleted", {},
     {"s1": made(state=EntryState.CREATING, graph_id=None)}, [("Delete", "s1")]),
    ("deleted in Outlook and only the title changed: stays gone",
     {"s1": desired(payload_hash="p2")}, {"s1": made(state=EntryState.DELETED_IN_OUTLOOK, payload_hash=None)}, []),
    ("deleted in Outlook and the time changed: made again",
     {"s1": desired(material="m2")}, {"s1": made(state=EntryState.DELETED_IN_OUTLOOK, payload_hash=None)},
     [("Create", "s1")]),
    ("deleted in Outlook and no longer wanted: record forgotten", {},
     {"s1": made(state=EntryState.DELETED_IN_OUTLOOK)}, [("Forget", "s1")]),
    ("moved to another session: the made entry is moved, one update",
     {"s2": desired("s2")}, {"s1": made("s1")}, [("Move", "s2")]),
    ("moved from a session whose create is unconfirmed: looked up and deleted, the new one made",
     {"s2": desired("s2")}, {"s1": made("s1", state=EntryState.CREATING, graph_id=None)},
     [("Delete", "s1"), ("Create", "s2")]),
    ("moved from a session deleted in Outlook: record forgotten, the new one made",
     {"s2": desired("s2")}, {"s1": made("s1", state=EntryState.DELETED_IN_OUTLOOK)},
     [("Forget", "s1"), ("Create", "s2")]),
    ("moved, and the old entry is in another mailbox: removed there, made in the new one",
     {"s2": desired("s2")}, {"s1": made("s1", mailbox="old")}, [("Delete", "s1"), ("Create", "s2")]),
    ("two sessions left for one: the first (by id) moved, the other deleted",
     {"s3": desired("s3")}, {"s2": made("s2"), "s1": made("s1")}, [("Delete", "s2"), ("Move", "s3")]),
    ("the user's mailbox changed: removed from the old one first",
     {"s1": desired()}, {"s1": made(mailbox="old")}, [("Delete", "s1")]),
]


@pytest.mark.parametrize(("name", "wanted", "have", "expected"), CASES, ids=[c[0] for c in CASES])
def test_plan(name: str, wanted: dict[str, r.Desired], have: dict[str, r.Made],
              expected: list[tuple[str, str]]) -> None:
    actions = r.plan({d.key: d for d in wanted.values()}, {m.key: m for m in have.values()}, "mbx", NOW)
    assert kinds(actions) == expected


def test_no_mailbox_means_no_creates() -> None:
    assert r.plan({("e1", "s1"): desired()}, {}, None, NOW) == []


def test_plan_after_applying_is_empty() -> None:
    """Level-triggered: once made matches wanted, planning again yields nothing."""
    wanted = {("e1", f"s{i}"): desired(f"s{i}", payload_hash=f"p{i}") for i in range(3)}
    have = {("e1", "s0"): made("s0", payload_hash="old"), ("e1", "s9"): made("s9")}
    actions = r.plan(wanted, have, "mbx", NOW)
    after = {k: replace(made(k[1]), payload_hash=d.payload_hash) for k, d in wanted.items()}
    assert actions and r.plan(wanted, after, "mbx", NOW) == []


PAST = NOW - timedelta(hours=1)
LATER = NOW + timedelta(days=7)
MOVES = [
    ("a session moved from the past into the future: its entry follows it",
     {"s1": desired(payload_hash="p2")}, {"s1": made(ends_at=PAST)}, {"s1": LATER}, [("Update", "s1")]),
    ("moved into the future, unconfirmed create: resumed", {"s1": desired()},
     {"s1": made(state=EntryState.CREATING, graph_id=None, ends_at=PAST)}, {"s1": LATER}, [("Resume", "s1")]),
    ("a session moved into the past is left alone (not wanted, not removed)",
     {}, {"s1": made()}, {"s1": PAST}, []),
    ("a session the LMS no longer has: the recorded end decides",
     {}, {"s1": made()}, {}, [("Delete", "s1")]),
    ("a session still ahead but no longer wanted is removed", {}, {"s1": made(ends_at=PAST)}, {"s1": LATER},
     [("Delete", "s1")]),
]


@pytest.mark.parametrize(("name", "wanted", "have", "ends", "expected"), MOVES, ids=[c[0] for c in MOVES])
def test_past_is_judged_by_the_lms_now(name: str, wanted: dict[str, r.Desired], have: dict[str, r.Made],
                                       ends: dict[str, datetime], expected: list[tuple[str, str]]) -> None:
    actions = r.plan({d.key: d for d in wanted.values()}, {m.key: m for m in have.values()}, "mbx", NOW,
                     {("e1", sid): end for sid, end in ends.items()})
    assert kinds(actions) == expected


def test_a_sessions_payload_is_built_once_for_all_its_learners_and_again_when_it_changes() -> None:
    from bridge.lms.views import Event, Session

    session = Session(id="s1", event_id="e1", position=0, start=NOW + timedelta(days=1),
                      end=NOW + timedelta(days=1, hours=2))
    event = Event(id="e1", title="Safety", timezone="Europe/Berlin", description="Bring boots.", sessions=(session,))
    first = r.built(False, event, session, 15, None)
    assert r.built(False, replace(event), replace(session), 15, None) is first  # equal rows read again: kept
    renamed = r.built(False, replace(event, title="Safety II"), session, 15, None)
    assert renamed[0]["subject"] == "Safety II" and renamed[1] != first[1] and renamed[2] == first[2]
    assert r.built(False, event, session, 30, None)[1] != first[1]  # the reminder is part of the key
    assert r.built(False, event, session, 15, "ru")[1] != first[1]  # and the language
    huge = replace(event, description="x" * (r.KEPT_DESCRIPTION + 1))
    assert r.built(False, huge, session, 15, None) is not r.built(False, huge, session, 15, None)  # never kept
