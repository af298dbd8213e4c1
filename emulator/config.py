"""Run-time options of the emulator: fault injection and limits.

Defaults come from environment variables, then from command-line flags, then from the admin
API (``PUT /_emulator/faults`` and ``PUT /_emulator/limits``) while it runs. A malformed variable
stops start-up with a message that names it.

Environment variables (all optional):

=========================================  =======================================================
``OUTLOOK_EMULATOR_LATENCY_MS``            mean added latency per Graph request (ms, default 0)
``OUTLOOK_EMULATOR_LATENCY_JITTER_MS``     jitter around the mean (ms, default 0)
``OUTLOOK_EMULATOR_LATENCY_DISTRIBUTION``  ``uniform`` (mean +/- jitter) or ``normal`` (sigma =
                                           jitter, clipped at 0); default ``uniform``
``OUTLOOK_EMULATOR_RATE_503``              share of Graph requests answered 503 ServiceNotAvailable
``OUTLOOK_EMULATOR_RATE_429``              share answered 429 TooManyRequests (fractional Retry-After)
``OUTLOOK_EMULATOR_RATE_AMBIGUOUS``        share whose write IS applied but whose connection is
                                           then dropped without a response
``OUTLOOK_EMULATOR_RATE_RESET``            share whose connection is dropped before anything is done
``OUTLOOK_EMULATOR_RATE_CONCURRENT_ITEM_SAVE``  share of event POSTs answered 503 ConcurrentItemSave
``OUTLOOK_EMULATOR_AMBIGUOUS_HOLD_MS``     how long an ambiguous request is held before the drop
``OUTLOOK_EMULATOR_RETRY_AFTER_S``         mean Retry-After of injected 429/503 (s, default 1.0)
``OUTLOOK_EMULATOR_FAULT_METHODS``         comma list of HTTP methods that faults apply to (all)
``OUTLOOK_EMULATOR_SEED``                  RNG seed for faults and latency (repeatable runs)
``OUTLOOK_EMULATOR_WINDOW_SECONDS``        throttling window per app+mailbox (default 600)
``OUTLOOK_EMULATOR_WINDOW_REQUESTS``       requests allowed per window (default 10000)
``OUTLOOK_EMULATOR_CONCURRENCY``           concurrent requests per app+mailbox (default 4)
``OUTLOOK_EMULATOR_TOKEN_LIFETIME``        access-token lifetime in seconds (default 3600)
``OUTLOOK_EMULATOR_TOKEN_FORMAT``          ``jwt`` (default) or ``opaque``: access tokens that are
                                           not JWTs, as Microsoft may issue (clients must not read them)
``OUTLOOK_EMULATOR_REQUEST_LOG_SIZE``      entries kept in the admin request log (default 10000)
``OUTLOOK_EMULATOR_RBAC_CACHE_IDLE_SECONDS``  Exchange's cache of an app's RBAC for Applications grants
                                           is renewed after the app was idle this long (default 1800)
``OUTLOOK_EMULATOR_RBAC_CACHE_MAX_SECONDS``   ... and when it is this old (default 7200); 0 and 0:
                                           changes apply at once (kinder than Exchange: tests only)
``OUTLOOK_EMULATOR_CSDL``                  another copy of Microsoft's ``v1.0-Prod.csdl`` (plain
                                           or .gz; default: the copy inside the package)
=========================================  =======================================================
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "OUTLOOK_EMULATOR_"
DISTRIBUTIONS = ("uniform", "normal")
TOKEN_FORMATS = ("jwt", "opaque")


class OptionError(ValueError):
    """A malformed option; the message names the option."""


@dataclass
class FaultOptions:
    """What goes wrong, and how often (rates are shares between 0 and 1)."""

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    latency_distribution: str = "uniform"
    rate_503: float = 0.0
    rate_429: float = 0.0
    rate_ambiguous: float = 0.0
    rate_reset: float = 0.0
    rate_concurrent_item_save: float = 0.0
    ambiguous_hold_ms: float = 0.0
    retry_after_s: float = 1.0
    methods: list[str] | None = None
    seed: int | None = None


@dataclass
class LimitOptions:
    """Graph's service limits, scaled to taste for tests."""

    window_seconds: float = 600.0
    window_requests: int = 10_000
    concurrency: int = 4
    token_lifetime: int = 3600
    token_format: str = "jwt"
    request_log_size: int = 10_000
    rbac_cache_idle_seconds: float = 1800.0  # application-rbac: "reset after 30 minutes" without calls
    rbac_cache_max_seconds: float = 7200.0  # "kept alive for up to 2 hours" while the app is active


