"""``outlook-sync status`` shows the credentials' days left and each account's health line."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.integration.test_cli import ENV, outlook_sync
from tests.integration.world import World, at


def test_status_shows_days_left_and_health(world: World) -> None:
    world.person("org")
    world.event("e1", [("s1", at(24), at(25)), ("s2", at(48), at(49))])
    world.connect()
    world.sync()
    expires = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    env = {**ENV, "OUTLOOK_SYNC_DATABASE_URL": world.database.url, "OUTLOOK_SYNC_CLIENT_SECRET_EXPIRES": expires}
    done = outlook_sync("status", env=env)
    assert done.returncode == 0, done.stderr
    assert "credential current secret: 3 days left [7_days]" in done.stdout
    health = next(line for line in done.stdout.splitlines() if line.startswith("  health:"))
    assert "waiting=0" in health and "latency p50=" in health and "n=1" in health
    assert "last_full_pass=" in health and "last_full_pass=-" not in health
    assert ENV["OUTLOOK_SYNC_CLIENT_SECRET"] not in done.stdout


def test_a_malformed_expiry_date_is_named(world: World) -> None:
    env = {**ENV, "OUTLOOK_SYNC_DATABASE_URL": world.database.url, "OUTLOOK_SYNC_CLIENT_SECRET_EXPIRES": "31/12/2030"}
    done = outlook_sync("status", env=env)
    assert done.returncode != 0
    assert "OUTLOOK_SYNC_CLIENT_SECRET_EXPIRES: must be a date as YYYY-MM-DD, got '31/12/2030'" in done.stderr
