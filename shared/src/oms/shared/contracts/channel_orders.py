"""`oms.channel.orders.v1`: an order from a sales channel, new or updated (DESIGN.md §2, version 1)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from oms.shared.contracts.base import AwareDatetime, Contract, Id, NonNegativeMoney
from oms.shared.contracts.currencies import is_currency

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _known_currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


Currency = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True), AfterValidator(_known_currency)
]
CountryCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z]{2}$")]
ServiceLevel = Literal["standard", "express", "next_day"]
PaymentStatus = Literal["paid", "authorized", "pending"]


class Customer(Contract):
    email: NonEmpty
    name: NonEmpty
    phone: str | None = None


class Address(Contract):
    name: NonEmpty
    line1: NonEmpty
    line2: str | None = None
    city: NonEmpty
    region: str | None = None
    # May be empty in the message: whether the country needs one is a business check (a hold), not schema.
    postal_code: str | None = None
    country_code: CountryCode


class OrderLine(Contract):
    sku: str | None = None
    channel_product_id: Id | None = None
    channel_variant_id: Id | None = None
    quantity: int = Field(ge=1, strict=True)
    unit_price: NonNegativeMoney
    discount: NonNegativeMoney | None = None
    tax: NonNegativeMoney | None = None
    title: str | None = None


class Shipping(Contract):
    service_level: ServiceLevel
    price: NonNegativeMoney


class Totals(Contract):
    subtotal: NonNegativeMoney
    shipping: NonNegativeMoney
    tax: NonNegativeMoney
    discount: NonNegativeMoney
    total: NonNegativeMoney


class Payment(Contract):
    status: PaymentStatus
    method: str | None = None
    amount: NonNegativeMoney


class ChannelOrder(Contract):
    channel: NonEmpty
    external_id: Id
    updated_at: AwareDatetime | None = None
    placed_at: AwareDatetime
    currency: Currency
    customer: Customer
    shipping_address: Address
    billing_address: Address | None = None
    lines: list[OrderLine] = Field(min_length=1)
    shipping: Shipping
    totals: Totals
    payment: Payment
    cancelled: bool | None = None
    tags: list[str] | None = None
    note: str | None = None

    @property
    def key(self) -> str:
        """The topic key and idempotency key: `{channel}:{external_id}`."""
        return f"{self.channel}:{self.external_id}"
