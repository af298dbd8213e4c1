"""The entries' language end to end on the emulator: the connecting manager's language by default, and a
change on the page rewrites each future entry once (no e-mails: entries have no attendees)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.config import Settings
from bridge.db import Database
from bridge.models import Account
from emulator.testing import EmulatorHandle
from tests.page import lms_sample
from tests.page.conftest import ACCOUNT, Launch, Tenant, csrf, emulator_settings
from tests.page.test_connect import activate, consent, drain

PAGE = "/integrations/outlook"


@pytest.fixture
def settings(database: Database, emulator: EmulatorHandle) -> Settings:
    return emulator_settings(database, emulator)


def entries(emulator: EmulatorHandle, tenant: Tenant) -> list[dict[str, Any]]:
    return [e for m in emulator.admin.mailboxes(tenant.id).values() for e in m["events"]]


def writes(emulator: EmulatorHandle, since: int) -> list[dict[str, Any]]:
    """Graph calls that changed an entry (in a $batch or alone) after request ``since``."""
    return [r for r in emulator.admin.requests_log(since=since)
            if r["method"] in ("POST", "PATCH", "DELETE") and "/events" in r["path"]]


def last_request(emulator: EmulatorHandle) -> int:
    log = emulator.admin.requests_log(limit=1)
    return int(log[-1]["seq"]) if log else 0


def test_entries_follow_the_language_of_the_manager_then_the_setting(
        client: FlaskClient, launch: Launch, database: Database, settings: Settings, tenant: Tenant,
        emulator: EmulatorHandle, hooks: Callable[..., object]) -> None:
    hooks(ACCOUNT, lms_sample.deliveries(datetime.now(UTC)))
    launch("owner", user_id="u-owner", locale="ru")
    assert consent(client, emulator).startswith("200 ")
    assert activate(client)[0] == 303
    with database.session() as session:
        assert session.get(Account, ACCOUNT).locale == "ru"  # type: ignore[union-attr]
    drain(database, settings)
    made = entries(emulator, tenant)
    assert len(made) == 3
    assert all("Когда:" in e["body"]["content"] and "Открыть в СДО" in e["body"]["content"] for e in made)
    assert not any(e.get("attendees") for e in made)

    mark = last_request(emulator)
    answer = client.post(f"{PAGE}/language", data={"csrf_token": csrf(client), "locale": "en"})
    assert answer.status_code == 303
    drain(database, settings)
    rewritten = writes(emulator, mark)
    assert [r["method"] for r in rewritten] == ["PATCH"] * 3  # each future entry once, nothing made or removed
    made = entries(emulator, tenant)
    assert all("When:" in e["body"]["content"] and "Когда" not in e["body"]["content"] for e in made)

    mark = last_request(emulator)
    client.post(f"{PAGE}/resync", data={"csrf_token": csrf(client)})  # a full pass finds nothing to rewrite
    drain(database, settings)
    # nothing rewritten (the on-premises mailbox's create is tried again and refused, as before)
    assert [r for r in writes(emulator, mark) if r["status"] < 400] == []
