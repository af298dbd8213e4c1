"""Under Graph's faults (503, 429, ambiguous timeouts, resets) a run ends with exactly the desired
entries: none missing, none duplicated."""
from __future__ import annotations

from collections import Counter

from tests.integration.world import DOMAIN, World, at

LEARNERS = 24


def test_exactly_the_desired_entries_under_faults(world: World) -> None:
    world.person("org")
    for n in range(LEARNERS):
        world.person(f"l{n}")
    world.event("e1", [(f"s{i}", at(24 + i), at(25 + i)) for i in range(3)])
    world.event("e2", [(f"t{i}", at(48 + i), at(49 + i)) for i in range(2)], organizer="org")
    for n in range(LEARNERS):
        world.enroll(f"l{n}", "e1", f"s{n % 3}")
        world.enroll(f"l{n}", "e2", f"t{n % 2}" if n % 4 else None)
    world.emulator.admin.set_faults(rate_503=0.10, rate_429=0.05, rate_ambiguous=0.02, rate_reset=0.01,
                                    ambiguous_hold_ms=100, retry_after_s=0.2, seed=20261123)
    world.connect()
    world.sync(timeout=240)
    # a change under faults too: everyone's first event gets a new title
    world.change_event("e1", title="Renamed")
    world.sync(timeout=240)
    faults = world.emulator.admin.counters()
    world.emulator.admin.set_faults(rate_503=0, rate_429=0, rate_ambiguous=0, rate_reset=0)

    expected = {f"org@{DOMAIN}": sorted([f"Renamed — Session {i + 1}" for i in range(3)]
                                        + [f"Event e2 — Session {i + 1}" for i in range(2)])}
    for n in range(LEARNERS):
        subjects = [f"Renamed — Session {n % 3 + 1}"]
        if n % 4:
            subjects.append(f"Event e2 — Session {n % 2 + 1}")
        expected[f"l{n}@{DOMAIN}"] = sorted(subjects)
    for address, subjects in expected.items():
        got = world.subjects(address)
        assert sorted(got) == subjects, address
        assert not [s for s, c in Counter(got).items() if c > 1], f"duplicate in {address}"
    injected = faults.get("faults", {})
    assert sum(injected.values()) > 0, f"no fault was injected: {faults}"
