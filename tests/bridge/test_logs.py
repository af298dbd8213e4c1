"""Log lines: text by default, JSON on request, with the account, user and delivery where known."""
from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bridge import logs
from bridge.config import ConfigError, Settings, log_format

BASE = {"OUTLOOK_SYNC_HOST_SECRET": "h" * 20, "OUTLOOK_SYNC_SECRET_KEY": "k" * 20,
        "OUTLOOK_SYNC_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
        "OUTLOOK_SYNC_CLIENT_SECRET": "client-secret-value"}


@pytest.fixture(autouse=True)
def _no_fields() -> None:
    """Start without fields: a Flask test client's request leaves its own in the test's thread."""
    logs.clear()


def captured(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    logger = logging.getLogger(f"test.logs.{fmt}")
    logger.handlers[:] = [logs.handler(fmt, out)]
    logger.propagate, logger.level = False, logging.INFO
    return logger, out


def test_json_lines_carry_the_fields_of_their_scope_only() -> None:
    logger, out = captured("json")
    with logs.scope(account="acme", user="u1"):
        logs.add(delivery="d-1")
        logger.warning("stored %d rows", 3)
    logger.info("after")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    first, second, third = (json.loads(line) for line in out.getvalue().splitlines())
    assert first.keys() == {"time", "level", "logger", "message", "account", "user", "delivery"}
    assert (first["level"], first["logger"], first["message"]) == ("WARNING", "test.logs.json", "stored 3 rows")
    assert (first["account"], first["user"], first["delivery"]) == ("acme", "u1", "d-1")
    assert first["time"].endswith("+00:00")
    assert second.keys() == {"time", "level", "logger", "message"}
    assert third["exception"].startswith("Traceback") and "ValueError: boom" in third["exception"]


def test_text_lines_name_the_fields_at_the_end() -> None:
    logger, out = captured("text")
    with logs.scope(account="acme", user=None):
        logger.info("hello")
    assert out.getvalue().rstrip().endswith("INFO test.logs.text: hello account=acme")


def test_each_thread_keeps_its_own_fields() -> None:
    logger, out = captured("json")
    logs.clear()
    logs.add(account="main")
    thread = threading.Thread(target=lambda: logger.info("elsewhere"))
    thread.start()
    thread.join()
    assert "account" not in json.loads(out.getvalue())
    logs.clear()


def test_a_workers_name_is_on_every_line_of_its_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_process", {})
    logger, out = captured("json")
    logs.add_process(worker="host-b:4242:7f00", account="not-a-process-field")
    thread = threading.Thread(target=lambda: logger.info("from a sync thread"))
    thread.start()
    thread.join()
    with logs.scope(account="acme"):
        logger.info("in a scope")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["worker"] == "host-b:4242:7f00" and "account" not in first
    assert (second["worker"], second["account"]) == ("host-b:4242:7f00", "acme")


def test_the_format_is_validated() -> None:
    assert log_format({}) == "text"
    assert log_format({"OUTLOOK_SYNC_LOG_FORMAT": "JSON"}) == "json"
    assert Settings.from_env({**BASE, "OUTLOOK_SYNC_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(ConfigError, match=r"OUTLOOK_SYNC_LOG_FORMAT: must be one of text, json, got 'yaml'"):
        log_format({"OUTLOOK_SYNC_LOG_FORMAT": "yaml"})


def test_the_command_logs_one_json_object_a_line(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OUTLOOK_SYNC_")}
    env = {**clean, **BASE, "OUTLOOK_SYNC_LOG_FORMAT": "json",
           "OUTLOOK_SYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    worker = subprocess.Popen([sys.executable, "-m", "plugin.cli", "worker"], env=env, text=True,
                              stderr=subprocess.PIPE)
    assert worker.stderr is not None
    lines = []
    for line in worker.stderr:
        lines.append(line)
        if "started" in line:
            break
    worker.send_signal(signal.SIGTERM)
    lines += worker.communicate(timeout=60)[1].splitlines()
    assert worker.returncode == 0
    started = [json.loads(line) for line in lines if "started" in line]
    assert started and started[0]["logger"] == "outlook_sync" and started[0]["level"] == "INFO"
    for line in lines:
        assert {"time", "level", "logger", "message"} <= json.loads(line).keys()
    bad = subprocess.run([sys.executable, "-m", "plugin.cli", "migrate"], env={**env, "OUTLOOK_SYNC_LOG_FORMAT": "xml"},
                         text=True, capture_output=True, timeout=60)
    assert bad.returncode != 0 and "OUTLOOK_SYNC_LOG_FORMAT" in bad.stderr
