"""How long to wait before trying again: exponential backoff with equal jitter."""
from __future__ import annotations

import random


def backoff(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before try ``attempt + 1``: exponential backoff with *equal* jitter, uniform in
    [c/2, c] where c = min(cap, base·2ⁿ) — never less than half the exponential step, so waits still
    grow with each attempt while concurrent clients spread out. ``rng`` makes it repeatable in tests.
    (AWS Architecture Blog, "Exponential Backoff And Jitter": "equal jitter".)"""
    ceiling = min(cap, base * 2**attempt)
    return (rng or random).uniform(ceiling / 2, ceiling)
