"""Business checks of a well-formed channel order: totals, known SKUs, a deliverable address."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pycountry

from oms.order.domain.status import HoldReason

if TYPE_CHECKING:
    from collections.abc import Sequence

    from oms.shared.contracts.channel_orders import Address, ChannelOrder, OrderLine

# Countries whose addresses have no postal code (or where it is not used in practice); everywhere else
# a missing postal code makes the address undeliverable.
_NO_POSTAL_CODE_TEXT = """
    AE AG AO AW BF BI BJ BO BS BW BZ CD CF CG CI CK CM DJ DM ER FJ GA GD GH GM GQ GY HK IE JM KI KM KN KP
    LC ML MO MR MW NR NU QA RW SB SC SL SR SS ST SY TD TG TK TL TO TV UG VU YE ZW
"""
NO_POSTAL_CODE = frozenset(_NO_POSTAL_CODE_TEXT.split())


@dataclass(frozen=True)
class Hold:
    code: HoldReason
    message: str


@dataclass(frozen=True)
class ResolvedLine:
    """A line with the SKU it sells: its own, or the one the catalogue maps its channel ids to."""

    line: OrderLine
    sku: str | None


SkuLookup = Callable[[str, "OrderLine"], "str | None"]


def resolve_lines(order: ChannelOrder, lookup: SkuLookup) -> list[ResolvedLine]:
    return [
        ResolvedLine(line, (line.sku or "").strip() or lookup(order.channel, line)) for line in order.lines
    ]


def check_totals(order: ChannelOrder, tolerance: Decimal) -> list[Hold]:
    """Holds for totals that do not add up, each compared within the tolerance.

    subtotal = sum(unit price * quantity - line discount); total = subtotal + shipping + tax - discount;
    shipping = the shipping price; payment amount = total when paid or authorized.
    """
    totals = order.totals
    lines = sum((line.unit_price * line.quantity - (line.discount or 0) for line in order.lines), Decimal(0))
    expected = [
        ("subtotal", totals.subtotal, lines),
        ("total", totals.total, totals.subtotal + totals.shipping + totals.tax - totals.discount),
        ("shipping", totals.shipping, order.shipping.price),
    ]
    if order.payment.status in ("paid", "authorized"):
        expected.append(("payment amount", order.payment.amount, totals.total))
    return [
        Hold(HoldReason.TOTALS_MISMATCH, f"{name} is {stated} but the order adds up to {computed}")
        for name, stated, computed in expected
        if abs(stated - computed) > tolerance
    ]


def check_skus(lines: Sequence[ResolvedLine], known: Callable[[str], bool]) -> list[Hold]:
    holds = []
    for number, resolved in enumerate(lines, start=1):
        if resolved.sku is None:
            ids = f"product {resolved.line.channel_product_id}, variant {resolved.line.channel_variant_id}"
            holds.append(Hold(HoldReason.UNKNOWN_SKU, f"line {number} has no SKU and no listing maps {ids}"))
        elif not known(resolved.sku):
            holds.append(
                Hold(HoldReason.UNKNOWN_SKU, f"line {number}: SKU {resolved.sku} is not in the catalogue")
            )
    return holds


def check_address(address: Address) -> list[Hold]:
    country = pycountry.countries.get(alpha_2=address.country_code)
    if country is None:
        return [Hold(HoldReason.ADDRESS_INVALID, f"unknown country code {address.country_code}")]
    if not (address.postal_code or "").strip() and address.country_code not in NO_POSTAL_CODE:
        return [Hold(HoldReason.ADDRESS_INVALID, f"no postal code for an address in {country.name}")]
    return []
