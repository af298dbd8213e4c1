"""The calendar gateway's contract (:mod:`bridge.graph.calendar`), one class run against the emulator
over HTTPS and against the in-memory tenant (:mod:`bridge.graph.memory`): whatever the executor's fast
tests learn over memory holds over the wire.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from bridge.codes import AccessGrant, Reason, TenantReason
from bridge.db import Database
from bridge.graph import errors
from bridge.graph.auth import token_roles
from bridge.graph.calendar import TAG_PROPERTY_ID, DeltaAsk, DeltaPage, Write
from bridge.graph.client import Graph
from bridge.graph.memory import Faults, MemoryTenant
from emulator.testing import EmulatorHandle
from tests.integration.world import DOMAIN, World

DIRECTORY_ONLY = ["User.Read.All", "Domain.Read.All"]
DENIED = "Access is denied. Check credentials and try again."
SCOPED = AccessGrant.EXCHANGE_SCOPE


class Backend(Protocol):
    graph: Graph
    tenant_id: str
    slept: list[float]

    def user(self, name: str, mailbox: str = "exchange_online", alias: str | None = None) -> str: ...

    def subjects(self, upn: str) -> list[str]: ...

    def shown_as(self, upn: str) -> list[str]: ...

    def delete_in_outlook(self, upn: str, event_id: str) -> None: ...

    def rename(self, upn: str, new_upn: str) -> None: ...

    def move_in_outlook(self, upn: str, event_id: str, start: str, end: str) -> None: ...

    def throttle(self, share: float, retry_after: float) -> None: ...

    def lose_answers(self) -> None: ...

    def calm(self) -> None: ...

    def directory_only(self) -> None: ...

    def group(self, members: list[str]) -> str: ...

    def scope_to(self, group: str) -> None: ...


@dataclass
class EmulatorBackend:
    world: World
    graph: Graph
    slept: list[float] = field(default_factory=list)

    @property
    def tenant_id(self) -> str:
        return self.world.tenant_id

    def user(self, name: str, mailbox: str = "exchange_online", alias: str | None = None) -> str:
        upn = f"{name}@{DOMAIN}"
        self.world.emulator.admin.create_user(self.tenant_id, upn, mail=alias or upn, mailbox=mailbox,
                                              proxy_addresses=[f"smtp:{alias}"] if alias else None)
        return upn

    def subjects(self, upn: str) -> list[str]:
        return sorted(e["subject"] for e in self.world.emulator.admin.events(self.tenant_id, upn))

    def shown_as(self, upn: str) -> list[str]:
        return sorted(e["showAs"] for e in self.world.emulator.admin.events(self.tenant_id, upn))

    def delete_in_outlook(self, upn: str, event_id: str) -> None:
        self.world.emulator.admin.delete_event(self.tenant_id, upn, event_id)

    def rename(self, upn: str, new_upn: str) -> None:
        self.world.emulator.admin.rename_user(self.tenant_id, upn, new_upn)

    def move_in_outlook(self, upn: str, event_id: str, start: str, end: str) -> None:
        self.world.emulator.admin.edit_event(self.tenant_id, upn, event_id,
                                             start={"dateTime": start, "timeZone": "UTC"},
                                             end={"dateTime": end, "timeZone": "UTC"})

    def throttle(self, share: float, retry_after: float) -> None:
        self.world.emulator.admin.set_faults(rate_429=share, retry_after_s=retry_after, seed=7)

    def lose_answers(self) -> None:
        self.world.emulator.admin.set_faults(rate_ambiguous=1.0, methods=["POST"], ambiguous_hold_ms=10)

    def calm(self) -> None:
        self.world.emulator.admin.set_faults(rate_429=0.0, rate_ambiguous=0.0, methods=None)

    def directory_only(self) -> None:
        self.world.emulator.admin.grant_consent(self.tenant_id, self.world.settings.client_id, DIRECTORY_ONLY)
        self.graph.tokens.forget(self.tenant_id)

    def group(self, members: list[str]) -> str:
        made = self.world.emulator.admin.create_group(self.tenant_id, f"Group {uuid.uuid4().hex[:8]}", members=members)
        return str(made["id"])

    def scope_to(self, group: str) -> None:
        """The Exchange administrator's PowerShell: pointer, scope on the group's DN, role assignment."""
        admin, client_id = self.world.emulator.admin, self.world.settings.client_id
        tenant = next(t for t in admin.tenants() if t["id"] == self.tenant_id)
        dn = next(g["distinguishedName"] for g in admin.groups(self.tenant_id) if g["id"] == group)
        admin.new_service_principal(self.tenant_id, client_id, tenant["consents"][client_id]["object_id"])
        admin.new_management_scope(self.tenant_id, "LMS people", f"MemberOfGroup -eq '{dn}'")
        admin.new_role_assignment(self.tenant_id, "Application Calendars.ReadWrite", client_id,
                                  custom_resource_scope="LMS people")


@dataclass
class MemoryBackend:
    tenant: MemoryTenant
    graph: Graph
    slept: list[float]

    @property
    def tenant_id(self) -> str:
        return self.tenant.tenant_id

    def user(self, name: str, mailbox: str = "exchange_online", alias: str | None = None) -> str:
        upn = f"{name}@{DOMAIN}"
        self.tenant.add_user(upn, mail=alias, proxies=[f"smtp:{alias}"] if alias else [], mailbox=mailbox)
        return upn

    def subjects(self, upn: str) -> list[str]:
        return sorted(str(e["subject"]) for e in self.tenant.events(upn))

    def shown_as(self, upn: str) -> list[str]:
        return sorted(str(e["payload"].get("showAs", "busy")) for e in self.tenant.events(upn))

    def delete_in_outlook(self, upn: str, event_id: str) -> None:
        self.tenant.delete_event(upn, event_id)

    def rename(self, upn: str, new_upn: str) -> None:
        self.tenant.rename_user(upn, new_upn)

    def move_in_outlook(self, upn: str, event_id: str, start: str, end: str) -> None:
        self.tenant.move_event(upn, event_id, start, end)

    def throttle(self, share: float, retry_after: float) -> None:
        self.tenant.faults = Faults(throttle=share, retry_after=retry_after, seed=7)

    def lose_answers(self) -> None:
        self.tenant.faults = Faults(lost=1.0)

    def calm(self) -> None:
        self.tenant.faults = Faults()

    def directory_only(self) -> None:
        self.tenant.calendar_grant = False

    def group(self, members: list[str]) -> str:
        return self.tenant.add_group(members)

    def scope_to(self, group: str) -> None:
        self.tenant.scope_to_group(group)


@pytest.fixture(params=["emulator", "memory"])
def backend(request: pytest.FixtureRequest, sqlite_database: Database) -> Iterator[Backend]:
    if request.param == "memory":
        slept: list[float] = []
        tenant = MemoryTenant(domains=[DOMAIN])
        yield MemoryBackend(tenant, Graph(tenant, tenant, slept.append), slept)
        return
    emulator: EmulatorHandle = request.getfixturevalue("emulator")
    world = World.create(emulator, sqlite_database)
    made = EmulatorBackend(world, world.graph)
    made.graph = Graph.from_settings(world.settings, sleep=made.slept.append)
    try:
        yield made
    finally:
        made.calm()
        made.graph.close()
        world.graph.close()


def payload(subject: str, tag: str) -> dict[str, Any]:
    return {"subject": subject, "body": {"contentType": "html", "content": "<p>x</p>"},
            "start": {"dateTime": "2031-03-04T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2031-03-04T11:00:00", "timeZone": "UTC"},
            "isReminderOn": False, "singleValueExtendedProperties": [{"id": TAG_PROPERTY_ID, "value": tag}]}


def fresh() -> str:
    return str(uuid.uuid4())


class TestCalendarContract:
    def test_create_find_update_delete(self, backend: Backend) -> None:
        ann = backend.user("ann")
        [made] = backend.graph.calendar.apply(backend.tenant_id, [Write.create(ann, payload("One", "t1"), fresh())])
        assert isinstance(made, str) and made
        assert backend.graph.calendar.find(backend.tenant_id, [(ann, "t1"), (ann, "t2")]) == [[made], []]
        assert backend.graph.calendar.apply(backend.tenant_id, [Write.update(ann, made, {"subject": "Two"})]) == [made]
        assert backend.subjects(ann) == ["Two"]
        assert backend.graph.calendar.apply(backend.tenant_id, [Write.delete(ann, made)]) == [made]
        assert backend.subjects(ann) == []
        assert backend.graph.calendar.apply(backend.tenant_id, [Write.delete(ann, made)]) == [made]  # gone = done

    def test_a_deadline_is_free_and_stays_free_and_showas_is_checked(self, backend: Backend) -> None:
        ann = backend.user("ann")
        due = {"dateTime": "2031-03-04T23:59:00", "timeZone": "Europe/Berlin"}
        free = {**payload("Due: Essay", "t1"), "start": due, "end": due, "showAs": "free"}  # an instant
        [made] = backend.graph.calendar.apply(backend.tenant_id, [Write.create(ann, free, fresh())])
        assert isinstance(made, str) and backend.shown_as(ann) == ["free"]
        assert backend.graph.calendar.apply(backend.tenant_id, [Write.update(ann, made, {"subject": "Due: E2"})]) == [
            made]
        assert backend.shown_as(ann) == ["free"]  # an update that does not name it keeps it
        [refused] = backend.graph.calendar.apply(backend.tenant_id, [
            Write.create(ann, {**free, "showAs": "available"}, fresh())])  # not a freeBusyStatus member
        assert isinstance(refused, errors.GraphError) and refused.status == 400
        assert backend.subjects(ann) == ["Due: E2"]

    def test_a_transaction_id_makes_one_entry(self, backend: Backend) -> None:
        ann, transaction = backend.user("ann"), fresh()
        first = backend.graph.calendar.apply(backend.tenant_id, [Write.create(ann, payload("One", "t1"), transaction)])
        again = backend.graph.calendar.apply(backend.tenant_id, [Write.create(ann, payload("One", "t1"), transaction)])
        assert first == again
        assert backend.subjects(ann) == ["One"]

    def test_an_entry_deleted_in_outlook_is_not_found_on_update(self, backend: Backend) -> None:
        ann = backend.user("ann")
        [made] = backend.graph.calendar.apply(backend.tenant_id, [Write.create(ann, payload("One", "t1"), fresh())])
        backend.delete_in_outlook(ann, str(made))
        [answer] = backend.graph.calendar.apply(backend.tenant_id, [Write.update(ann, str(made), {"subject": "X"})])
        assert isinstance(answer, errors.NotFound)

    def test_mailboxes_that_cannot_be_written(self, backend: Backend) -> None:
        backend.user("onprem", mailbox="on_premises")
        unknown, onprem = f"nobody@{DOMAIN}", f"onprem@{DOMAIN}"
        answers = backend.graph.calendar.apply(backend.tenant_id, [
            Write.create(unknown, payload("One", "t1"), fresh()), Write.create(onprem, payload("One", "t2"), fresh())])
        assert [(type(a), getattr(a, "reason", None)) for a in answers] == [
            (errors.MailboxUnreachable, Reason.USER_NOT_FOUND),
            (errors.MailboxUnreachable, Reason.MAILBOX_NOT_IN_EXCHANGE_ONLINE)]
        [found] = backend.graph.calendar.find(backend.tenant_id, [(unknown, "t1")])
        assert isinstance(found, errors.MailboxUnreachable) and found.reason == Reason.USER_NOT_FOUND

    def test_many_writes_of_many_mailboxes_at_once(self, backend: Backend) -> None:
        """More than one envelope (20) and more than four writes of one mailbox: each answered once."""
        ann, bob = backend.user("ann"), backend.user("bob")
        writes = [Write.create(ann, payload(f"A{n:02}", f"a{n}"), fresh()) for n in range(23)]
        writes += [Write.create(bob, payload(f"B{n}", f"b{n}"), fresh()) for n in range(3)]
        answers = backend.graph.calendar.apply(backend.tenant_id, writes)
        assert all(isinstance(a, str) for a in answers) and len(set(answers)) == 26
        assert backend.subjects(ann) == [f"A{n:02}" for n in range(23)]
        assert backend.subjects(bob) == ["B0", "B1", "B2"]

    def test_throttled_writes_come_back_with_retry_after_and_apply_once_sent_again(self, backend: Backend) -> None:
        ann = backend.user("ann")
        backend.throttle(0.4, 0.05)
        writes = [Write.create(ann, payload(f"A{n}", f"a{n}"), fresh()) for n in range(8)]
        answers = backend.graph.calendar.apply(backend.tenant_id, writes)
        backend.calm()
        throttled = [n for n, a in enumerate(answers) if isinstance(a, errors.Throttled)]
        assert throttled, answers
        for n in throttled:  # the Retry-After Graph gave (±50 % in the emulator), not waited out here
            answer = answers[n]
            assert isinstance(answer, errors.Throttled) and answer.retry_after >= 0.025 and answer.mailbox == ann
        assert backend.slept == []
        assert all(isinstance(answers[n], str) for n in range(8) if n not in throttled)
        again = backend.graph.calendar.apply(backend.tenant_id, [writes[n] for n in throttled])
        assert all(isinstance(a, str) for a in again), again
        assert sorted(backend.subjects(ann)) == sorted(f"A{n}" for n in range(8))  # each once

    def test_a_lost_answer_is_transient_and_the_write_may_have_been_applied(self, backend: Backend) -> None:
        ann, transaction = backend.user("ann"), fresh()
        backend.lose_answers()
        [lost] = backend.graph.calendar.apply(backend.tenant_id, [Write.create(ann, payload("One", "t1"), transaction)])
        backend.calm()
        assert isinstance(lost, errors.Transient)
        assert backend.subjects(ann) == ["One"]  # applied all the same
        [found] = backend.graph.calendar.find(backend.tenant_id, [(ann, "t1")])
        assert backend.graph.calendar.apply(backend.tenant_id, [Write.create(ann, payload("One", "t1"), transaction)]) \
            == found
        assert backend.subjects(ann) == ["One"]

    def test_directory(self, backend: Backend) -> None:
        ann = backend.user("ann", alias=f"ann.alias@{DOMAIN}")
        directory = backend.graph.directory
        found = directory.find_user(backend.tenant_id, ann)
        assert found and directory.find_user(backend.tenant_id, f"ann.alias@{DOMAIN}") == found
        assert directory.find_user(backend.tenant_id, f"nobody@{DOMAIN}") is None
        assert DOMAIN in (directory.verified_domains(backend.tenant_id) or [])

    def test_a_renamed_user_is_reached_by_id_and_found_by_the_old_address(self, backend: Backend) -> None:
        """A rename keeps the object id; the old address is an alias, no longer a UPN in paths."""
        ann, renamed = backend.user("ann"), f"ann.new@{DOMAIN}"
        graph_id = backend.graph.directory.find_user(backend.tenant_id, ann)
        assert graph_id and graph_id != ann
        [made] = backend.graph.calendar.apply(backend.tenant_id, [Write.create(ann, payload("One", "t1"), fresh())])
        backend.rename(ann, renamed)
        [lost] = backend.graph.calendar.apply(backend.tenant_id, [Write.update(ann, str(made), {"subject": "X"})])
        assert isinstance(lost, errors.MailboxUnreachable) and lost.reason == Reason.USER_NOT_FOUND
        assert backend.graph.directory.find_user(backend.tenant_id, ann) == graph_id  # by proxyAddresses
        assert backend.graph.directory.find_user(backend.tenant_id, renamed) == graph_id
        assert backend.graph.calendar.find(backend.tenant_id, [(graph_id, "t1")]) == [[made]]
        renamed_write = Write.update(graph_id, str(made), {"subject": "Two"})
        assert backend.graph.calendar.apply(backend.tenant_id, [renamed_write]) == [made]
        assert backend.subjects(renamed) == ["Two"]


class TestAccessScopedInExchange:
    """Only the LMS's people: Entra grants the directory permissions, an Exchange role assignment the
    calendars of a group's direct members (facts.md, RBAC for Applications)."""

    @staticmethod
    def scoped(backend: Backend) -> tuple[str, str, str]:
        """Ann in the group, Bob not, Cid only through a nested group; the scope set up before any call."""
        ann, bob, cid = backend.user("ann"), backend.user("bob"), backend.user("cid")
        backend.directory_only()
        backend.scope_to(backend.group([ann, backend.group([cid])]))
        return ann, bob, cid

    def test_the_token_carries_no_calendar_role(self, backend: Backend) -> None:
        self.scoped(backend)
        assert token_roles(backend.graph.tokens.token(backend.tenant_id)) == set(DIRECTORY_ONLY)

    def test_in_scope_writes_work_and_the_others_are_refused_per_user(self, backend: Backend) -> None:
        ann, bob, cid = self.scoped(backend)
        answers = backend.graph.calendar.apply(backend.tenant_id, [
            Write.create(box, payload("One", f"t-{box}"), fresh()) for box in (ann, bob, cid)], SCOPED)
        assert isinstance(answers[0], str)
        for refused in answers[1:]:
            assert isinstance(refused, errors.MailboxUnreachable), refused
            assert (refused.reason, refused.status, refused.code) == (
                Reason.OUTSIDE_EXCHANGE_SCOPE, 403, "ErrorAccessDenied")
            assert DENIED in str(refused)
        assert (backend.subjects(ann), backend.subjects(bob), backend.subjects(cid)) == (["One"], [], [])
        found = backend.graph.calendar.find(backend.tenant_id, [(ann, f"t-{ann}"), (bob, f"t-{bob}")], SCOPED)
        assert found[0] == [answers[0]]
        assert isinstance(found[1], errors.MailboxUnreachable) and found[1].reason == Reason.OUTSIDE_EXCHANGE_SCOPE
        with pytest.raises(errors.MailboxUnreachable):
            backend.graph.calendar.probe(backend.tenant_id, bob, SCOPED)
        backend.graph.calendar.probe(backend.tenant_id, ann, SCOPED)
        assert backend.graph.directory.find_user(backend.tenant_id, bob)  # the directory: Entra's grant

    def test_read_as_the_whole_organisation_the_same_answer_stops_the_tenant(self, backend: Backend) -> None:
        _, bob, _ = self.scoped(backend)
        with pytest.raises(errors.AuthFailed) as refused:
            backend.graph.calendar.apply(backend.tenant_id, [Write.create(bob, payload("One", "t1"), fresh())])
        assert refused.value.reason == TenantReason.PERMISSION_MISSING

    def test_the_broad_grant_makes_the_scope_restrict_nothing(self, backend: Backend) -> None:
        ann, bob, cid = backend.user("ann"), backend.user("bob"), backend.user("cid")
        backend.scope_to(backend.group([ann, backend.group([cid])]))  # Calendars.ReadWrite still consented
        answers = backend.graph.calendar.apply(backend.tenant_id, [
            Write.create(box, payload("One", f"t-{box}"), fresh()) for box in (ann, bob, cid)], SCOPED)
        assert all(isinstance(a, str) for a in answers), answers
        assert "Calendars.ReadWrite" in (token_roles(backend.graph.tokens.token(backend.tenant_id)) or set())

    def test_with_no_grant_at_all_every_mailbox_is_refused(self, backend: Backend) -> None:
        ann = backend.user("ann")
        backend.directory_only()
        [refused] = backend.graph.calendar.apply(backend.tenant_id, [Write.create(ann, payload("One", "t1"), fresh())],
                                                 SCOPED)
        assert isinstance(refused, errors.MailboxUnreachable) and refused.reason == Reason.OUTSIDE_EXCHANGE_SCOPE


