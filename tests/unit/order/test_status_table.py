"""The order's transition table, walked whole: every pair of statuses is either allowed or illegal."""

from __future__ import annotations

import itertools

import pytest

from oms.order.domain.status import (
    CANCELLABLE,
    FINAL,
    HOLD_EXITS,
    TRANSITIONS,
    HoldReason,
    Move,
    Status,
    decide,
)

S = Status
ALLOWED = {
    (S.RECEIVED, S.AWAITING_STOCK), (S.RECEIVED, S.ON_HOLD), (S.RECEIVED, S.CANCELLED),
    (S.ON_HOLD, S.AWAITING_STOCK), (S.ON_HOLD, S.CONFIRMED), (S.ON_HOLD, S.IN_FULFILMENT),
    (S.ON_HOLD, S.PACKED), (S.ON_HOLD, S.REJECTED), (S.ON_HOLD, S.CANCELLED),
    (S.AWAITING_STOCK, S.CONFIRMED), (S.AWAITING_STOCK, S.ON_HOLD), (S.AWAITING_STOCK, S.BACKORDERED),
    (S.AWAITING_STOCK, S.REJECTED), (S.AWAITING_STOCK, S.CANCELLED),
    (S.CONFIRMED, S.IN_FULFILMENT), (S.CONFIRMED, S.BACKORDERED), (S.CONFIRMED, S.ON_HOLD),
    (S.CONFIRMED, S.CANCELLED),
    (S.BACKORDERED, S.CONFIRMED), (S.BACKORDERED, S.ON_HOLD), (S.BACKORDERED, S.REJECTED),
    (S.BACKORDERED, S.CANCELLED),
    (S.IN_FULFILMENT, S.PACKED), (S.IN_FULFILMENT, S.PARTIALLY_SHIPPED), (S.IN_FULFILMENT, S.SHIPPED),
    (S.IN_FULFILMENT, S.ON_HOLD), (S.IN_FULFILMENT, S.CANCELLED),
    (S.PACKED, S.PARTIALLY_SHIPPED), (S.PACKED, S.SHIPPED), (S.PACKED, S.ON_HOLD), (S.PACKED, S.CANCELLED),
    (S.PARTIALLY_SHIPPED, S.SHIPPED), (S.PARTIALLY_SHIPPED, S.ON_HOLD),
    (S.SHIPPED, S.DELIVERED), (S.SHIPPED, S.RETURN_REQUESTED),
    (S.DELIVERED, S.RETURN_REQUESTED),
    (S.RETURN_REQUESTED, S.RETURNED),
    (S.RETURNED, S.REFUNDED),
}  # fmt: skip


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Status, Status)))
def test_every_move_is_allowed_exactly_when_the_table_says_so(current: Status, target: Status) -> None:
    decision = decide(current, target)

    if current is target:
        assert decision.move is Move.SAME
    elif (current, target) in ALLOWED:
        assert decision.move is Move.APPLY
    else:
        assert decision.move is Move.ILLEGAL


def test_the_code_table_is_the_table_written_out_here() -> None:
    in_code = {(current, target) for current, targets in TRANSITIONS.items() for target in targets}
    assert in_code == ALLOWED


def test_progress_is_never_undone() -> None:
    assert decide(S.DELIVERED, S.SHIPPED).move is Move.ILLEGAL
    assert decide(S.CONFIRMED, S.AWAITING_STOCK).move is Move.ILLEGAL
    assert decide(S.SHIPPED, S.CANCELLED).move is Move.ILLEGAL


def test_a_new_order_can_only_enter_as_received() -> None:
    assert decide(None, S.RECEIVED).move is Move.APPLY
    assert decide(None, S.CONFIRMED).move is Move.ILLEGAL


def test_a_hold_with_another_reason_is_a_change_and_with_the_same_reason_is_not() -> None:
    assert decide(S.ON_HOLD, S.ON_HOLD, same_reason=False).move is Move.APPLY
    assert decide(S.ON_HOLD, S.ON_HOLD, same_reason=True).move is Move.SAME


def test_orders_can_be_cancelled_until_dispatch_and_final_states_are_final() -> None:
    assert {S.SHIPPED, S.DELIVERED, S.PARTIALLY_SHIPPED}.isdisjoint(CANCELLABLE)
    assert {S.RECEIVED, S.ON_HOLD, S.AWAITING_STOCK, S.CONFIRMED, S.BACKORDERED, S.PACKED} <= CANCELLABLE
    assert {S.REJECTED, S.CANCELLED, S.REFUNDED} == FINAL


@pytest.mark.parametrize(("reason", "target"), list(itertools.product(HoldReason, Status)))
def test_an_order_leaves_a_hold_only_where_its_reason_allows(reason: HoldReason, target: Status) -> None:
    decision = decide(S.ON_HOLD, target, same_reason=False, hold=reason.value)

    if target is S.ON_HOLD or target in HOLD_EXITS[reason]:
        assert decision.move is Move.APPLY
    else:
        assert decision.move is Move.ILLEGAL
    assert HOLD_EXITS[reason] <= TRANSITIONS[S.ON_HOLD]


def test_a_shipping_exception_never_goes_back_to_confirmed_and_a_review_never_confirms() -> None:
    assert decide(S.ON_HOLD, S.CONFIRMED, hold="shipping_exception", same_reason=False).move is Move.ILLEGAL
    assert decide(S.ON_HOLD, S.CONFIRMED, hold="fraud_review", same_reason=False).move is Move.ILLEGAL
    assert decide(S.ON_HOLD, S.CONFIRMED, hold="payment_pending", same_reason=False).move is Move.APPLY
