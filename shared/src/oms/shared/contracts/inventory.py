"""Inventory contracts: adjustments in, stock levels and reservation outcomes out, payment requests."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from oms.shared.contracts.base import Contract, NonNegativeMoney
from oms.shared.contracts.channel_orders import NonEmpty

AdjustmentReason = Literal["received", "count", "damaged", "lost", "found", "returned"]


class StockAdjustment(Contract):
    """`oms.inventory.adjustments.v1`: exactly one of `delta` and `set`; `reference` is idempotency key."""

    reference: NonEmpty
    sku: NonEmpty
    location: str | None = None
    bin: str | None = None
    delta: int | None = Field(None, strict=True)
    set_to: int | None = Field(None, alias="set", ge=0, strict=True)
    reason: AdjustmentReason

    @model_validator(mode="after")
    def _one_of_delta_or_set(self) -> StockAdjustment:
        if (self.delta is None) == (self.set_to is None):
            raise ValueError("exactly one of delta and set is required")
        return self


class Allocation(Contract):
    location: str
    sku: str
    quantity: int = Field(ge=1)


class StockReserved(Contract):
    """`oms.inventory.events.v1`: every line of the order is reserved, at these locations."""

    type: Literal["StockReserved"] = "StockReserved"
    order_id: str
    allocations: list[Allocation]


class ShortLine(Contract):
    sku: str
    requested: int
    available: int


class StockReservationFailed(Contract):
    """`oms.inventory.events.v1`: not enough stock for some line; nothing stays reserved."""

    type: Literal["StockReservationFailed"] = "StockReservationFailed"
    order_id: str
    short: list[ShortLine]
    # True when inventory already keeps the order on its waiting list (a stock count took its units).
    waitlisted: bool = False


class StockReleased(Contract):
    """`oms.inventory.events.v1`: the order's reservation was released (cancellation, expiry)."""

    type: Literal["StockReleased"] = "StockReleased"
    order_id: str
    reason: str


class LocationLevel(Contract):
    location: str
    on_hand: int
    reserved: int
    available: int


class StockLevelChanged(Contract):
    """`oms.stock.levels.v1` (compacted by SKU): `version` rises per SKU; `available` is never negative."""

    type: Literal["StockLevelChanged"] = "StockLevelChanged"
    sku: str
    on_hand: int
    reserved: int
    available: int = Field(ge=0)
    locations: list[LocationLevel]
    version: int
    at: datetime


class ReorderSuggested(Contract):
    """`oms.inventory.reorder.v1`: available fell to the reorder point; buy about `suggested_quantity`."""

    type: Literal["ReorderSuggested"] = "ReorderSuggested"
    sku: str
    location: str
    available: int
    reorder_point: int
    suggested_quantity: int
    at: datetime


class PaymentLine(Contract):
    sku: str
    quantity: int
    unit_price: NonNegativeMoney


class PaymentRequested(Contract):
    """`oms.payments.v1`: capture, refund or void; `request_id` is the payment system's idempotency key."""

    type: Literal["CaptureRequested", "RefundRequested", "VoidRequested"]
    request_id: str
    order_id: str
    amount: NonNegativeMoney
    currency: str
    reason: str
    lines: list[PaymentLine]
