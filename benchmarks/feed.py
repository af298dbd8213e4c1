"""B6: calendar-feed fetches, 304 and 200, with the CPU each costs the plugin.

N users with personal addresses, each with two upcoming sessions (in two events of Europe/Berlin),
each with a feed address. Every user's feed is fetched through the app (Flask's test client: the
plugin's own work without an HTTP server, one thread): first the first build (200, records written),
then again without an ETag (200, built again, nothing to record), then with the ETag (304). Figures:
fetches per second and process CPU per fetch (``time.process_time``; on PostgreSQL the server's own
CPU is not counted), and what 10,000 subscribers polling every 15 minutes (11.1 fetches/s) cost.
Each answer is checked: 200 with two events, or 304 with no body.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import insert

from benchmarks.common import bench_database
from bridge.config import Settings
from bridge.db import Database
from bridge.feeds import store as feed_store
from bridge.migrate import upgrade
from bridge.models import Account, LmsEnrollment, LmsEvent, LmsSession, LmsUser

ACCOUNT = "bench"
SIZES = {"small": 200, "full": 10_000}
POLLS_PER_SECOND = 10_000 / (15 * 60)  # 10,000 subscribers, every 15 minutes


def seed(database: Database, users: int) -> list[str]:
    """Users with two chosen sessions each (one event per 50 users); their feed tokens, in user order."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    events = max(2, users // 50)
    with database.session() as session:
        session.add(Account(id=ACCOUNT, reminder_minutes=15))
        session.flush()
        session.execute(insert(LmsEvent), [
            {"account_id": ACCOUNT, "id": f"e{e}", "version": 1, "title": f"Course {e}", "organizer_id": None,
             "description": "Bring a notebook.", "url": f"https://lms.example/e{e}", "location": "Room 1",
             "timezone": "Europe/Berlin", "cancelled": False, "deleted": False} for e in range(events)])
        session.execute(insert(LmsSession), [
            {"account_id": ACCOUNT, "event_id": f"e{e}", "id": f"e{e}s{i}", "position": i,
             "start": start + timedelta(days=i, hours=e % 8), "end": start + timedelta(days=i, hours=e % 8 + 1)}
            for e in range(events) for i in range(2)])
        session.execute(insert(LmsUser), [
            {"account_id": ACCOUNT, "id": f"u{n}", "version": 1, "email": f"user{n}@gmail.com", "name": f"User {n}",
             "active": True, "role": "learner", "deleted": False} for n in range(users)])
        session.execute(insert(LmsEnrollment), [
            {"account_id": ACCOUNT, "event_id": f"e{(n + i) % events}", "user_id": f"u{n}", "version": 1,
             "session_id": f"e{(n + i) % events}s{i}", "deleted": False} for n in range(users) for i in range(2)])
        now = datetime.now(UTC)
        return [feed_store.issue(session, ACCOUNT, f"u{n}", now) for n in range(users)]


def _pass(client: FlaskClient, paths: list[str], headers: Callable[[int], dict[str, str]],
          check: Callable[[int, int, bytes, str], None]) -> tuple[float, float]:
    """(fetches per second, CPU ms per fetch) over one fetch of every path."""
    wall, cpu = time.perf_counter(), time.process_time()
    for n, path in enumerate(paths):
        answer = client.get(path, headers=headers(n))
        check(n, answer.status_code, answer.data, answer.headers.get("ETag", ""))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(paths) / wall, cpu * 1000 / len(paths)


def run(size: str, runs: int, server_url: str | None) -> list[str]:
    """Seed, then time the three kinds of fetch (the repeatable two: median of ``runs``)."""
    from plugin.app import create_app

    users = SIZES[size]
    with ExitStack() as stack:
        url = stack.enter_context(bench_database(server_url, "bench_feed"))
        database = Database(url)
        upgrade(database.engine)
        tokens = seed(database, users)
        settings = Settings(host_secret="h" * 32, secret_key="k" * 32, client_id="c", client_secret="s",
                            database_url=url)
        client = create_app(settings, database).test_client()
        paths = [f"/feeds/{token}.ics" for token in tokens]
        etags = [""] * users

        def built(n: int, status: int, body: bytes, etag: str) -> None:
            if status != 200 or body.count(b"BEGIN:VEVENT") != 2:
                raise RuntimeError(f"feed {n}: expected 200 with two events, got {status}")
            etags[n] = etag

        def unchanged(n: int, status: int, body: bytes, etag: str) -> None:
            if status != 304 or body:
                raise RuntimeError(f"feed {n}: expected an empty 304, got {status}")

        first = _pass(client, paths, lambda n: {}, built)
        again = [_pass(client, paths, lambda n: {}, built) for _ in range(runs)]
        cached = [_pass(client, paths, lambda n: {"If-None-Match": etags[n]}, unchanged) for _ in range(runs)]
        database.dispose()
    where = "PostgreSQL" if server_url else "SQLite"

    def figure(label: str, results: list[tuple[float, float]]) -> str:
        rate = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        return f"{label} {rate:,.0f} fetches/s, CPU {cpu:.2f} ms/fetch"

    cpu_304 = statistics.median(r[1] for r in cached)
    return [f"B6 calendar feeds ({where}, Flask test client, one thread): {users:,} users × 2 sessions, "
            f"median of {runs}: " + "; ".join([figure("304", cached), figure("200 built again", again),
                                               figure("200 first build", [first])])
            + f"; 10,000 subscribers every 15 min at 304 = {POLLS_PER_SECOND * cpu_304 / 10:.2f} % of one core"]
