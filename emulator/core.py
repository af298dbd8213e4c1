"""The running emulator's parts in one object, shared by every route."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any

from .config import Options
from .csdl import Schema
from .events import EventRules
from .faults import FaultInjector
from .metrics import Metrics
from .rbac import Rbac
from .state import World
from .throttle import MailboxKey, MailboxThrottle
from .tokens import TokenService
from .zones import Zones


@dataclass
class Emulator:
    """World state plus the services that judge, limit and perturb requests."""

    options: Options
    schema: Schema
    zones: Zones
    world: World = field(default_factory=World)
    tokens: TokenService = field(default_factory=TokenService)
    exchange: dict[str, Rbac] = field(default_factory=dict)  # each tenant's groups and RBAC for Applications
    started_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.initial = copy.deepcopy(self.options)
        self.rules = EventRules(self.schema, self.zones)
        self.throttle = MailboxThrottle(self.options.limits)
        self.faults = FaultInjector(self.options.faults)
        self.metrics = Metrics(self.options.limits.request_log_size)
        self._seq = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def rbac(self, tenant_id: str) -> Rbac:
        """A tenant's groups and Exchange RBAC for Applications (empty until set up)."""
        return self.exchange.setdefault(tenant_id, Rbac())

    def reset(self, scope: str = "all") -> None:
        """``all``: everything back to start-up; ``faults``: faults+limits; ``counters``: metrics."""
        if scope in ("all", "faults"):
            self.options.faults = copy.deepcopy(self.initial.faults)
            self.options.limits = copy.deepcopy(self.initial.limits)
            self.faults.configure(self.options.faults)
            self.throttle.limits = self.options.limits
            self.metrics.resize(self.options.limits.request_log_size)
        if scope in ("all", "counters"):
            self.metrics.clear()
            self.throttle.max_seen.clear()
        if scope == "all":
            self.world.clear()
            self.exchange.clear()
            self.throttle.reset()

    @staticmethod
    def key_text(key: MailboxKey) -> str:
        return f"{key[0]}/{key[1]}/{key[2]}"

    def counters(self) -> dict[str, Any]:
        return self.metrics.snapshot(
            {self.key_text(k): v for k, v in self.throttle.max_seen.items()},
            {self.key_text(k): v for k, v in self.throttle.in_flight.items()},
        )
