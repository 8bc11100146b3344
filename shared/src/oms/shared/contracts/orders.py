"""What the order service publishes and accepts: status changes, commands, and its internal events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from oms.shared.contracts.base import Contract, Id, NonNegativeMoney
from oms.shared.contracts.channel_orders import NonEmpty, OrderLine

_ORDER_IDS = uuid.UUID("4f6d7320-6f72-6465-7273-000000000001")


def order_id_for(channel: str, external_id: str) -> str:
    """The suite's id of a channel order: the same (channel, external id) always gives the same id."""
    return str(uuid.uuid5(_ORDER_IDS, f"{channel}:{external_id}"))


class StatusReason(Contract):
    """Why an order has its status: a reason code of DESIGN.md §2 and a message for people."""

    code: str
    message: str


class OrderStatusChanged(Contract):
    """`oms.order.status.v1`: every change of an order's status; `version` rises by one per change."""

    type: Literal["OrderStatusChanged"] = "OrderStatusChanged"
    order_id: str
    channel: str
    external_id: str
    status: str
    previous_status: str | None
    reason: StatusReason | None = None
    at: datetime
    version: int


class OrderCommand(Contract):
    """`oms.order.commands.v1`: an operator's request; `command_id` is the idempotency key."""

    command_id: NonEmpty
    type: Literal["ReleaseHold", "CancelOrder"]
    order_id: Id
    reason: str | None = None
    requested_by: NonEmpty


class PlacedLine(Contract):
    sku: str
    quantity: int = Field(ge=1)
    unit_price: NonNegativeMoney


class OrderPlaced(Contract):
    """`oms.order.events.v1`: a verified order whose stock the inventory service is to reserve."""

    type: Literal["OrderPlaced"] = "OrderPlaced"
    order_id: str
    channel: str
    external_id: str
    currency: str
    payment_status: str
    service_level: str
    country_code: str
    lines: list[PlacedLine]
    placed_at: datetime


class OrderCancelled(Contract):
    """`oms.order.events.v1`: the order was cancelled before dispatch; whatever was reserved is released."""

    type: Literal["OrderCancelled"] = "OrderCancelled"
    order_id: str
    reason: str
    at: datetime


class OrderConfirmed(Contract):
    """`oms.order.events.v1`: paid or authorized with its stock held; the hold no longer expires."""

    type: Literal["OrderConfirmed"] = "OrderConfirmed"
    order_id: str


class OrderBackordered(Contract):
    """`oms.order.events.v1`: the order waits for stock (its payment kept); reserve it when stock arrives."""

    type: Literal["OrderBackordered"] = "OrderBackordered"
    order_id: str
    lines: list[PlacedLine]
    payment_status: str


__all__ = [
    "OrderBackordered",
    "OrderCancelled",
    "OrderCommand",
    "OrderConfirmed",
    "OrderLine",
    "OrderPlaced",
    "OrderStatusChanged",
    "PlacedLine",
    "StatusReason",
]
