"""B11: one housekeeping look of the worker over N connected accounts with nothing due.

A worker looks at its housekeeping between claims (:meth:`bridge.worker.loop.Worker.jobs`); when a
job is due (every 15 s) it asks the database which accounts need it: disconnects to finish, full
passes to start, tenants to probe, domains to read again. Here every account is connected, its full
pass and its domains fresh: the figure is what those questions cost when the answer is "none", with
the delivery clean-up (one DELETE) that a fresh worker runs too. Reported: the median of the looks
of ``runs`` fresh workers (at least 5), each with every job due (the Outlook-side check is not: it
starts one period in), and the machine's load average.
"""
from __future__ import annotations

import os
import statistics
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import insert

from benchmarks.common import bench_database, timed
from bridge.codes import ConnectionState
from bridge.db import Database
from bridge.graph.client import Graph, Tokens
from bridge.graph.memory import MemoryTenant
from bridge.migrate import upgrade
from bridge.models import Account, Connection
from bridge.worker.loop import Worker


def run(size: str, runs: int, server_url: str | None) -> list[str]:
    accounts = {"small": 1_000, "full": 10_000}[size]
    with bench_database(server_url, "bench_housekeeping") as url:
        database = Database(url)
        upgrade(database.engine)
        now = datetime.now(UTC)
        with database.session() as session:
            session.execute(insert(Account), [{"id": f"a{n}"} for n in range(accounts)])
            session.execute(insert(Connection), [
                {"account_id": f"a{n}", "state": ConnectionState.CONNECTED, "tenant_id": f"t{n}", "failures": 0,
                 "verified_domains": ["school.example"], "domains_checked_at": now, "full_reconcile_at": now}
                for n in range(accounts)])
        tenant = MemoryTenant()
        graph = Graph(cast(Tokens, tenant), tenant, lambda seconds: None)  # its tokens report no outcome
        looks = [timed(Worker(database, graph)._housekeeping) for _ in range(max(runs, 5))]
        assert tenant.requests == 0, "nothing was due, so nothing may have asked Graph"
        database.dispose()
    return [f"B11 housekeeping ({'PostgreSQL' if server_url else 'SQLite'}): {accounts} connected accounts, "
            f"nothing due: one look {statistics.median(looks) * 1000:.1f} ms (median of {len(looks)}); "
            f"load average {os.getloadavg()[0]:.2f}"]
