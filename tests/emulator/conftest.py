"""One emulator subprocess for the whole session; every test starts from a clean world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulator.testing import EmulatorHandle, running_emulator
from tests.emulator.emu_support import World, make_world


@pytest.fixture(scope="session")
def emu() -> Iterator[EmulatorHandle]:
    with running_emulator() as handle:
        yield handle
        log = handle.log_path.read_text(errors="replace")
    assert "Traceback" not in log and "ERROR" not in log, f"emulator logged errors:\n{log}"


@pytest.fixture(autouse=True)
def _clean(emu: EmulatorHandle) -> None:
    emu.admin.reset()


@pytest.fixture(autouse=True)
def _no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override ``verify=`` in requests (facts.md): clear them."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def world(emu: EmulatorHandle) -> World:
    return make_world(emu)
