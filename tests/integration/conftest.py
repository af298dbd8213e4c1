"""End-to-end fixtures: one emulator process for the session, a fresh world per test."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.db import Database
from emulator.testing import EmulatorHandle, running_emulator
from tests.integration.world import World


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorHandle]:
    with running_emulator() as handle:
        yield handle


@pytest.fixture
def world(emulator: EmulatorHandle, database: Database) -> Iterator[World]:
    made = World.create(emulator, database)
    yield made
    made.graph.close()