def whole_round(backend: Backend, ask: DeltaAsk, page_size: int) -> tuple[list[DeltaPage], str]:
    """Follow a mailbox's delta pages to the deltaLink; the pages and the deltaLink."""
    pages: list[DeltaPage] = []
    while True:
        [page] = backend.graph.calendar.delta(backend.tenant_id, [ask], page_size)
        assert isinstance(page, DeltaPage), page
        pages.append(page)
        if page.delta_link:
            return pages, page.delta_link
        assert page.next_link and "$skiptoken=" in page.next_link
        ask = DeltaAsk(ask.mailbox, link=page.next_link)


WINDOW = {"start": "2031-03-01T00:00:00Z", "end": "2031-04-01T00:00:00Z"}


class TestCalendarViewDelta:
    def test_a_round_lists_the_window_in_pages_then_only_changes(self, backend: Backend) -> None:
        ann = backend.user("ann")
        made = [str(a) for a in backend.graph.calendar.apply(backend.tenant_id, [
            Write.create(ann, payload(f"E{n}", f"t{n}"), fresh()) for n in range(3)])]
        pages, link = whole_round(backend, DeltaAsk(ann, **WINDOW), page_size=2)
        assert [len(p.changed) for p in pages] == [2, 1]
        assert set().union(*(p.changed for p in pages)) == set(made)
        assert pages[0].changed[made[0]] == ("2031-03-04T10:00:00", "2031-03-04T11:00:00")
        assert "$deltatoken=" in link

        [quiet] = backend.graph.calendar.delta(backend.tenant_id, [DeltaAsk(ann, link=link)])
        assert isinstance(quiet, DeltaPage) and (quiet.changed, quiet.removed) == ({}, []) and quiet.delta_link

        backend.delete_in_outlook(ann, made[0])
        backend.move_in_outlook(ann, made[1], "2031-03-05T08:00:00", "2031-03-05T09:00:00")
        backend.move_in_outlook(ann, made[2], "2031-06-05T08:00:00", "2031-06-05T09:00:00")  # out of the window
        pages, _ = whole_round(backend, DeltaAsk(ann, link=link), page_size=10)
        assert pages[0].changed == {made[1]: ("2031-03-05T08:00:00", "2031-03-05T09:00:00")}
        assert sorted(pages[0].removed) == sorted([made[0], made[2]])

    def test_when_tells_a_deleted_entry_from_one_moved_away(self, backend: Backend) -> None:
        ann = backend.user("ann")
        made = [str(a) for a in backend.graph.calendar.apply(backend.tenant_id, [
            Write.create(ann, payload(f"E{n}", f"t{n}"), fresh()) for n in range(2)])]
        backend.delete_in_outlook(ann, made[0])
        backend.move_in_outlook(ann, made[1], "2031-06-05T08:00:00", "2031-06-05T09:00:00")
        gone, moved = backend.graph.calendar.when(backend.tenant_id, [(ann, made[0]), (ann, made[1])])
        assert isinstance(gone, errors.NotFound)
        assert moved == ("2031-06-05T08:00:00", "2031-06-05T09:00:00")

    def test_a_first_call_without_its_window_is_refused(self, backend: Backend) -> None:
        ann = backend.user("ann")
        [answer] = backend.graph.calendar.delta(backend.tenant_id, [DeltaAsk(ann)])
        assert isinstance(answer, errors.BadRequest)
