"""``python -m emulator``: run the Outlook emulator (flags override OUTLOOK_EMULATOR_* variables)."""

from __future__ import annotations

import argparse
import sys

from .config import OptionError, options_from_env, update_dataclass
from .csdl import CsdlMissing
from .server import serve

_FAULT_FLAGS = {
    "latency_ms": float,
    "latency_jitter_ms": float,
    "latency_distribution": str,
    "rate_503": float,
    "rate_429": float,
    "rate_ambiguous": float,
    "rate_reset": float,
    "rate_concurrent_item_save": float,
    "ambiguous_hold_ms": float,
    "retry_after_s": float,
    "fault_methods": str,
    "seed": int,
}
_LIMIT_FLAGS = {"window_seconds": float, "window_requests": int, "concurrency": int, "token_lifetime": int,
                "token_format": str, "rbac_cache_idle_seconds": float, "rbac_cache_max_seconds": float}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (printed at start)")
    p.add_argument("--cert-dir", default=None, help="where the CA and server certificate go (reused if valid)")
    p.add_argument(
        "--csdl", default=None, help="another copy of Microsoft's v1.0-Prod.csdl, plain or .gz "
        "(default: $OUTLOOK_EMULATOR_CSDL, else the copy inside the package)"
    )
    for name, kind in {**_FAULT_FLAGS, **_LIMIT_FLAGS}.items():
        variable = "OUTLOOK_EMULATOR_" + name.upper()
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, default=None,
                       help=f"overrides ${variable} (emulator/README.md, fault injection and throttling)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        options = options_from_env()
        faults = {k: getattr(args, k) for k in _FAULT_FLAGS if getattr(args, k) is not None}
        if "fault_methods" in faults:
            faults["methods"] = faults.pop("fault_methods")
        update_dataclass(options.faults, faults, label="--")
        limits = {k: getattr(args, k) for k in _LIMIT_FLAGS if getattr(args, k) is not None}
        update_dataclass(options.limits, limits, label="--")
        if args.csdl:
            options.csdl_path = args.csdl
        serve(args.host, args.port, args.cert_dir, options=options)
    except (OptionError, CsdlMissing, FileNotFoundError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
