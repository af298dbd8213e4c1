"""A user deleted in the tenant and restored (same id, same mailbox, same entries): "no such user" is
cached for minutes only, any LMS change of the user asks again, and the entry records are kept, so
the restored user's entry is updated — never made a second time. Letter case never tells two
mailboxes apart. The in-memory tenant stands in for Graph; SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bridge.codes import Reason
from bridge.db import Database
from bridge.models import DirectoryEntry, utcnow
from bridge.sync import store
from tests.bridge.memory_world import ACCOUNT, DOMAIN, MemoryWorld
from tests.reliability.lms import soon

BASE = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def world(database: Database) -> Iterator[MemoryWorld]:
    made = MemoryWorld(database)
    made.mailboxes("org", "ann")
    made.tenant.add_user(f"carl.real@{DOMAIN}", mail=f"carl@{DOMAIN}")  # reached by id, after a look-up
    made.deliver(*(made.lms.upsert_user(u) for u in ("org", "ann", "carl")),
                 made.lms.upsert_event("e1", title="Lab", organizer="org", zone="Europe/Berlin",
                                       sessions=[("s0", soon(30, BASE), soon(32, BASE))]),
                 made.lms.enroll("e1", "ann", "s0"), made.lms.enroll("e1", "carl", "s0"))
    made.connect()
    made.sync()
    yield made


def state(world: MemoryWorld, uid: str) -> tuple[str, str | None]:
    with world.database.session() as session:
        recorded, reason, _ = store.user_states_of(session, ACCOUNT, [uid])[uid]
    return recorded, reason


@pytest.mark.parametrize("uid,upn", [("ann", f"ann@{DOMAIN}"), ("carl", f"carl.real@{DOMAIN}")],
                         ids=["written-by-address", "written-by-id"])
def test_a_restored_user_gets_its_entry_updated_not_made_again(world: MemoryWorld, uid: str, upn: str) -> None:
    [before] = world.tenant.events(upn)
    deleted = world.tenant.delete_user(upn)
    world.deliver(world.lms.move_session("e1", "s0", timedelta(hours=1)))
    world.worker().drain(timeout=30, due_within=0)
    assert state(world, uid) == ("failed", Reason.USER_NOT_FOUND)
    with world.database.session() as session:
        assert len(store.made_entries_of(session, ACCOUNT, [uid])[uid]) == 1  # the record is kept
        for row in session.scalars(select(DirectoryEntry).where(DirectoryEntry.graph_user_id.is_(None))):
            assert row.expires_at <= utcnow() + timedelta(minutes=5)  # "no such user" expires in minutes

    world.tenant.restore_user(deleted)
    world.deliver(world.lms.change_event("e1", title="Lab (room 2)"))  # any LMS change: asked again
    world.worker().drain(timeout=30, due_within=0)
    assert state(world, uid) == ("synced", None)
    [after] = world.tenant.events(upn)
    assert after["id"] == before["id"] and after["subject"] == "Lab (room 2)"
    assert after["start"] == soon(31, BASE).strftime("%Y-%m-%dT%H:%M:%S")
    assert [e["subject"] for e in world.tenant.events(f"org@{DOMAIN}")] == ["Lab (room 2)"]


def test_addresses_differing_in_letter_case_share_a_mailbox_and_the_entry_stays(database: Database) -> None:
    """a1 and a2 carry one address in two letter cases: one entry in the mailbox. Then a1 writes its
    address in capitals and a2 leaves: the entry stays (what the user added to it in Outlook too)."""
    world = MemoryWorld(database)
    world.mailboxes("org", "ann")
    world.deliver(world.lms.upsert_user("org"), world.lms.upsert_user("a1", email=f"Ann@{DOMAIN}"),
                  world.lms.upsert_user("a2", email=f"ann@{DOMAIN}"),
                  world.lms.upsert_event("e1", title="Lab", organizer="org", zone="Europe/Berlin",
                                         sessions=[("s0", soon(30, BASE), soon(32, BASE))]),
                  world.lms.enroll("e1", "a1", "s0"), world.lms.enroll("e1", "a2", "s0"))
    world.connect()
    world.sync()
    [entry] = world.tenant.events(f"ann@{DOMAIN}")
    mailbox = world.tenant._user(f"ann@{DOMAIN}")
    assert mailbox is not None
    world.deliver(world.lms.change_user("a1", email=f"ANN@{DOMAIN.upper()}"), world.lms.delete_user("a2"))
    world.sync()
    assert [e["id"] for e in world.tenant.events(f"ann@{DOMAIN}")] == [entry["id"]]
    assert set(mailbox.changes) == {entry["id"]}  # never deleted and made again
    assert world.problems() == []
