"""Test hosts on one machine: network namespaces on a private segment, each with its own name.

:class:`Lab` makes, for one test or benchmark, a namespace per host (``ip netns``), each joined by
a veth pair to a bridge that lives in a hub namespace of its own; the test process joins the segment
by one more veth pair. Addresses go only on those veth ends, in a 10.x.y.0/24 that no route of the
machine uses. Processes run on a host with ``ip netns exec`` and ``unshare --uts`` (so
``socket.gethostname()`` there is the host's name). :meth:`Lab.postgresql` starts a PostgreSQL server
of the lab's own (``initdb`` + ``postgres`` from the installed binaries) on a host's address.

Closing the lab (always, on the way out of its ``with``) ends every process it started (SIGTERM to
each process group, SIGKILL after 5 s), deletes its namespaces (their veth pairs and the bridge go
with them) and its files. Needs root, ``ip``, ``unshare``, ``runuser`` and PostgreSQL's binaries:
:func:`missing` says what is absent. Shared by ``tests/integration/test_hosts.py`` and benchmark
B10 (``benchmarks/fleet.py``).
"""
from __future__ import annotations

import contextlib
import glob
import ipaddress
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

TOOLS = ("ip", "unshare", "runuser")


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


def missing() -> str | None:
    """Why a lab cannot be made here (not root, a tool or PostgreSQL absent), or None when it can."""
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        return f"needs {', '.join(absent)}"
    if _postgres_bin() is None:
        return "needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin)"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _free_subnet() -> ipaddress.IPv4Network:
    """A 10.x.y.0/24 that no route of this machine touches (and that no other lab uses now)."""
    routes = json.loads(subprocess.run(["ip", "-j", "route", "show", "table", "all"], check=True,
                                       capture_output=True, text=True, timeout=10).stdout or "[]")
    used = []
    for route in routes:
        try:
            used.append(ipaddress.ip_network(route.get("dst", ""), strict=False))
        except ValueError:  # "default", "broadcast …": not a network
            continue
    for _ in range(100):
        net = ipaddress.ip_network(f"10.{random.randint(128, 254)}.{random.randint(0, 254)}.0/24")
        if not any(net.overlaps(other) for other in used if other.prefixlen > 0):
            return net  # type: ignore[return-value]
    raise RuntimeError("no free 10.x.y.0/24 for the test hosts")


