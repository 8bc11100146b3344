"""Plan which locations serve an order: one location that has everything, else the fewest locations."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


@dataclass(frozen=True, order=True)
class Take:
    location: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Short:
    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class Plan:
    """Either takes covering every SKU, or the SKUs that fall short (then nothing is taken)."""

    takes: list[Take]
    short: list[Short]


def demand(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Quantity per SKU, summed over all the order's lines."""
    total: dict[str, int] = defaultdict(int)
    for sku, quantity in lines:
        total[sku] += quantity
    return dict(total)


def plan(wanted: Mapping[str, int], available: Mapping[tuple[str, str], int]) -> Plan:
    """Takes that cover every SKU, or the short SKUs when the whole order cannot be covered.

    `available` maps (location, sku) to units free there. Prefer one location that can ship the whole
    order; otherwise take, SKU by SKU, from the locations that cover most first (fewest locations).
    Ties go to the location code, so two planners decide alike.
    """
    per_sku: dict[str, int] = defaultdict(int)
    for (_, sku), units in available.items():
        per_sku[sku] += max(units, 0)
    short = [
        Short(sku, need, per_sku.get(sku, 0))
        for sku, need in sorted(wanted.items())
        if per_sku.get(sku, 0) < need
    ]
    if short:
        return Plan([], short)
    locations = sorted({location for location, _ in available})
    whole = [
        loc for loc in locations if all(available.get((loc, sku), 0) >= need for sku, need in wanted.items())
    ]
    if whole:
        return Plan(sorted(Take(whole[0], sku, need) for sku, need in wanted.items()), [])
    return Plan(sorted(_split(wanted, available, locations)), [])


def _split(
    wanted: Mapping[str, int], available: Mapping[tuple[str, str], int], locations: list[str]
) -> list[Take]:
    remaining = dict(wanted)
    takes: list[Take] = []
    while any(remaining.values()):
        # The location covering the most of what is still missing goes next.
        best = max(
            locations,
            key=lambda loc: (
                sum(min(available.get((loc, sku), 0), need) for sku, need in remaining.items()),
                loc,
            ),
        )
        taken = [(sku, min(available.get((best, sku), 0), need)) for sku, need in remaining.items()]
        if not any(units > 0 for _, units in taken):
            raise ValueError("the stock counted for the plan does not cover the demand")  # guarded by plan()
        for sku, units in taken:
            if units > 0:
                takes.append(Take(best, sku, units))
                remaining[sku] -= units
        locations = [loc for loc in locations if loc != best]
    return takes
