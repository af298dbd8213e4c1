"""Fixtures of the reliability suites: one emulator for the session, and the figures each suite reports.

Every suite records what it did (runs, kills, steps, faults the emulator injected, time to converge)
with the ``figures`` fixture; the numbers are printed at the end of the run, under "reliability figures".
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from emulator.testing import EmulatorHandle, running_emulator

_FIGURES: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator() as handle:
        yield handle


@pytest.fixture(autouse=True)
def _no_ca_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE would override ``verify=`` in requests."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A dict the test fills with its figures; printed in the terminal summary."""
    found: dict[str, Any] = {}
    _FIGURES[request.node.nodeid] = found
    return found


def pytest_terminal_summary(terminalreporter: Any) -> None:
    shown = {name: values for name, values in _FIGURES.items() if values}
    if not shown:
        return
    terminalreporter.section("reliability figures")
    for name, values in shown.items():
        terminalreporter.write_line(f"{name}: {json.dumps(values, sort_keys=True, default=str)}")
