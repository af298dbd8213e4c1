"""Moving parts the reliability suites share: a worker loop in a thread, the plugin served over real
HTTP, and a PostgreSQL server of the suite's own that can be stopped and started again.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from bridge.worker.loop import Worker


class Background:
    """A real worker loop (``Worker.run``) in a thread; if the loop dies, leaving the block fails."""

    def __init__(self, worker: Worker, idle_sleep: float = 0.2) -> None:
        self.worker = worker
        self.idle_sleep = idle_sleep
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="background-worker")

    def _run(self) -> None:
        try:
            self.worker.run(idle_sleep=self.idle_sleep)
        except BaseException as exc:  # reported on exit
            self.error = exc

    def __enter__(self) -> Background:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.worker.stop()
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the worker did not stop"
        assert self.error is None, f"the worker loop died: {self.error!r}"


@contextmanager
def serving(app: Any, port: int = 0) -> Iterator[str]:
    """Serve a WSGI app on a local port (default: a free one) in a thread (werkzeug, threaded);
    yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="plugin-http")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ScratchPostgres:
    """A PostgreSQL server made from the installed binaries in a temporary directory, for one test.

    initdb refuses to run as root, so as root the server runs as the ``postgres`` user (its files in
    a directory that user owns). Trust authentication, TCP on 127.0.0.1 and a free port only.
    """

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        pg_ctl = shutil.which("pg_ctl") or (found[-1] if found else None)
        if pg_ctl is None:
            pytest.skip("PostgreSQL unreachable: no pg_ctl among the installed binaries")
        self.bin = Path(pg_ctl).parent
        self.as_user: list[str] = []
        owner = None
        if os.getuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("PostgreSQL unreachable: running as root and there is no postgres user to run it")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix="reliability-pg-"))
        self.data, self.sockets, self.log = self.root / "data", self.root / "sockets", self.root / "server.log"
        self.sockets.mkdir()
        if owner is not None:
            for path in (self.root, self.sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.port = free_port()
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self.as_user, *command], capture_output=True, text=True, timeout=120)
        if done.returncode:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}{log}")

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=100")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def destroy(self) -> None:
        """Stop the server whatever state it is in, and remove its files."""
        try:
            if self.running or (self.data / "postmaster.pid").exists():
                try:
                    self.stop("fast")
                except (RuntimeError, subprocess.TimeoutExpired):
                    self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def scratch_postgres() -> Iterator[ScratchPostgres]:
    server = ScratchPostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.destroy()
