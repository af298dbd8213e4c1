"""``outlook-sync serve`` with two web processes: /metrics adds up the hooks every process received.

Hooks are sent from several threads on fresh connections until the per-process metric files show
that both gunicorn workers received some; then every scrape, whichever process answers it, must
report the total sent. The metrics folder is serve's own (under the TMPDIR the test gives it) and is
gone once serve has stopped.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from plugin.host import HostClient
from tests.integration.test_serve import ENV, free_port

ROUND = 40


def hooks_per_process(folder: Path) -> dict[str, float]:
    """Applied hooks recorded in each process's counter file (``counter_<pid>.db``)."""
    counts: dict[str, float] = {}
    for path in folder.glob("counter_*.db"):
        values = MmapedDict.read_all_values_from_file(str(path))
        counts[path.stem] = sum(v for key, v, *_ in values if key.startswith('["outlook_sync_hooks"'))
    return counts


def applied(ops: str) -> float:
    """Applied hooks in one scrape of the operators' listener at ``ops``."""
    text = requests.get(f"{ops}/metrics", timeout=10).text
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "outlook_sync_hooks_total" and s.labels.get("outcome") == "applied")


def send(base: str, first: int, count: int) -> None:
    def one(n: int) -> None:
        client = HostClient(base, ENV["OUTLOOK_SYNC_HOST_SECRET"])  # its own connection
        delivery = f"d-{n}"
        for _ in range(20):  # as a host does: SQLite may answer "busy" (503, nothing stored) under load
            answer = client.send("user.upserted", "acct", {
                "id": f"u{n}", "email": f"u{n}@contoso.example", "name": f"U {n}", "active": True,
                "role": "learner", "version": 1}, delivery_id=delivery)
            if answer.status_code != 503:
                break
            time.sleep(0.1)
        assert answer.status_code == 202, answer.text

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(first, first + count)))


def test_counts_from_two_web_processes_add_up(tmp_path: Path) -> None:
    port, ops_port, temp = free_port(), free_port(), tmp_path / "tmp"
    temp.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OUTLOOK_SYNC_", "PROMETHEUS_"))}, **ENV,
           "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}", "TMPDIR": str(temp),
           "OUTLOOK_SYNC_LOG_FORMAT": "json"}
    server = subprocess.Popen([sys.executable, "-m", "plugin.cli", "serve", "--port", str(port), "--workers", "2",
                               "--ops-port", str(ops_port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base, ops = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{ops_port}"
    try:
        for _ in range(150):
            try:
                if requests.get(f"{ops}/readyz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not become ready")
        [folder] = temp.glob("outlook-sync-metrics-*")
        sent = 0
        while sent < 25 * ROUND:
            send(base, sent, ROUND)
            sent += ROUND
            per_process = hooks_per_process(folder)
            if sum(1 for n in per_process.values() if n) >= 2:
                break
        assert sum(1 for n in per_process.values() if n) == 2, f"one process got every hook: {per_process}"
        assert sum(per_process.values()) == sent
        scrapes = [applied(ops) for _ in range(12)]  # fresh connections: answered by either process
        assert scrapes == [sent] * 12
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert not list(temp.glob("outlook-sync-metrics-*")), "serve left its metrics folder behind"
    logged = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    others = [line for line in output.splitlines() if not line.startswith("{")]
    assert len(others) == 1 and others[0].startswith("Outlook Calendar for the LMS on "), "\n".join(others)
    assert {"gunicorn.error", "outlook_sync"} <= {line["logger"] for line in logged}  # gunicorn's too


def test_a_worker_run_on_its_own_answers_scrapes(tmp_path: Path) -> None:
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("OUTLOOK_SYNC_", "PROMETHEUS_"))}, **ENV,
           "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}"}
    worker = subprocess.Popen([sys.executable, "-m", "plugin.cli", "worker", "--metrics-port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert worker.stdout is not None
    try:
        for line in worker.stdout:  # the worker takes SIGTERM once it has started
            if "started" in line:
                break
        for _ in range(150):
            try:
                text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError("the worker did not answer on its metrics port")
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, output
    samples = {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples
               if not s.labels}
    assert samples["outlook_sync_database_up"] == 1 and samples["outlook_sync_work_waiting"] == 0
    assert samples["outlook_sync_graph_throttled_total"] == 0