@dataclass
class Options:
    """Everything that `create_app` needs besides the CSDL."""

    faults: FaultOptions = field(default_factory=FaultOptions)
    limits: LimitOptions = field(default_factory=LimitOptions)
    csdl_path: str | None = None


_RATES = ("rate_503", "rate_429", "rate_ambiguous", "rate_reset", "rate_concurrent_item_save")


def _coerce(name: str, kind: Any, raw: Any) -> Any:
    """Convert one value to the field's type, naming the option on failure."""
    try:
        if kind in ("float", float):
            value: Any = float(raw)
            if value < 0:
                raise ValueError("must not be negative")
        elif kind in ("int", int):
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError("must be an integer")
            value = int(raw)
            if value < 0:
                raise ValueError("must not be negative")
        elif kind in ("int | None",):
            value = None if raw in (None, "") else int(raw)
        elif kind in ("list[str] | None",):
            if raw in (None, ""):
                value = None
            elif isinstance(raw, str):
                value = [m.strip().upper() for m in raw.split(",") if m.strip()]
            elif isinstance(raw, list) and all(isinstance(m, str) for m in raw):
                value = [m.upper() for m in raw]
            else:
                raise ValueError("must be a list of HTTP methods")
        else:
            value = str(raw)
    except (TypeError, ValueError) as exc:
        raise OptionError(f"{name}: invalid value {raw!r} ({exc})") from exc
    if name.endswith(tuple(_RATES)) and not 0 <= value <= 1:
        raise OptionError(f"{name}: a rate must be between 0 and 1, got {raw!r}")
    if name.endswith("latency_distribution") and value not in DISTRIBUTIONS:
        raise OptionError(f"{name}: must be one of {', '.join(DISTRIBUTIONS)}, got {raw!r}")
    if name.endswith("token_format") and value not in TOKEN_FORMATS:
        raise OptionError(f"{name}: must be one of {', '.join(TOKEN_FORMATS)}, got {raw!r}")
    return value


def update_dataclass(obj: Any, changes: Mapping[str, Any], *, label: str = "") -> None:
    """Apply ``changes`` to a FaultOptions/LimitOptions, refusing unknown or malformed keys."""
    fields = {f.name: f for f in dataclasses.fields(obj)}
    for key, raw in changes.items():
        if key not in fields:
            raise OptionError(f"{label}{key}: unknown option (known: {', '.join(fields)})")
        setattr(obj, key, _coerce(f"{label}{key}", fields[key].type, raw))
    total = sum(getattr(obj, r, 0.0) for r in _RATES if r != "rate_concurrent_item_save")
    if total > 1:
        raise OptionError(f"{label}rates: the fault rates add up to {total}, more than 1")


def options_from_env(environ: Mapping[str, str] | None = None) -> Options:
    """Build Options from ``OUTLOOK_EMULATOR_*`` variables."""
    env = os.environ if environ is None else environ
    options = Options()
    for target in (options.faults, options.limits):
        changes = {}
        for f in dataclasses.fields(target):
            var = ENV_PREFIX + ("FAULT_METHODS" if f.name == "methods" else f.name.upper())
            if env.get(var, "") != "":
                changes[f.name] = env[var]
        try:
            update_dataclass(target, changes)
        except OptionError as exc:
            key = str(exc).split(":", 1)[0]
            var = ENV_PREFIX + ("FAULT_METHODS" if key == "methods" else key.upper())
            raise OptionError(f"{var}: {str(exc).split(':', 1)[1].strip()}") from exc
    options.csdl_path = env.get(ENV_PREFIX + "CSDL") or None
    return options


def as_dict(obj: Any) -> dict[str, Any]:
    """JSON-ready view of an options dataclass."""
    return dataclasses.asdict(obj)
