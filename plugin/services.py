"""What the app's views share, kept in ``app.extensions`` rather than in module globals."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import cast

from flask import current_app

from bridge.config import Settings
from bridge.db import Database
from bridge.graph.client import Graph
from bridge.trust import credentials
from plugin.contract.manifest import Manifest

EXTENSION = "outlook_sync"


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    manifest: Manifest

    @cached_property
    def graph(self) -> Graph:
        """The Graph client, built on first use (the hooks never need it)."""
        graph = Graph.from_settings(self.settings)
        graph.tokens.on_outcome = credentials.recorder(self.database)
        return graph


def services() -> Services:
    """The current app's services (inside a request or an app context)."""
    return cast(Services, current_app.extensions[EXTENSION])
