"""Back-off delays for retries: exponential, capped, with jitter so instances do not retry in step."""

from __future__ import annotations

import random


def delay(attempt: int, *, base: float = 0.2, cap: float = 10.0) -> float:
    """Seconds to wait before try number `attempt + 1` (attempt counts from 1)."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 -- jitter, not security
