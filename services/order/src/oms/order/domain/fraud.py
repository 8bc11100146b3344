"""Fraud rules, configured by the operator; any hit holds the order for review (`fraud_review`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from oms.order.domain.status import HoldReason
from oms.order.domain.verification import Hold

if TYPE_CHECKING:
    from decimal import Decimal

    from oms.shared.contracts.channel_orders import Address, ChannelOrder


@dataclass(frozen=True)
class FraudRules:
    """Thresholds per currency (an order in a currency without one is not checked for value)."""

    max_order_value: dict[str, Decimal] = field(default_factory=dict)
    hold_when_countries_differ: bool = True
    max_orders_per_email: int = 0  # 0 turns the velocity rule off
    max_orders_per_address: int = 0
    velocity_window_hours: int = 24
    blocked_emails: frozenset[str] = frozenset()
    blocked_postal_codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RecentOrders:
    """Orders seen in the velocity window, before this one."""

    same_email: int = 0
    same_address: int = 0


def normalise_email(email: str) -> str:
    return email.strip().lower()


def address_fingerprint(address: Address) -> str:
    """Same street, postal code and country -> same fingerprint, however it was typed."""
    parts = (address.line1, address.postal_code or "", address.country_code)
    return "|".join(" ".join(part.lower().split()) for part in parts)


def evaluate(order: ChannelOrder, rules: FraudRules, recent: RecentOrders) -> list[Hold]:
    hits: list[str] = []
    limit = rules.max_order_value.get(order.currency)
    if limit is not None and order.totals.total > limit:
        hits.append(f"order value {order.totals.total} {order.currency} is over {limit}")
    billing = order.billing_address
    if (
        rules.hold_when_countries_differ
        and billing
        and billing.country_code != order.shipping_address.country_code
    ):
        hits.append(f"ships to {order.shipping_address.country_code}, billed in {billing.country_code}")
    if rules.max_orders_per_email and recent.same_email >= rules.max_orders_per_email:
        hits.append(f"{recent.same_email + 1} orders from one e-mail in {rules.velocity_window_hours} h")
    if rules.max_orders_per_address and recent.same_address >= rules.max_orders_per_address:
        hits.append(f"{recent.same_address + 1} orders to one address in {rules.velocity_window_hours} h")
    if normalise_email(order.customer.email) in rules.blocked_emails:
        hits.append("the e-mail is on the block list")
    if (order.shipping_address.postal_code or "").strip().upper() in rules.blocked_postal_codes:
        hits.append("the shipping postal code is on the block list")
    return [Hold(HoldReason.FRAUD_REVIEW, hit) for hit in hits]
