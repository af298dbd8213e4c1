"""Accounts are isolated: two LMS accounts in two tenants, with the same ids, never mix."""
from __future__ import annotations

from bridge.accounts import connection
from bridge.db import Database
from emulator.testing import EmulatorHandle
from tests.integration.world import World, at


def test_two_accounts_with_the_same_ids_stay_apart(emulator: EmulatorHandle, database: Database) -> None:
    first = World.create(emulator, database, account="school-a", domain="alpha.example")
    second = World.create(emulator, database, account="school-b", domain="beta.example", beside=first)
    for world, title in ((first, "Alpha course"), (second, "Beta course")):
        world.person("org")
        world.person("lena")
        world.event("e1", [("s1", at(24), at(25))], title=title)
        world.enroll("lena", "e1", "s1")
        world.connect()
    first.sync()
    second.sync()
    assert first.subjects("lena@alpha.example") == ["Alpha course"]
    assert second.subjects("lena@beta.example") == ["Beta course"]

    # a change in one account touches only that account's mailboxes
    first.change_event("e1", title="Alpha renamed")
    first.sync()
    assert first.subjects("lena@alpha.example") == ["Alpha renamed"]
    assert second.subjects("lena@beta.example") == ["Beta course"]

    # disconnecting one (removing its entries) leaves the other running
    with database.session() as session:
        connection.disconnect(session, "school-a", remove_entries=True)
    first.sync()
    assert first.subjects("lena@alpha.example") == []
    second.change_event("e1", title="Beta renamed")
    second.sync()
    assert second.subjects("lena@beta.example") == ["Beta renamed"]
    first.graph.close()
