"""Order statuses (fixed names, DESIGN.md §2), reason codes, and the one table of allowed transitions."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.StrEnum):
    RECEIVED = "RECEIVED"
    ON_HOLD = "ON_HOLD"
    AWAITING_STOCK = "AWAITING_STOCK"
    CONFIRMED = "CONFIRMED"
    BACKORDERED = "BACKORDERED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    IN_FULFILMENT = "IN_FULFILMENT"
    PACKED = "PACKED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    RETURN_REQUESTED = "RETURN_REQUESTED"
    RETURNED = "RETURNED"
    REFUNDED = "REFUNDED"


class HoldReason(enum.StrEnum):
    PAYMENT_PENDING = "payment_pending"
    FRAUD_REVIEW = "fraud_review"
    TOTALS_MISMATCH = "totals_mismatch"
    UNKNOWN_SKU = "unknown_sku"
    ADDRESS_INVALID = "address_invalid"
    SHIPPING_EXCEPTION = "shipping_exception"


class RejectReason(enum.StrEnum):
    OUT_OF_STOCK = "out_of_stock"
    BACKORDER_EXPIRED = "backorder_expired"
    PAYMENT_EXPIRED = "payment_expired"


S = Status

# The authority on how an order may move (DESIGN.md §4). Anything not here is illegal: parked, never applied.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.AWAITING_STOCK, S.ON_HOLD, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.AWAITING_STOCK, S.CONFIRMED, S.IN_FULFILMENT, S.PACKED, S.REJECTED, S.CANCELLED}),
    S.AWAITING_STOCK: frozenset({S.CONFIRMED, S.ON_HOLD, S.BACKORDERED, S.REJECTED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.IN_FULFILMENT, S.BACKORDERED, S.ON_HOLD, S.CANCELLED}),
    S.BACKORDERED: frozenset({S.CONFIRMED, S.ON_HOLD, S.REJECTED, S.CANCELLED}),
    S.IN_FULFILMENT: frozenset({S.PACKED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PACKED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED, S.ON_HOLD}),
    S.SHIPPED: frozenset({S.DELIVERED, S.RETURN_REQUESTED}),
    S.DELIVERED: frozenset({S.RETURN_REQUESTED}),
    S.RETURN_REQUESTED: frozenset({S.RETURNED}),
    S.RETURNED: frozenset({S.REFUNDED}),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# Where a hold may lead depends on why it was taken: back to where it came from, or out of the order's
# life. (ON_HOLD's row above is the union of these.)
_VERIFICATION_EXITS = frozenset({S.AWAITING_STOCK, S.CANCELLED})
HOLD_EXITS: dict[HoldReason, frozenset[Status]] = {
    HoldReason.TOTALS_MISMATCH: _VERIFICATION_EXITS,
    HoldReason.UNKNOWN_SKU: _VERIFICATION_EXITS,
    HoldReason.ADDRESS_INVALID: _VERIFICATION_EXITS,
    HoldReason.FRAUD_REVIEW: _VERIFICATION_EXITS,
    HoldReason.PAYMENT_PENDING: frozenset({S.CONFIRMED, S.AWAITING_STOCK, S.REJECTED, S.CANCELLED}),
    HoldReason.SHIPPING_EXCEPTION: frozenset({S.IN_FULFILMENT, S.PACKED, S.CANCELLED}),
}

# Before dispatch an order can still be cancelled; from SHIPPED on it can only be returned.
CANCELLABLE = frozenset(status for status, targets in TRANSITIONS.items() if Status.CANCELLED in targets)
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


class Move(enum.Enum):
    APPLY = "apply"
    SAME = "same"  # already there: a redelivered event is harmless
    ILLEGAL = "illegal"  # not in the table: parked and logged, never applied


@dataclass(frozen=True)
class Decision:
    move: Move
    current: Status | None
    target: Status


def decide(
    current: Status | None, target: Status, *, same_reason: bool = True, hold: str | None = None
) -> Decision:
    """The one guard every status change goes through.

    A new order enters as RECEIVED. Moving to the status it has (with the same reason) is a no-op;
    ON_HOLD with a different reason is a real change (the hold's reason is part of the state). An
    order on hold leaves only for where its hold's reason allows (`HOLD_EXITS`).
    """
    allowed = TRANSITIONS[current] if current is not None else frozenset()
    if current is Status.ON_HOLD and hold is not None and hold in {reason.value for reason in HoldReason}:
        allowed = HOLD_EXITS[HoldReason(hold)]
    if current is None:
        move = Move.APPLY if target is Status.RECEIVED else Move.ILLEGAL
    elif current is target and same_reason:
        move = Move.SAME
    elif (current is target and target is Status.ON_HOLD) or target in allowed:
        move = Move.APPLY
    else:
        move = Move.ILLEGAL
    return Decision(move, current, target)
