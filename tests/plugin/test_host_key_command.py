"""``outlook-sync host-key`` as an operator runs it (a real process on the test's database), and
``outlook-sync host feed-address`` signing with the key it printed, over loopback HTTP."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from bridge.config import Settings
from bridge.db import Database
from plugin.cli.main import parser
from tests.plugin.conftest import HOST_SECRET
from tests.plugin.test_host import live_url  # noqa: F401  (the fixture: the app on a loopback port)

USER = '{"topic": "user.upserted", "account": "org-a", "data": {"id": "u1", "email": "u1@gmail.com", ' \
       '"name": "Ada", "active": true, "role": "learner", "version": 1}}'


def cli_env(settings: Settings, **env: str) -> dict[str, str]:
    """The environment of an ``outlook-sync`` process on the test's settings (the process's own
    ``OUTLOOK_SYNC_*`` variables left out), with ``env`` on top."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}
    return {**clean, "OUTLOOK_SYNC_HOST_SECRET": HOST_SECRET, "OUTLOOK_SYNC_SECRET_KEY": settings.secret_key,
            "OUTLOOK_SYNC_CLIENT_ID": "test-client-id", "OUTLOOK_SYNC_CLIENT_SECRET": "test-client-secret",
            "OUTLOOK_SYNC_DATABASE_URL": settings.database_url, **env}


def outlook_sync(settings: Settings, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plugin.cli", *args], env=cli_env(settings, **env), input=stdin,
                          text=True, capture_output=True, timeout=120)


def test_create_prints_the_secret_once_rotate_overlaps_list_and_revoke(
        settings: Settings, database: Database, live_url: str) -> None:  # noqa: F811
    made = outlook_sync(settings, "host-key", "create", "--account", "org-a")
    assert made.returncode == 0, made.stderr
    first, secret = re.search(r"new host key (hk_\S+)\n.*: (\S+)\n", made.stdout).groups()  # type: ignore[union-attr]
    rotated = outlook_sync(settings, "host-key", "create", "--account", "org-a", "--overlap-hours", "2")
    second = re.search(r"new host key (hk_\S+)", rotated.stdout).group(1)  # type: ignore[union-attr]
    assert f"key {first} keeps working until" in rotated.stdout
    listed = outlook_sync(settings, "host-key", "list", "--account", "org-a")
    assert re.search(rf"{first}\s+works until ", listed.stdout) and re.search(rf"{second}\s+works ", listed.stdout)
    assert secret not in listed.stdout and secret not in listed.stderr

    as_host = {"OUTLOOK_SYNC_HOST_SECRET": secret, "OUTLOOK_SYNC_HOST_KEY_ID": first}
    sent = outlook_sync(settings, "host", "send", "--url", live_url, stdin=USER, **as_host)
    assert sent.returncode == 0 and sent.stdout.startswith("202"), sent.stdout + sent.stderr
    ask = ("host", "feed-address", "--url", live_url, "--account", "org-a", "--user", "u1", "--request-id", "r-1")
    assert outlook_sync(settings, *ask, **as_host).stdout.startswith("200")
    repeat = outlook_sync(settings, *ask, **as_host)
    assert repeat.returncode == 1 and repeat.stdout.startswith("409") and '"request_id":"r-1"' in repeat.stdout
    shared = outlook_sync(settings, "host", "send", "--url", live_url, stdin=USER)
    assert shared.stdout.startswith("403"), shared.stdout

    assert outlook_sync(settings, "host-key", "revoke", "--account", "org-a", "--key", first).returncode == 0
    assert outlook_sync(settings, "host", "send", "--url", live_url, stdin=USER, **as_host).stdout.startswith("401")
    unknown = outlook_sync(settings, "host-key", "revoke", "--account", "org-b", "--key", second)
    assert unknown.returncode == 1 and f"account 'org-b' has no host key {second!r}" in unknown.stderr
    wrong = outlook_sync(settings, "host-key", "create", "--account", "org-a", "--overlap-hours", "-1")
    assert wrong.returncode == 2 and "--overlap-hours must be between 0 and" in wrong.stderr


def test_an_account_id_that_no_hook_could_carry_is_refused_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("", "a" * 129, "org\nb"):
        with pytest.raises(SystemExit) as stopped:
            parser().parse_args(["host-key", "create", "--account", bad])
        assert stopped.value.code == 2 and "is not an LMS account id" in capsys.readouterr().err
    assert parser().parse_args(["host-key", "list", "--account", "org-a"]).account == "org-a"


def test_list_says_a_key_made_under_another_secret_key_cannot_be_unsealed(
        settings: Settings, database: Database) -> None:
    """After OUTLOOK_SYNC_SECRET_KEY changed, requests signed with the old keys get 401: ``list`` says
    so and names the fix, instead of calling them working."""
    made = outlook_sync(settings, "host-key", "create", "--account", "org-a")
    key = re.search(r"new host key (hk_\S+)", made.stdout).group(1)  # type: ignore[union-attr]
    assert re.search(rf"{key}\s+works ", outlook_sync(settings, "host-key", "list", "--account", "org-a").stdout)
    other = outlook_sync(settings, "host-key", "list", "--account", "org-a", OUTLOOK_SYNC_SECRET_KEY="k" * 40)
    assert other.returncode == 0, other.stderr
    assert re.search(rf"{key}\s+cannot be unsealed \(OUTLOOK_SYNC_SECRET_KEY changed\): make a new key", other.stdout)
