"""Capacity benchmark: simple Graph GETs per second against a fresh emulator.

``python -m emulator.bench --threads 4 --seconds 10`` starts an emulator subprocess, sets up a
tenant, app, user, consent and one event, then reads that event over keep-alive HTTPS
connections from N client threads for a bounded time and prints requests/s. ``--wrk`` uses
``wrk`` (if installed) as the client instead, which costs the machine far less CPU than Python.
Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import requests

from .testing import EmulatorHandle, running_emulator

SECRET = "bench-secret"
TENANT_DOMAIN = "bench.example"


def setup(emu: EmulatorHandle) -> tuple[str, str]:
    """Return (event URL, bearer token) for a ready mailbox with one event."""
    admin = emu.admin
    tenant = admin.create_tenant("Bench", [TENANT_DOMAIN])
    client_id = str(uuid.uuid4())
    admin.register_app(client_id, client_secret=SECRET)
    admin.create_user(tenant["id"], f"bench@{TENANT_DOMAIN}")
    admin.grant_consent(tenant["id"], client_id)
    session = requests.Session()
    session.trust_env = False
    session.verify = emu.ca_path
    token = session.post(
        f"{emu.base_url}/{tenant['id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": SECRET,
            "scope": "https://graph.microsoft.com/.default",
        },
        timeout=10,
    ).json()["access_token"]
    body = {
        "subject": "bench",
        "start": {"dateTime": "2030-01-01T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2030-01-01T10:00:00", "timeZone": "UTC"},
    }
    created = session.post(
        f"{emu.graph_url}/users/bench@{TENANT_DOMAIN}/events",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    created.raise_for_status()
    return f"{emu.graph_url}/users/bench@{TENANT_DOMAIN}/events/{created.json()['id']}", token


def run_threads(url: str, token: str, ca_path: str, threads: int, seconds: float) -> tuple[float, Counter[int]]:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        session = requests.Session()
        session.trust_env = False
        session.verify = ca_path
        session.headers["Authorization"] = f"Bearer {token}"
        local: Counter[int] = Counter()
        while time.monotonic() < stop_at:
            local[session.get(url, timeout=10).status_code] += 1
        with lock:
            statuses.update(local)

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(statuses.values()) / (time.monotonic() - started), statuses


def run_wrk(url: str, token: str, threads: int, connections: int, seconds: float) -> float:
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{int(seconds)}s", "-H", f"Authorization: Bearer {token}", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    print(out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        print(f"warning: {non2xx.group(1)} non-2xx responses")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m emulator.bench", description=__doc__)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--connections", type=int, default=16, help="wrk connections")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--wrk", action="store_true", help="use wrk as the load generator")
    args = p.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="emulator-bench-"))
    try:
        # A high window so the benchmark measures the server, not Graph's 10,000/10 min budget.
        with running_emulator(cert_dir=str(work), window_requests=10_000_000, concurrency=10_000) as emu:
            url, token = setup(emu)
            if args.wrk:
                if shutil.which("wrk") is None:
                    p.error("wrk is not installed (apt-get install wrk)")
                rate = run_wrk(url, token, args.threads, args.connections, args.seconds)
                print(f"wrk: {rate:.0f} requests/s ({args.connections} keep-alive connections, {args.threads} threads)")
            else:
                rate, statuses = run_threads(url, token, emu.ca_path, args.threads, args.seconds)
                print(f"python requests: {rate:.0f} requests/s with {args.threads} threads; statuses {dict(statuses)}")
            print(f"cpu cores: {os.cpu_count()}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