def _signal(process: subprocess.Popen[bytes], signum: int) -> None:
    """Send ``signum`` to the process group of ``process`` (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


@dataclass
class Host:
    """A test host: its namespace, its name (what ``hostname`` says there) and its address."""

    name: str
    namespace: str
    address: str


@dataclass
class Lab:
    """Test hosts on a private segment; use as a context manager (everything goes at exit)."""

    prefix: str = field(default_factory=lambda: "osh" + secrets.token_hex(3))
    hosts: dict[str, Host] = field(default_factory=dict)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="outlook-sync-hosts-")))
    subnet: ipaddress.IPv4Network | None = None
    address: str = ""  # the test process's own address on the segment

    def __enter__(self) -> Lab:
        try:
            self._segment()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _segment(self) -> None:
        self.subnet = _free_subnet()
        hub = f"{self.prefix}-hub"
        _ip("netns", "add", hub)
        _ip("-n", hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub, "link", "set", "br0", "up")
        mine, peer = f"{self.prefix}r", f"{self.prefix}rp"
        _ip("link", "add", mine, "type", "veth", "peer", "name", peer)
        self._plug(peer)
        self.address = str(self.subnet[1])
        _ip("addr", "add", f"{self.address}/24", "dev", mine)
        _ip("link", "set", mine, "up")

    def _plug(self, end: str) -> None:
        """Move a veth end into the hub and attach it to the bridge."""
        hub = f"{self.prefix}-hub"
        _ip("link", "set", end, "netns", hub)
        _ip("-n", hub, "link", "set", end, "master", "br0")
        _ip("-n", hub, "link", "set", end, "up")

    def host(self, name: str) -> Host:
        """A new host called ``name`` (letters and digits, ≤ 8) with the next address of the segment."""
        assert self.subnet is not None and name.isalnum() and len(name) <= 8, name
        namespace = f"{self.prefix}-{name}"
        address = str(self.subnet[10 + len(self.hosts)])
        _ip("netns", "add", namespace)
        self.hosts[name] = made = Host(name, namespace, address)
        inner, outer = f"{self.prefix}{name}", f"{self.prefix}{name}p"[:15]
        _ip("link", "add", inner[:15], "type", "veth", "peer", "name", outer)
        _ip("link", "set", inner[:15], "netns", namespace)
        _ip("-n", namespace, "link", "set", inner[:15], "name", "eth0")
        _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        _ip("-n", namespace, "link", "set", "eth0", "up")
        _ip("-n", namespace, "link", "set", "lo", "up")
        self._plug(outer)
        return made

    def launcher(self, host: Host, user: str | None = None) -> list[str]:
        """The command prefix that runs a program on ``host`` (as ``user``, else root)."""
        prefix = ["ip", "netns", "exec", host.namespace, "unshare", "--uts", "sh", "-c",
                  'hostname "$0" && exec "$@"', host.name]
        return [*prefix, "runuser", "-u", user, "--"] if user else prefix

    def run(self, host: Host, argv: Sequence[str], env: Mapping[str, str] | None = None,
            log: str | None = None, user: str | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` on ``host`` in a process group of its own, output to ``log`` (a file name in
        the lab's folder, default ``<host>.log``); the lab kills it at exit."""
        out = (self.folder / (log or f"{host.name}.log")).open("ab")
        process = subprocess.Popen([*self.launcher(host, user), *argv], stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
        out.close()
        self.processes.append(process)
        return process

    def postgresql(self, host: Host, timeout: float = 30.0) -> str:
        """Start a PostgreSQL server of the lab's own on ``host``:5432 (trust authentication, no fsync)
        and return the URL of a new database on it, ``postgresql+psycopg://postgres@<address>/outlook_sync``.
        Raises TimeoutError when it does not answer within ``timeout`` seconds."""
        binaries = _postgres_bin()
        assert binaries is not None
        data = self.folder / "pgdata"
        data.mkdir()
        shutil.chown(data, "postgres", "postgres")
        self.folder.chmod(0o755)  # the server's user reads its data folder inside the lab's
        subprocess.run(["runuser", "-u", "postgres", "--", str(binaries / "initdb"), "-D", str(data), "-U",
                        "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"], check=True, capture_output=True,
                       timeout=60)
        with (data / "pg_hba.conf").open("a") as hba:  # the lab's segment only, no password (a test server)
            hba.write(f"host all postgres {self.subnet} trust\n")
        self.run(host, [str(binaries / "postgres"), "-D", str(data), "-h", host.address, "-p", "5432",
                        "-k", str(data), "-c", "fsync=off", "-c", "synchronous_commit=off",
                        "-c", "full_page_writes=off", "-c", "max_connections=400"], log="postgresql.log",
                 user="postgres")
        dsn = f"postgresql://postgres@{host.address}:5432/postgres"
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(dsn, connect_timeout=2, autocommit=True) as connection:
                    connection.execute("CREATE DATABASE outlook_sync")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the lab's PostgreSQL did not start: {self.log('postgresql.log')}") from None
                time.sleep(0.2)
        return f"postgresql+psycopg://postgres@{host.address}:5432/outlook_sync"

    def log(self, name: str) -> str:
        """The text of one of the lab's log files (its last 4,000 characters)."""
        path = self.folder / name
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL a process group the lab started (a host's process dying at once) and reap it."""
        _signal(process, signal.SIGKILL)
        process.wait(timeout=10)

    def close(self) -> None:
        """Kill every process started here, delete the namespaces (their veth pairs and the bridge go
        with them) and the lab's files."""
        for process in self.processes:
            if process.poll() is None:
                _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill(process)
        for namespace in [h.namespace for h in self.hosts.values()] + [f"{self.prefix}-hub"]:
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, timeout=10)
        subprocess.run(["ip", "link", "del", f"{self.prefix}r"], capture_output=True, timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)
