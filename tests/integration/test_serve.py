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


def test_serve_answers_hooks_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}, **ENV,
           "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}"}
    server = subprocess.Popen([sys.executable, "-m", "plugin.cli", "serve", "--port", str(port), "--workers", "1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise AssertionError("serve did not answer /healthz")
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
