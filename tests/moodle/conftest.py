"""Fixtures for the Moodle plugin's contract tests: the plugin's app, and the PHP harness.

The harness (hosts/moodle/tests/harness.php) runs the Moodle plugin's own pure classes under
Debian's ``php`` (bin/setup installs it); it is not Moodle. The fixtures were recorded from real
Moodle runs (docs/MOODLE.md §6): ``fixtures/moodle43`` on Moodle 4.3 with face-to-face,
``fixtures/moodle45`` on Moodle 4.5 LTS with face-to-face and mod_booking. Each holds the events Moodle
logged for one step and the snapshot the plugin read from Moodle's tables for that step's round (4.5:
read just before Moodle's task runner ran the round, with what the runner printed).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.config import Settings
from bridge.db import Database
from tests.plugin.conftest import HOST_SECRET

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "hosts" / "moodle" / "tests" / "harness.php"
FIXTURES = Path(__file__).with_name("fixtures")
ACCOUNT = "moodle-e2e"

Php = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(host_secret=HOST_SECRET, secret_key="test-secret-key-0123456789", client_id="test-client-id",
                    client_secret="test-client-secret", database_url=database.url)


@pytest.fixture(scope="session")
def php() -> Php:
    """Run ``php harness.php <command>`` with a JSON input; its JSON output (fails if PHP is absent)."""
    executable = shutil.which("php")
    if executable is None:
        pytest.fail("php is not installed: bin/setup installs Debian's php-cli for these tests")

    def run(command: str, **data: Any) -> dict[str, Any]:
        done = subprocess.run([executable, str(HARNESS), command], input=json.dumps(data), capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    return run


def steps(run: str = "moodle43") -> list[dict[str, Any]]:
    """The recorded steps of one run (a folder of ``fixtures/``), in the order they happened."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted((FIXTURES / run).glob("*.json"))]


def known_after(actions: list[dict[str, Any]], known: dict[str, Any]) -> dict[str, Any]:
    """What the plugin's table holds once the bridge accepted a round's actions."""
    for action in actions:
        known[action["key"]] = {"version": action["version"], "hash": action["hash"], "sent": True}
    return known


def round_input(snapshot: dict[str, Any], known: dict[str, Any], batchonly: bool = False,
                ago: int = 0) -> dict[str, Any]:
    """The harness's ``round`` input for a snapshot, signed ``ago`` seconds before now with the tests' secret."""
    return {"snapshot": snapshot, "known": known, "account": ACCOUNT, "secret": HOST_SECRET,
            "now": int(time.time()) - ago, "batchonly": batchonly}
