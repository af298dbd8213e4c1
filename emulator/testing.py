"""`running_emulator`: start the emulator in a subprocess for a test, a demo or a benchmark.

A subprocess (not a thread) so the emulator's event loop never competes with the client's GIL
and a crash cannot take the tests down with it. Options map to ``python -m emulator`` flags,
e.g. ``running_emulator(rate_503=0.1, seed=7, window_requests=50)``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from .client import EmulatorAdmin

_BASE = re.compile(r"at (https://\S+)")
_CA = re.compile(r"CA certificate: (\S.*)$", re.M)


@dataclass
class EmulatorHandle:
    """A running emulator: where it is, how to trust it, how to drive it."""

    base_url: str
    ca_path: str
    admin: EmulatorAdmin
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/v1.0"

    def authority(self, tenant: str) -> str:
        """MSAL authority for a tenant id or domain."""
        return f"{self.base_url}/{tenant}"


def _flags(options: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key, value in options.items():
        if value is None:
            continue
        if key == "methods":
            key, value = "fault_methods", ",".join(value)
        out += ["--" + key.replace("_", "-"), str(value)]
    return out


@contextmanager
def running_emulator(
    *,
    cert_dir: str | None = None,
    csdl: str | None = None,
    env: dict[str, str] | None = None,
    startup_timeout: float = 30.0,
    host: str = "127.0.0.1",
    launcher: Sequence[str] = (),
    **options: Any,
) -> Iterator[EmulatorHandle]:
    """Start ``python -m emulator --port 0`` and yield an `EmulatorHandle`; stop it on exit.

    ``host`` is the address it listens on (its certificate names it); ``launcher`` goes before the
    command, e.g. ``("ip", "netns", "exec", "<namespace>")`` to run it on a test host of its own.

    ``options``: latency_ms, latency_jitter_ms, latency_distribution, rate_503, rate_429,
    rate_ambiguous, rate_reset, rate_concurrent_item_save, ambiguous_hold_ms, retry_after_s,
    methods, seed, window_seconds, window_requests, concurrency, token_lifetime, token_format,
    rbac_cache_idle_seconds, rbac_cache_max_seconds.
    """
    workdir = Path(tempfile.mkdtemp(prefix="outlook-emulator-run-"))
    certs = cert_dir or str(workdir / "certs")
    out_path, log_path = workdir / "stdout.txt", workdir / "stderr.txt"
    command = [*launcher, sys.executable, "-m", "emulator", "--host", host, "--port", "0", "--cert-dir", certs]
    if csdl:
        command += ["--csdl", csdl]
    command += _flags(options)
    child_env = {**os.environ, **(env or {})}
    root = str(Path(__file__).resolve().parent.parent)
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (root, child_env.get("PYTHONPATH", "")) if p)
    with open(out_path, "wb") as out, open(log_path, "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=child_env)
    admin: EmulatorAdmin | None = None
    try:
        deadline = time.monotonic() + startup_timeout
        base = ca = None
        while time.monotonic() < deadline:
            text = out_path.read_text(errors="replace")
            m_base, m_ca = _BASE.search(text), _CA.search(text)
            if m_base and m_ca:
                base, ca = m_base.group(1), m_ca.group(1).strip()
                admin = EmulatorAdmin(base, ca)
                try:
                    admin.health()
                    break
                except requests.RequestException:
                    pass
            if process.poll() is not None:
                raise RuntimeError(f"emulator exited with {process.returncode}: {log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        else:
            raise TimeoutError(f"emulator not ready after {startup_timeout}s: {log_path.read_text(errors='replace')}")
        assert base and ca and admin
        yield EmulatorHandle(base, ca, admin, process, log_path)
    finally:
        if admin is not None:
            admin.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
