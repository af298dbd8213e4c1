"""The README's demo: exits 0 only when every user and mailbox is what the rules say; a first impression
in the page's words; with --keep-running, a working command for a fresh link and no emulator left behind."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from plugin.demo.run import run_demo

ROOT = Path(__file__).resolve().parents[2]


def test_demo_ends_with_what_the_rules_say(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    here = os.getcwd()
    os.chdir(tmp_path)  # the demo keeps its database under ./var
    try:
        assert run_demo(port=0) == 0
    finally:
        os.chdir(here)
    out = capsys.readouterr().out
    assert "Every user and mailbox is what the rules say." in out
    assert "Otto Onprem" in out and "Mailbox not in Exchange Online (on-premises or unlicensed)" in out
    assert "Personal e-mail address (not synced)" in out and "personal_email" not in out
    assert "(1 entry)" in out and "(1 entries)" not in out and "(5 entries)" in out
    assert "launch=" not in out and "/integrations/outlook" not in out  # no address when it does not keep running
    assert "alembic" not in out.lower() and "Running upgrade" not in out
    assert "Calendar feeds" in out and "asked again with its ETag: 304" in out


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sigterm_while_it_sets_up_stops_the_emulator_too(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}, "PYTHONPATH": str(ROOT)}
    demo = subprocess.Popen([sys.executable, "-m", "plugin.cli", "demo"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert demo.stdout is not None
        first = demo.stdout.readline()
        assert first.startswith("emulator: "), first
        emulators = _children(demo.pid)
        assert emulators
        demo.send_signal(signal.SIGTERM)
        rest = demo.stdout.read()
        assert demo.wait(timeout=60) == 130 and "stopped" in rest and "Traceback" not in rest, rest
        assert not any(_alive(pid) for pid in emulators), "the emulator outlived the demo"
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()


def test_keep_running_prints_a_working_link_command_and_sigterm_leaves_no_emulator(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}
    env["PYTHONPATH"] = str(ROOT)
    demo = subprocess.Popen([sys.executable, "-m", "plugin.cli", "demo", "--keep-running"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert demo.stdout is not None
        lines: list[str] = []
        for line in demo.stdout:
            lines.append(line)
            if line.startswith("Serving until Ctrl-C"):
                break
        out = "".join(lines)
        assert "Serving until Ctrl-C" in out, out
        command = next(line.strip() for line in lines if "host launch-link" in line)
        assert "--role owner" in command and "--user u-owner" in command
        link = subprocess.run(command.replace("--user u-owner --role owner", "--user u-lena --role learner"),
                              shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
        assert link.returncode == 0, link.stderr
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/integrations/outlook\?launch=\S+", link.stdout.strip())
        page = requests.get(link.stdout.strip(), timeout=30)
        assert page.status_code == 200 and "can connect, disconnect or change these settings" in page.text
        emulators = _children(demo.pid)
        assert emulators, "the demo should run the emulator as its child"
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in emulators) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in emulators), "the emulator outlived the demo"
        assert not (tmp_path / "var" / "demo-host-secret").exists()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
