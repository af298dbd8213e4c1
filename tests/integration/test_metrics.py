"""The worker's metrics, counted where requests and writes happen, against the emulator with 429s."""
from __future__ import annotations

from prometheus_client import REGISTRY

from tests.integration.world import DOMAIN, World, at

USERS = 6
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def snapshot() -> Samples:
    """Every sample of this process's registry, by name and labels."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in REGISTRY.collect() for s in family.samples}


def test_passes_writes_requests_throttling_and_latency_are_counted(world: World) -> None:
    world.emulator.admin.set_faults(rate_429=0.3, retry_after_s=0.05, seed=11)
    world.person("org")
    for n in range(USERS):
        world.person(f"u{n}")
    world.event("e1", [("s1", at(24), at(25)), ("s2", at(48), at(49))])
    for n in range(USERS):
        world.enroll(f"u{n}", "e1", "s1" if n % 2 else "s2")
    before = snapshot()
    world.connect()
    world.sync()
    after = snapshot()

    def grew(name: str, **labels: str) -> float:
        if labels:
            key = (name, tuple(sorted(labels.items())))
            return after.get(key, 0.0) - before.get(key, 0.0)
        return sum(v for (n, _), v in after.items() if n == name) - sum(v for (n, _), v in before.items() if n == name)

    entries = sum(len(world.mailbox(f"{uid}@{DOMAIN}")) for uid in ["org", *(f"u{n}" for n in range(USERS))])
    assert entries == 2 + USERS
    assert grew("outlook_sync_graph_writes_total", method="create", outcome="ok") == entries
    assert grew("outlook_sync_graph_writes_total", method="create", outcome="throttled") >= 1
    assert grew("outlook_sync_passes_total", outcome="synced") >= USERS + 1
    assert grew("outlook_sync_graph_throttled_total") >= 1
    assert grew("outlook_sync_graph_throttle_wait_seconds_total") > 0
    # a user throttled on its first attempt waits in the queue; its latency is not sampled (as any retry's)
    assert grew("outlook_sync_change_to_outlook_seconds_count") + grew("outlook_sync_passes_total", outcome="retry") \
        >= USERS + 1
    assert grew("outlook_sync_graph_requests_total", method="POST", status="200") > 0  # the $batch envelopes
    assert grew("outlook_sync_graph_requests_total", method="GET", status="200") > 0  # look-ups, domains
