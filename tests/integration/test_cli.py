"""The ``outlook-sync`` command: migrate, status, and a clear stop on bad configuration."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.integration.world import World, at

ENV = {"OUTLOOK_SYNC_HOST_SECRET": "h" * 20, "OUTLOOK_SYNC_SECRET_KEY": "k" * 20,
       "OUTLOOK_SYNC_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
       "OUTLOOK_SYNC_CLIENT_SECRET": "client-secret-value"}


def outlook_sync(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}
    return subprocess.run([sys.executable, "-m", "plugin.cli", *args], env={**clean, **env}, text=True,
                          capture_output=True, timeout=120)


def test_bad_configuration_stops_with_the_variable_named(tmp_path: Path) -> None:
    done = outlook_sync("migrate", env={**ENV, "OUTLOOK_SYNC_DATABASE_URL": "mysql://nope"})
    assert done.returncode != 0
    assert "OUTLOOK_SYNC_DATABASE_URL" in done.stderr and "client-secret-value" not in done.stderr


def test_migrate_twice(tmp_path: Path) -> None:
    env = {**ENV, "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    assert outlook_sync("migrate", env=env).returncode == 0
    again = outlook_sync("migrate", env=env)
    assert again.returncode == 0 and "current schema" in again.stdout


def test_status_lists_users_with_reasons(world: World) -> None:
    world.person("org")
    world.person("gina", "gina@gmail.com", mailbox=None)
    world.event("e1", [("s1", at(24), at(25))])
    world.enroll("gina", "e1", "s1")
    world.connect()
    world.sync()
    done = outlook_sync("status", env={**ENV, "OUTLOOK_SYNC_DATABASE_URL": world.database.url})
    assert done.returncode == 0, done.stderr
    assert "account acme: connected" in done.stdout
    assert "synced=1" in done.stdout and "skipped=1" in done.stdout
    assert "gina@gmail.com" in done.stdout and "skipped (personal_email)" in done.stdout


def test_status_shows_removals_on_hold(world: World) -> None:
    from datetime import UTC, datetime

    from bridge.models import RemovalHold

    world.person("org")
    world.connect()
    with world.database.session() as session:
        session.add(RemovalHold(account_id=world.account, removals=240, future_entries=300, users=40,
                                causes={"events_deleted": [240, 12]},
                                held_at=datetime(2026, 11, 30, 14, 2, tzinfo=UTC)))
    done = outlook_sync("status", env={**ENV, "OUTLOOK_SYNC_DATABASE_URL": world.database.url})
    assert done.returncode == 0, done.stderr
    assert ("removals on hold: 240 of 300 future entries (240 of 12 deleted events (noticed at 2026-11-30 14:02 UTC));"
            in done.stdout)
