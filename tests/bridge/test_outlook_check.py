"""The Outlook-side check (bridge.outlook_check.check) over the in-memory tenant, on SQLite and PostgreSQL:
users delete and move entries in Outlook; one check sees it, the account's choice is followed, and
the delta round survives a restart (a new worker and Graph go on from the stored deltaLink)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bridge.codes import EntryState, MovedChoice
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.client import Graph
from bridge.graph.memory import MemoryTenant
from bridge.graph.wire import Reply, Request
from bridge.lms import settings as account_settings
from bridge.models import Entry, OutlookChange, OutlookCheck, utcnow
from bridge.outlook_check import check as outlook_check
from bridge.outlook_check import store
from bridge.sync import pauses
from bridge.worker.loop import Worker
from tests.bridge.memory_world import ACCOUNT, DOMAIN, MemoryWorld
from tests.reliability.lms import soon

BASE = datetime.now(UTC)


class Recording:
    """The in-memory tenant's transport, keeping the path of every request sent (a new one per "process")."""

    def __init__(self, tenant: MemoryTenant) -> None:
        self.tenant, self.paths = tenant, []  # type: ignore[var-annotated]

    def send(self, tenant_id: str, batch: Sequence[Request]) -> list[Reply]:
        self.paths.extend(r.path for r in batch)
        return self.tenant.send(tenant_id, batch)

    def close(self) -> None:
        self.tenant.close()


@pytest.fixture
def world(database: Database) -> Iterator[MemoryWorld]:
    made = MemoryWorld(database)
    made.mailboxes("org", "ann", "bob")
    lms = made.lms
    made.deliver(*(lms.upsert_user(u) for u in ("org", "ann", "bob")),
                 lms.upsert_event("e1", title="Seminar", organizer="org", zone="Europe/Berlin",
                                  sessions=[("s1", soon(50, BASE), soon(52, BASE))]),
                 lms.enroll("e1", "ann", "s1"), lms.enroll("e1", "bob", "s1"))
    made.connect()
    made.sync()
    yield made


def restarted(world: MemoryWorld) -> tuple[Worker, Recording]:
    """A worker of a new process: its own Graph (exchange, gateways) over a recording transport."""
    transport = Recording(world.tenant)
    graph = Graph(world.tenant, transport, world.slept.append)
    return Worker(world.database, graph, concurrency=2, full_reconcile=timedelta(days=1)), transport


def event(world: MemoryWorld, uid: str) -> dict[str, Any]:
    [found] = world.tenant.events(f"{uid}@{DOMAIN}")
    return found


def entry(world: MemoryWorld, uid: str) -> Entry:
    with world.database.session() as session:
        found = session.scalars(select(Entry).where(Entry.account_id == ACCOUNT, Entry.user_id == uid)).one()
        session.expunge(found)
        return found


def changes(world: MemoryWorld) -> dict[str, str]:
    with world.database.session() as session:
        return {c.user_id: c.kind for c in session.scalars(select(OutlookChange))}


