"""Shared helper of the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def best_of(n: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Run ``fn`` n times; the best wall time in seconds and the last result."""
    best, result = float("inf"), None
    for _ in range(n):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result  # type: ignore[return-value]
