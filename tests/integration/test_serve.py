"""``outlook-sync serve``: gunicorn with the app and a worker beside it, stopped cleanly by SIGTERM."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from plugin.host import HostClient

ENV = {"OUTLOOK_SYNC_HOST_SECRET": "h" * 20, "OUTLOOK_SYNC_SECRET_KEY": "k" * 20,
       "OUTLOOK_SYNC_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
       "OUTLOOK_SYNC_CLIENT_SECRET": "client-secret-value"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_serve(database_url: str, *options: str, attempts: int = 200,
                extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """``outlook-sync serve`` on a free port with ``options`` (and ``extra_env``; the operators' listener
    on another port, unless ``--ops-port`` is among them), once it answers ``/healthz``; the process and
    its base URL (AssertionError naming what it printed if it never answers)."""
    port = free_port()
    if "--ops-port" not in options:
        options = (*options, "--ops-port", str(free_port()))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}, **ENV,
           "OUTLOOK_SYNC_DATABASE_URL": database_url, **(extra_env or {})}
    server = subprocess.Popen([sys.executable, "-m", "plugin.cli", "serve", "--port", str(port), *options],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(attempts):
        try:
            if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except requests.ConnectionError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError(f"serve did not answer /healthz: {server.communicate()[0][-2000:]}")


def test_serve_answers_hooks_and_stops_on_sigterm(tmp_path: Path) -> None:
    server, base = start_serve(f"sqlite:///{tmp_path / 'serve.sqlite3'}", "--workers", "1")
    try:
        answer = HostClient(base, ENV["OUTLOOK_SYNC_HOST_SECRET"]).send("user.upserted", "acct", {
            "id": "u1", "email": "u1@contoso.example", "name": "U", "active": True, "role": "learner",
            "version": 1})
        assert answer.status_code == 202 and answer.json()["status"] == "applied"
        page = requests.get(f"{base}/integrations/outlook", timeout=5)
        assert page.status_code == 403  # no launch: nobody is let in
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert "client-secret-value" not in output and "h" * 20 not in output


def test_two_instances_on_one_machine_share_no_fixed_path(tmp_path: Path) -> None:
    """gunicorn 27 would put a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl or ~/.gunicorn/gunicorn.ctl,
    one path for every instance of the user (or of every machine sharing the home folder); serve
    makes none, and each instance keeps its metrics in a folder of its own."""
    home, runtime = tmp_path / "home", tmp_path / "run"
    home.mkdir(), runtime.mkdir()
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    ops_ports = [free_port(), free_port()]
    servers = [start_serve(f"sqlite:///{tmp_path / f'serve{n}.sqlite3'}", "--workers", "1", "--no-worker",
                           "--ops-port", str(ops_ports[n]), extra_env=env) for n in range(2)]
    try:
        for port in ops_ports:
            assert requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 200
        assert list(home.iterdir()) == [] and list(runtime.iterdir()) == []
    finally:
        for server, _ in servers:
            server.send_signal(signal.SIGTERM)
            server.communicate(timeout=60)
    assert [server.returncode for server, _ in servers] == [0, 0]