def move_an_hour_later(world: MemoryWorld, uid: str) -> tuple[str, str]:
    found = event(world, uid)
    later = [(datetime.fromisoformat(found[k]) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
             for k in ("start", "end")]
    world.tenant.move_event(f"{uid}@{DOMAIN}", found["id"], later[0], later[1])
    return later[0], later[1]


@pytest.mark.parametrize("choice", [MovedChoice.PUT_BACK, MovedChoice.LEAVE])
def test_a_deletion_and_a_move_are_seen_in_one_check_and_the_choice_is_followed(
        world: MemoryWorld, choice: str) -> None:
    first, _ = restarted(world)
    baseline = first.check_outlook(BASE)
    assert (baseline.mailboxes, baseline.deleted, baseline.moved) == (3, 0, 0)
    with world.database.session() as session:
        account_settings.set_moved_choice(session, ACCOUNT, choice)
    lms_time = event(world, "bob")["start"], event(world, "bob")["end"]
    world.tenant.delete_event(f"ann@{DOMAIN}", event(world, "ann")["id"])
    moved_to = move_an_hour_later(world, "bob")

    worker, transport = restarted(world)  # a restart: nothing but the database carries the round
    report = worker.check_outlook(BASE)

    assert (report.deleted, report.moved) == (1, 1)
    deltas = [p for p in transport.paths if "calendarView/delta" in p]
    assert len(deltas) == 3 and all("$deltatoken=" in p and "startDateTime" not in p for p in deltas)
    assert changes(world) == {"ann": "deleted", "bob": "moved"}
    assert entry(world, "ann").state == EntryState.DELETED_IN_OUTLOOK
    with world.database.session() as session:
        assert {u: k for u, (k, _) in store.latest_changes(session, ACCOUNT, ["ann", "bob", "org"]).items()} == {
            "ann": "deleted", "bob": "moved"}

    world.sync()
    assert world.tenant.events(f"ann@{DOMAIN}") == []  # a deletion is not put back (BEHAVIOUR §9)
    expected = lms_time if choice == MovedChoice.PUT_BACK else moved_to
    assert (event(world, "bob")["start"], event(world, "bob")["end"]) == expected
    assert entry(world, "bob").state == EntryState.ACTIVE
    again = restarted(world)[0].check_outlook(BASE)
    assert (again.deleted, again.moved) == (0, 0)  # the plugin's own putting back is not a user's move


def test_a_deletion_before_the_first_check_is_seen_by_its_full_listing(world: MemoryWorld) -> None:
    world.tenant.delete_event(f"ann@{DOMAIN}", event(world, "ann")["id"])
    worker, transport = restarted(world)
    report = worker.check_outlook(BASE)
    assert (report.deleted, report.moved) == (1, 0)
    assert all("startDateTime" in p for p in transport.paths if "calendarView/delta" in p)
    assert changes(world) == {"ann": "deleted"}


def test_an_entry_moved_out_of_the_window_is_moved_not_deleted(world: MemoryWorld) -> None:
    restarted(world)[0].check_outlook(BASE)
    far = (BASE + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%S")
    later = (BASE + timedelta(days=400, hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    world.tenant.move_event(f"bob@{DOMAIN}", event(world, "bob")["id"], far, later)
    report = restarted(world)[0].check_outlook(BASE)
    assert (report.deleted, report.moved) == (0, 1)
    assert changes(world) == {"bob": "moved"}


def test_pages_are_followed_and_a_round_cut_short_goes_on_at_the_next_check(world: MemoryWorld) -> None:
    for n in range(3):  # ann's mailbox holds three more entries than the plugin's
        world.tenant.send(world.tenant.tenant_id, [Request("POST", f"/users/ann@{DOMAIN}/events", body={
            "subject": f"own {n}", "start": {"dateTime": soon(60 + n, BASE).strftime("%Y-%m-%dT%H:%M:%S"),
                                             "timeZone": "UTC"},
            "end": {"dateTime": soon(61 + n, BASE).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}})])
    world.tenant.delete_event(f"bob@{DOMAIN}", event(world, "bob")["id"])
    worker, transport = restarted(world)
    cut = outlook_check.check(world.database, worker.graph, BASE, pages=2, page_size=1)
    assert cut.requests == 5  # ann: 2 pages of 4; bob: 1 (empty, deltaLink); org: 2 pages of 1 + deltaLink
    assert cut.deleted == 1  # bob's full listing came whole
    skipped = [p for p in transport.paths if "$skiptoken=" in p]
    assert skipped  # the second pages were asked by their nextLink
    rest = outlook_check.check(world.database, worker.graph, BASE, pages=10, page_size=1)
    assert rest.deleted == 0 and rest.moved == 0 and entry(world, "ann").state == EntryState.ACTIVE


def test_at_most_the_limit_of_mailboxes_per_check_oldest_first(world: MemoryWorld) -> None:
    worker, _ = restarted(world)
    assert outlook_check.check(world.database, worker.graph, BASE, limit=2).mailboxes == 2
    with world.database.session() as session:
        [never] = [b.mailbox_id for b in store.due(session, 3) if b.link is None]
    with world.database.session() as session:
        assert store.due(session, 1)[0].mailbox_id == never


def test_an_unknown_choice_is_refused_and_nothing_stored(world: MemoryWorld) -> None:
    with world.database.session() as session, pytest.raises(ValueError, match="'sometimes' is not one of"):
        account_settings.set_moved_choice(session, ACCOUNT, "sometimes")
    with world.database.session() as session:
        assert account_settings.read(session, ACCOUNT).moved_choice == MovedChoice.PUT_BACK


def test_the_worker_checks_outlook_as_part_of_its_housekeeping(world: MemoryWorld) -> None:
    world.tenant.delete_event(f"ann@{DOMAIN}", event(world, "ann")["id"])
    worker = Worker(world.database, world.graph, concurrency=2, full_reconcile=timedelta(days=1),
                    outlook_every=timedelta(0))
    worker.drain(timeout=30, due_within=0)
    assert changes(world) == {"ann": "deleted"}


def test_a_move_left_as_the_user_made_it_is_not_seen_again_by_a_new_round(world: MemoryWorld) -> None:
    restarted(world)[0].check_outlook(BASE)
    with world.database.session() as session:
        account_settings.set_moved_choice(session, ACCOUNT, MovedChoice.LEAVE)
    move_an_hour_later(world, "bob")
    assert restarted(world)[0].check_outlook(BASE).moved == 1
    with world.database.session() as session:  # as when Graph refuses a token: a new round lists it all
        session.execute(update(OutlookCheck).values(link=None))
    worker, transport = restarted(world)
    report = worker.check_outlook(BASE)
    assert (report.mailboxes, report.moved) == (3, 0)
    assert changes(world) == {"bob": "moved"}
    assert all("startDateTime" in p for p in transport.paths if "calendarView/delta" in p)


def test_a_paused_mailbox_is_not_asked_and_a_429_met_is_remembered(world: MemoryWorld) -> None:
    """Graph's pauses hold for the check too: ann's mailbox is paused (by a pass, say) and is not
    asked; bob's answers 429 and its pause is kept for the passes; org's is checked."""
    tenant = world.tenant
    ann, bob, org = (tenant._user(f"{u}@{DOMAIN}") for u in ("ann", "bob", "org"))
    assert ann is not None and bob is not None and org is not None
    with world.database.session() as session:
        paused = errors.Throttled("429", 60, mailbox=entry(world, "ann").mailbox_id)
        pauses.remember(session, tenant.tenant_id, [paused], utcnow())
    tenant.throttle_mailbox(bob.id, 30)
    asked = dict(tenant.asked)
    report = outlook_check.check(world.database, world.graph)
    assert tenant.asked[ann.id] == asked[ann.id] and tenant.asked[org.id] > asked[org.id]
    assert report.mailboxes == 2 and report.failed == 1
    with world.database.session() as session:
        held = pauses.in_force(session, tenant.tenant_id, utcnow())
    assert held.of([entry(world, "bob").mailbox_id]) is not None
