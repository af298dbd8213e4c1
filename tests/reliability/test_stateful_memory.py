"""A hypothesis state machine over the in-memory tenant, with Graph faults injected while it syncs:
answers lost after the writes were applied, connection resets, 429 with Retry-After and 503.

Rules change the LMS (users, events, sessions, enrollments, deadlines with each learner's extension and
"done"; delivered through the real ingest), set
the faults Graph shows, and run the real worker over the in-memory tenant (retries made due at
once: the clock jumps). At a check and at the end of every example, faults stop, the worker catches
up, and every mailbox must equal the oracle (``tests/reliability/lms.py``) applied to the LMS's final
state: nothing missing, nothing extra, no duplicate. It takes seconds to a minute, beside the emulator's
machine (``test_stateful.py``), so it can afford many more examples.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from bridge.db import Database
from bridge.graph.memory import Faults
from tests.bridge.memory_world import MemoryWorld
from tests.reliability.lms import soon

USERS = ["ana", "ben", "cleo", "dan", "eve", "finn"]
EVENTS = ["e1", "e2", "e3"]
SESSIONS = ["s1", "s2", "s3"]
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney"]
DEADLINES = ["a1", "a2"]
# 40 examples: the derandomized draws still differ from one checkout to another, and some draw few faults;
# with 40 every checkout tried injected well over the 50 faults the test asks for.
EXAMPLES, STEPS = 40, 30

users = st.sampled_from(USERS)
events = st.sampled_from(EVENTS)
deadlines = st.sampled_from(DEADLINES)
sessions = st.lists(st.tuples(st.sampled_from(SESSIONS), st.integers(2, 400), st.integers(1, 3)),
                    min_size=1, max_size=3, unique_by=lambda s: s[0])
faults = st.builds(lambda lost, reset, throttle, unavailable, seed: Faults(
    lost=lost, reset=reset, throttle=throttle, unavailable=unavailable, retry_after=2.0, seed=seed),
    st.sampled_from([0.2, 0.0, 0.4]), st.sampled_from([0.1, 0.0, 0.2]), st.sampled_from([0.3, 0.0, 0.5]),
    st.sampled_from([0.2, 0.0, 0.4]), st.integers(0, 1000))


@dataclass
class Run:
    tmp: Path
    template: Path
    examples: int = 0
    steps: int = 0
    checks: int = 0
    entries_checked: int = 0
    injected: dict[str, int] = field(default_factory=dict)


class MemoryMachine(RuleBasedStateMachine):
    def __init__(self, run: Run) -> None:
        super().__init__()
        self.run = run
        run.examples += 1
        path = run.tmp / f"memory-{run.examples}.sqlite3"
        shutil.copyfile(run.template, path)
        self.world = MemoryWorld(Database(f"sqlite:///{path}"))
        self.world.mailboxes(*USERS)
        self.base = datetime.now(UTC)
        lms = self.world.lms
        start = [lms.upsert_user(uid) for uid in USERS]
        for n, eid in enumerate(EVENTS):
            start.append(lms.upsert_event(eid, title=f"Safety {eid}", organizer=USERS[n], zone=ZONES[n], sessions=[
                (sid, soon(24 * (n + 1) + 3 * i, self.base), soon(24 * (n + 1) + 3 * i + 2, self.base))
                for i, sid in enumerate(SESSIONS[:2])]))
        start += [lms.enroll(EVENTS[n % 3], uid, SESSIONS[n % 2]) for n, uid in enumerate(USERS)]
        start += [lms.upsert_deadline(did, title=f"Essay {did}", due=soon(30 + 24 * n, self.base))
                  for n, did in enumerate(DEADLINES)]
        start += [lms.assign_deadline(DEADLINES[n % 2], uid) for n, uid in enumerate(USERS)]
        self.world.deliver(*start)
        self.world.connect()
        self.faults = Faults(lost=0.2, reset=0.1, throttle=0.3, unavailable=0.2, retry_after=2.0, seed=run.examples)

    # -- the LMS ---------------------------------------------------------------------------------
    @rule(uid=users, active=st.sampled_from([True, True, False]), personal=st.sampled_from([False] * 4 + [True]))
    def upsert_user(self, uid: str, active: bool, personal: bool) -> None:
        self.change(self.world.lms.upsert_user(uid, email=f"{uid}@gmail.com" if personal else None, active=active))

    @rule(uid=users)
    def delete_user(self, uid: str) -> None:
        self.change(self.world.lms.delete_user(uid))

    @rule(eid=events, organizer=users, title=st.sampled_from(["Safety", "Safety (new)"]), planned=sessions,
          cancelled=st.sampled_from([False] * 4 + [True]))
    def upsert_event(self, eid: str, organizer: str, title: str, planned: list[tuple[str, int, int]],
                     cancelled: bool) -> None:
        plan = [(sid, soon(hours, self.base), soon(hours + length, self.base)) for sid, hours, length in planned]
        self.change(self.world.lms.upsert_event(eid, title=f"{title} {eid}", organizer=organizer,
                                                zone=ZONES[EVENTS.index(eid)], sessions=plan, cancelled=cancelled))

    @rule(eid=events, by=st.sampled_from([-90, 30, 24 * 60]))
    def move_sessions(self, eid: str, by: int) -> None:
        if eid in self.world.lms.events:
            shifted = [{**s, "start": s["start"] + timedelta(minutes=by), "end": s["end"] + timedelta(minutes=by)}
                       for s in self.world.lms.events[eid]["sessions"]]
            self.change(self.world.lms.change_event(eid, sessions=shifted))

    @rule(eid=events)
    def delete_event(self, eid: str) -> None:
        self.change(self.world.lms.delete_event(eid))

    @rule(uid=users, eid=events, sid=st.sampled_from([*SESSIONS, None]))
    def enroll(self, uid: str, eid: str, sid: str | None) -> None:
        self.change(self.world.lms.enroll(eid, uid, sid))

    @rule(uid=users, eid=events)
    def unenroll(self, uid: str, eid: str) -> None:
        self.change(self.world.lms.unenroll(eid, uid))

    @rule(did=deadlines, hours=st.integers(3, 300), title=st.sampled_from(["Essay", "Essay (revised)"]))
    def upsert_deadline(self, did: str, hours: int, title: str) -> None:
        self.change(self.world.lms.upsert_deadline(did, title=f"{title} {did}", due=soon(hours, self.base)))

    @rule(did=deadlines)
    def delete_deadline(self, did: str) -> None:
        self.change(self.world.lms.delete_deadline(did))

    @rule(uid=users, did=deadlines, extension=st.sampled_from([None, None, 24, 72]), done=st.sampled_from(
        [False, False, True]))
    def assign_deadline(self, uid: str, did: str, extension: int | None, done: bool) -> None:
        """The deadline applies to ``uid``: its own due time, or an extension of some hours; done or not."""
        self.change(self.world.lms.assign_deadline(did, uid, due=None if extension is None else soon(
            200 + extension, self.base), done=done))

    @rule(uid=users, did=deadlines)
    def release_deadline(self, uid: str, did: str) -> None:
        self.change(self.world.lms.release_deadline(did, uid))

    def change(self, envelope: dict[str, Any]) -> None:
        self.run.steps += 1
        self.world.deliver(envelope)

    # -- Graph and the worker --------------------------------------------------------------------
    @rule(chosen=faults)
    def graph_misbehaves(self, chosen: Faults) -> None:
        self.run.steps += 1
        self.faults = chosen

    @rule()
    def sync_under_faults(self) -> None:
        """One round of the worker while Graph misbehaves (keys left over stay for later)."""
        self.run.steps += 1
        self.world.tenant.faults = self.faults
        self.world.worker().drain(timeout=30, due_within=0)
        self.tally()

    @rule()
    def check(self) -> None:
        self.run.steps += 1
        self.settle_and_compare()

    def tally(self) -> None:
        for kind in self.world.tenant.faults.injected:
            self.run.injected[kind] = self.run.injected.get(kind, 0) + 1
        self.world.tenant.faults.injected.clear()

    def settle_and_compare(self) -> None:
        self.world.calm()
        self.world.sync()
        self.run.checks += 1
        self.run.entries_checked += sum(len(self.world.tenant.events(u)) for u in self.world.tenant.users)
        problems = self.world.problems()
        assert not problems, "\n".join(problems)

    def teardown(self) -> None:
        try:
            self.settle_and_compare()
        finally:
            self.world.database.dispose()


def test_mailboxes_end_as_the_oracle_says_under_injected_faults(tmp_path: Path, sqlite_template: Path,
                                                                 figures: dict[str, Any]) -> None:
    run = Run(tmp_path, sqlite_template)
    run_state_machine_as_test(
        lambda: MemoryMachine(run),  # type: ignore[arg-type]  # a factory is accepted
        settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=True,
                          database=None, suppress_health_check=list(HealthCheck)),
    )
    print(f"memory stateful: {run.examples} examples, {run.steps} steps, {run.checks} checks, faults {run.injected}")
    figures.update(examples=run.examples, steps=run.steps, mailbox_checks=run.checks,
                   entries_checked=run.entries_checked, faults_injected=run.injected)
    assert sum(run.injected.values()) > 50, f"hardly any fault was injected: {run.injected}"
    assert run.entries_checked > run.checks, "the examples hardly ever wanted an entry"
