"""``outlook-sync`` writing to a reader that stops early (``outlook-sync status | head``): a real
process on the test's database, its stdout a pipe whose reading end is closed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from bridge.config import Settings
from bridge.db import Database
from tests.plugin.test_host_key_command import cli_env, outlook_sync


def test_a_closed_reader_ends_the_command_quietly(settings: Settings, database: Database) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes its first line
    try:
        ended = subprocess.run([sys.executable, "-m", "plugin.cli", "status"], stdout=write_end,
                               stderr=subprocess.PIPE, env=cli_env(settings), text=True, timeout=120)
    finally:
        os.close(write_end)
    assert ended.stderr == "", "no traceback, no 'Exception ignored' at exit"
    assert ended.returncode == 128 + signal.SIGPIPE  # what a shell reports for a command ended by SIGPIPE


def test_a_reader_that_stays_gets_the_whole_report(settings: Settings, database: Database) -> None:
    shown = outlook_sync(settings, "status")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("no LMS account yet")
