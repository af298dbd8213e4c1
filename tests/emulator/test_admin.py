"""Admin API: set-up calls, look-inside calls, reset, and start-up failures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from emulator.client import EmulatorAdminError
from emulator.testing import EmulatorHandle
from tests.emulator.emu_support import World, event_body


def test_bulk_users_are_fast(emu: EmulatorHandle) -> None:
    tenant = emu.admin.create_tenant("Big", ["big.example"])
    started = time.monotonic()
    users = emu.admin.create_users(tenant["id"], [{"userPrincipalName": f"u{i}@big.example"} for i in range(5000)])
    assert len(users) == 5000 and time.monotonic() - started < 10
    assert len({u["id"] for u in users}) == 5000


def test_tenant_has_default_and_onmicrosoft_domains(emu: EmulatorHandle) -> None:
    tid = str(uuid.uuid4())
    tenant = emu.admin.create_tenant("Fourth Coffee", ["fourthcoffee.com"], tenant_id=tid)
    assert tenant["id"] == tid
    assert [(d["id"], d["isDefault"]) for d in tenant["domains"]] == [
        ("fourthcoffee.com", True),
        ("fourthcoffee.onmicrosoft.com", False),
    ]
    with pytest.raises(EmulatorAdminError) as err:
        emu.admin.create_tenant("Other", ["FourthCoffee.com"])
    assert err.value.status == 409


def test_user_needs_a_tenant_domain(emu: EmulatorHandle) -> None:
    tenant = emu.admin.create_tenant("T", ["t.example"])
    with pytest.raises(EmulatorAdminError):
        emu.admin.create_user(tenant["id"], "someone@gmail.com")


def test_mailboxes_view_includes_extended_properties(world: World) -> None:
    tag = {"id": "String {11111111-2222-3333-4444-555555555555} Name k", "value": "v"}
    world.graph().post(
        world.url("/users/alice@contoso.com/events"), json=event_body(singleValueExtendedProperties=[tag])
    )
    boxes = world.emu.admin.mailboxes(world.tenant_id)
    alice = boxes[world.users["alice"]["id"]]
    assert alice["userPrincipalName"] == "alice@contoso.com"
    assert alice["events"][0]["singleValueExtendedProperties"] == [tag]
    assert boxes[world.users["bob"]["id"]]["events"] == []


def test_request_log_and_counters(world: World) -> None:
    graph = world.graph()
    graph.post(world.url("/users/alice@contoso.com/events"), json=event_body())
    graph.get(world.url("/users/ghost@contoso.com/events"))
    log = world.emu.admin.requests_log()
    calendar = [e for e in log if e["kind"] == "calendar"]
    assert [(e["method"], e["status"]) for e in calendar] == [("POST", 201), ("GET", 404)]
    assert any(e["status"] == 404 and e["path"].endswith("/users/ghost@contoso.com/events") for e in log)
    assert all({"method", "path", "status", "tenant", "mailbox", "time"} <= set(e) for e in log)
    counters = world.emu.admin.counters()
    assert counters["creates"] == 1 and counters["by_status"]["404"] == 1
    assert counters["tokens_issued"] == 1


def test_reset_scopes(world: World) -> None:
    admin = world.emu.admin
    admin.set_faults(rate_503=0.5)
    admin.reset("faults")
    assert admin.set_faults()["rate_503"] == 0
    assert admin.tenants()  # world kept
    admin.reset("counters")
    assert admin.counters()["requests"] == 0
    admin.reset()
    assert admin.tenants() == []


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0"],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root), **env},
        timeout=60,
    )


def test_missing_csdl_stops_start_up_with_a_clear_message() -> None:
    result = _start({"OUTLOOK_EMULATOR_CSDL": "/nonexistent/v1.0-Prod.csdl"})
    assert result.returncode == 2
    assert "/nonexistent/v1.0-Prod.csdl" in result.stderr and "OUTLOOK_EMULATOR_CSDL" in result.stderr


def test_malformed_env_var_stops_start_up_naming_it() -> None:
    result = _start({"OUTLOOK_EMULATOR_RATE_503": "lots"})
    assert result.returncode == 2
    assert "OUTLOOK_EMULATOR_RATE_503" in result.stderr
