"""A local stand-in for the Microsoft identity platform and Microsoft Graph calendars.

Nothing here reaches Microsoft. The product's bridge, demo, tests and benchmarks run against it,
so it is deliberately no kinder than Graph: same URLs, same error shapes and codes, same limits,
and injected faults. See ``emulator/README.md``.
"""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
