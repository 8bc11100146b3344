"""Use cases of the order service; each runs inside the transaction of the batch that brought it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from oms.order import repository as repo
from oms.order.domain import fraud, verification
from oms.order.domain.status import CANCELLABLE, HoldReason, Move, Status, decide
from oms.order.repository import OrderRow
from oms.shared.contracts.inventory import (
    PaymentLine,
    PaymentRequested,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from oms.shared.contracts.orders import (
    OrderBackordered,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderStatusChanged,
    PlacedLine,
    StatusReason,
    order_id_for,
)
from oms.shared.contracts.topics import ORDER_STATUS, PAYMENTS, internal
from oms.shared.logging import get_logger, message_context

if TYPE_CHECKING:
    from collections.abc import Sequence
    from decimal import Decimal

    from oms.order.domain.fraud import FraudRules
    from oms.shared.contracts.catalog import Product
    from oms.shared.contracts.channel_orders import ChannelOrder, OrderLine
    from oms.shared.contracts.envelope import Envelope
    from oms.shared.contracts.orders import OrderCommand
    from oms.shared.messaging.records import Incoming
    from oms.shared.messaging.timers import Timer
    from oms.shared.messaging.unit_of_work import UnitOfWork

log = get_logger(__name__)

ORDER_EVENTS = internal("order")
PAYMENT_EXPIRY = "payment-expiry"
BACKORDER_EXPIRY = "backorder-expiry"
# When several checks fail, the hold names the one an operator should look at first.
_HOLD_PRIORITY = [
    HoldReason.UNKNOWN_SKU,
    HoldReason.TOTALS_MISMATCH,
    HoldReason.ADDRESS_INVALID,
    HoldReason.FRAUD_REVIEW,
]


# Holds an operator's review clears: the order is then placed. Others end by their own events.
_REVIEWABLE = frozenset(reason.value for reason in _HOLD_PRIORITY)


@dataclass(frozen=True)
class SagaPolicy:
    """How long orders wait: for a payment, and (per channel that allows it) for stock."""

    payment_wait_hours: int = 72
    backorder_hours: dict[str, int] = field(default_factory=dict)
    stock_count_backorder_hours: int = 336


class Orders:
    def __init__(self, *, rules: FraudRules, tolerance: Decimal, policy: SagaPolicy | None = None) -> None:
        self.rules = rules
        self.tolerance = tolerance
        self.policy = policy or SagaPolicy()

    # ------------------------------------------------------------------ intake
    async def take_channel_orders(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        for message in messages:
            with message_context(message.envelope):
                await self.take(uow, message.event, message.envelope)

    async def take(self, uow: UnitOfWork, order: ChannelOrder, cause: Envelope) -> OrderRow:
        """A new order is received and verified; a resend is applied only when newer, never twice."""
        now = uow.clock.now()
        order_id = order_id_for(order.channel, order.external_id)
        values = _stored_values(order)
        if await repo.insert_order(uow.conn, {**values, "order_id": order_id, "at": now}):
            row = OrderRow(
                order_id,
                order.channel,
                order.external_id,
                Status.RECEIVED,
                None,
                1,
                order.updated_at,
                order.payment.status,
            )
            await self._record(uow, row, None, None, cause)
            if order.cancelled:
                return await self.cancel(uow, row, "the channel cancelled the order", cause)
            return await self._verify_and_place(uow, row, order, cause)
        stored = await repo.lock_by_key(uow.conn, order.channel, order.external_id)
        if stored is None:  # deleted between the conflict and the lock: nothing sensible to apply
            raise LookupError(f"order {order.channel}:{order.external_id} vanished during intake")
        if not _is_newer(order.updated_at, stored.source_updated_at):
            log.info("older or repeated channel order ignored", order_id=stored.order_id)
            return stored
        await repo.replace_data(uow.conn, stored.order_id, values)
        log.info("newer channel order applied", order_id=stored.order_id)
        updated = dataclasses.replace(stored, payment_status=order.payment.status)
        if order.cancelled:
            return await self.cancel(uow, updated, "the channel cancelled the order", cause)
        return await self.note_payment(uow, stored, order, cause)

    async def _verify_and_place(
        self, uow: UnitOfWork, row: OrderRow, order: ChannelOrder, cause: Envelope
    ) -> OrderRow:
        lines = await self._resolve(uow, order)
        known = await repo.active_skus(uow.conn, [line.sku for line in lines if line.sku])
        holds = (
            verification.check_skus(lines, known.__contains__)
            + verification.check_totals(order, self.tolerance)
            + verification.check_address(order.shipping_address)
        )
        if not holds:
            since = order.placed_at - timedelta(hours=self.rules.velocity_window_hours)
            recent = await repo.recent_orders(
                uow.conn,
                _email_key(order),
                fraud.address_fingerprint(order.shipping_address),
                since,
                row.order_id,
            )
            holds = fraud.evaluate(order, self.rules, recent)
        if holds:
            code = min((hold.code for hold in holds), key=_HOLD_PRIORITY.index)
            message = "; ".join(hold.message for hold in holds if hold.code == code)
            return await self.change_status(uow, row, Status.ON_HOLD, (code.value, message), cause)
        return await self._place(uow, row, order, lines, cause)

    async def _place(
        self,
        uow: UnitOfWork,
        row: OrderRow,
        order: ChannelOrder,
        lines: list[verification.ResolvedLine],
        cause: Envelope | None,
    ) -> OrderRow:
        """Verified: the order waits for stock, and the inventory service is asked to reserve it."""
        skus = [(line.sku or "", line.line.quantity, line.line.unit_price) for line in lines]
        await repo.replace_lines(uow.conn, row.order_id, skus)
        placed = await self.change_status(uow, row, Status.AWAITING_STOCK, None, cause)
        if placed.status is Status.AWAITING_STOCK and placed.version != row.version:
            event = OrderPlaced(
                order_id=row.order_id,
                channel=order.channel,
                external_id=order.external_id,
                currency=order.currency,
                payment_status=order.payment.status,
                service_level=order.shipping.service_level,
                country_code=order.shipping_address.country_code,
                lines=[
                    PlacedLine(sku=sku, quantity=quantity, unit_price=price) for sku, quantity, price in skus
                ],
                placed_at=order.placed_at,
            )
            uow.publish(ORDER_EVENTS, event, key=row.order_id, cause=cause, order_id=row.order_id)
        return placed

    async def _resolve(self, uow: UnitOfWork, order: ChannelOrder) -> list[verification.ResolvedLine]:
        listed = (
            await repo.listings(uow.conn, order.channel) if any(not line.sku for line in order.lines) else {}
        )

        def lookup(_: str, line: OrderLine) -> str | None:
            product, variant = line.channel_product_id or "", line.channel_variant_id or ""
            return listed.get((product, variant)) or listed.get((product, "")) or listed.get(("", variant))

        return verification.resolve_lines(order, lookup)

    # ------------------------------------------------------------------ operator and channel requests
    async def release(self, uow: UnitOfWork, row: OrderRow, cause: Envelope | None) -> tuple[OrderRow, str]:
        """An operator reviewed a held order: it is placed (an unknown SKU needs a catalogue fix first)."""
        if row.status is not Status.ON_HOLD:
            return row, f"not on hold ({row.status})"
        if row.reason_code not in _REVIEWABLE:
            return row, f"held for {row.reason_code}, which a review does not clear"
        order = await _stored_order(uow, row.order_id)
        lines = await self._resolve(uow, order)
        known = await repo.active_skus(uow.conn, [line.sku for line in lines if line.sku])
        if unknown := verification.check_skus(lines, known.__contains__):
            return row, "; ".join(hold.message for hold in unknown)
        return await self._place(uow, row, order, lines, cause), "released"

    async def cancel(self, uow: UnitOfWork, row: OrderRow, why: str, cause: Envelope | None) -> OrderRow:
        if row.status not in CANCELLABLE:
            log.info(
                "cancellation refused: already dispatched or final", order_id=row.order_id, status=row.status
            )
            return row
        cancelled = await self.change_status(uow, row, Status.CANCELLED, ("cancelled", why), cause)
        if cancelled.version != row.version:
            await uow.cancel_timer(PAYMENT_EXPIRY, row.order_id)
            await uow.cancel_timer(BACKORDER_EXPIRY, row.order_id)
            await self._return_payment(uow, row, "cancelled", cause)
            event = OrderCancelled(order_id=row.order_id, reason=why, at=uow.clock.now())
            uow.publish(ORDER_EVENTS, event, key=row.order_id, cause=cause, order_id=row.order_id)
        return cancelled

    async def run_commands(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        for message in messages:
            with message_context(message.envelope):
                await self.run_command(uow, message.event, message.envelope)

    async def run_command(self, uow: UnitOfWork, command: OrderCommand, cause: Envelope) -> str:
        """Act on an operator command once per `command_id`; returns its outcome."""
        at = uow.clock.now()
        if not await repo.record_command(uow.conn, {**command.model_dump(), "at": at}):
            return "duplicate"
        row = await repo.lock(uow.conn, command.order_id)
        if row is None:
            outcome = "unknown order"
        elif command.type == "ReleaseHold":
            _, outcome = await self.release(uow, row, cause)
        else:
            why = command.reason or f"cancelled by {command.requested_by}"
            after = await self.cancel(uow, row, why, cause)
            outcome = "cancelled" if after.status is Status.CANCELLED else f"not cancellable ({row.status})"
        await repo.set_command_outcome(uow.conn, command.command_id, outcome)
        log.info("command handled", command=command.type, outcome=outcome, requested_by=command.requested_by)
        return outcome

    # ------------------------------------------------------------------ the reservation saga
    async def take_inventory_events(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        for message in messages:
            event, cause = message.event, message.envelope
            with message_context(cause):
                row = await repo.lock(uow.conn, event.order_id)
                if row is None:
                    log.warning("inventory event for an order this service does not know", type=event.type)
                    continue
                if isinstance(event, StockReserved):
                    await self.note_stock_reserved(uow, row, cause)
                elif isinstance(event, StockReservationFailed):
                    await self.note_reservation_failed(uow, row, event, cause)
                elif isinstance(event, StockReleased) and event.reason == "expired":
                    await repo.set_stock_held(
                        uow.conn, row.order_id, held=False
                    )  # still on hold, now without stock

    async def note_stock_reserved(self, uow: UnitOfWork, row: OrderRow, cause: Envelope) -> OrderRow:
        """Stock is held: a paid or authorized order is confirmed; an unpaid one waits for its payment."""
        if row.status in (Status.CANCELLED, Status.REJECTED):
            return row  # ended meanwhile: its OrderCancelled, queued after the placement, releases the stock
        await repo.set_stock_held(uow.conn, row.order_id, held=True)
        if row.payment_status in ("paid", "authorized"):
            return await self._confirm(uow, row, cause)
        if row.status is not Status.ON_HOLD:
            due = uow.clock.now() + timedelta(hours=self.policy.payment_wait_hours)
            await uow.schedule(PAYMENT_EXPIRY, row.order_id, due)
        hold = (HoldReason.PAYMENT_PENDING.value, "stock is reserved; waiting for the payment")
        return await self.change_status(uow, row, Status.ON_HOLD, hold, cause)

    async def _confirm(self, uow: UnitOfWork, row: OrderRow, cause: Envelope | None) -> OrderRow:
        confirmed = await self.change_status(uow, row, Status.CONFIRMED, None, cause)
        if confirmed.version != row.version:
            await uow.cancel_timer(PAYMENT_EXPIRY, row.order_id)
            await uow.cancel_timer(BACKORDER_EXPIRY, row.order_id)
            event = OrderConfirmed(order_id=row.order_id)
            uow.publish(ORDER_EVENTS, event, key=row.order_id, cause=cause, order_id=row.order_id)
        return confirmed

    async def note_reservation_failed(
        self, uow: UnitOfWork, row: OrderRow, failure: StockReservationFailed, cause: Envelope
    ) -> OrderRow:
        """Not enough stock: backordered, or rejected with the money refunded or voided.

        Backordered where the channel waits for stock, or when a stock count took the units of a
        confirmed order; otherwise rejected, money taken or authorized refunded or voided.
        """
        short = "; ".join(
            f"{line.sku}: {line.requested} wanted, {line.available} available" for line in failure.short
        )
        await repo.set_stock_held(uow.conn, row.order_id, held=False)
        wait = self.policy.backorder_hours.get(row.channel)
        if failure.waitlisted:
            wait = self.policy.stock_count_backorder_hours
        if wait is not None and row.status in (Status.AWAITING_STOCK, Status.CONFIRMED):
            backordered = await self.change_status(
                uow, row, Status.BACKORDERED, ("backordered", short), cause
            )
            if backordered.version != row.version:
                await uow.schedule(BACKORDER_EXPIRY, row.order_id, uow.clock.now() + timedelta(hours=wait))
                if not failure.waitlisted:
                    lines = [
                        PlacedLine(sku=sku, quantity=qty, unit_price=price)
                        for sku, qty, price in await repo.placed_lines(uow.conn, row.order_id)
                    ]
                    event = OrderBackordered(
                        order_id=row.order_id, lines=lines, payment_status=row.payment_status
                    )
                    uow.publish(ORDER_EVENTS, event, key=row.order_id, cause=cause, order_id=row.order_id)
            return backordered
        rejected = await self.change_status(uow, row, Status.REJECTED, ("out_of_stock", short), cause)
        if rejected.version != row.version:
            await self._return_payment(uow, row, "out_of_stock", cause)
            await uow.cancel_timer(PAYMENT_EXPIRY, row.order_id)
            # Inventory may keep it waiting (a count displaced it) or hold stock: it lets go of both.
            ended = OrderCancelled(order_id=row.order_id, reason="out_of_stock", at=uow.clock.now())
            uow.publish(ORDER_EVENTS, ended, key=row.order_id, cause=cause, order_id=row.order_id)
        return rejected

    async def note_payment(
        self, uow: UnitOfWork, row: OrderRow, order: ChannelOrder, cause: Envelope
    ) -> OrderRow:
        """A resend says the money arrived: confirmed, or reserved again if its hold expired.

        With stock still held the order is confirmed; after the hold expired the reservation runs
        again, and only stock that is free now can confirm it.
        """
        newly_paid = order.payment.status in ("paid", "authorized") and row.payment_status not in (
            "paid",
            "authorized",
        )
        if not newly_paid:
            return row
        paid = dataclasses.replace(row, payment_status=order.payment.status)
        if row.status in (Status.REJECTED, Status.CANCELLED):
            await self._return_payment(uow, paid, "late_payment", cause)  # money for an order that ended
            return row
        if row.status is not Status.ON_HOLD or row.reason_code != HoldReason.PAYMENT_PENDING:
            return row
        await uow.cancel_timer(PAYMENT_EXPIRY, row.order_id)
        if row.stock_held:
            return await self._confirm(uow, paid, cause)
        return await self._place(uow, paid, order, await self._resolve(uow, order), cause)

    async def expire_payment(self, uow: UnitOfWork, timer: Timer) -> None:
        """The channel's longest wait for payment has passed: rejected, and any stock still held released."""
        row = await repo.lock(uow.conn, timer.key)
        if row is None or row.status is not Status.ON_HOLD or row.reason_code != HoldReason.PAYMENT_PENDING:
            return
        message = f"no payment within {self.policy.payment_wait_hours} h"
        rejected = await self.change_status(uow, row, Status.REJECTED, ("payment_expired", message), None)
        if rejected.version != row.version:
            event = OrderCancelled(order_id=row.order_id, reason="payment_expired", at=uow.clock.now())
            uow.publish(ORDER_EVENTS, event, key=row.order_id, order_id=row.order_id)

    async def expire_backorder(self, uow: UnitOfWork, timer: Timer) -> None:
        """The wait for stock exceeded the channel's limit: rejected, refunded or voided, off the list."""
        row = await repo.lock(uow.conn, timer.key)
        if row is None or row.status is not Status.BACKORDERED:
            return
        rejected = await self.change_status(
            uow, row, Status.REJECTED, ("backorder_expired", "no stock arrived in time"), None
        )
        if rejected.version != row.version:
            await self._return_payment(uow, row, "backorder_expired", None)
            event = OrderCancelled(order_id=row.order_id, reason="backorder_expired", at=uow.clock.now())
            uow.publish(ORDER_EVENTS, event, key=row.order_id, order_id=row.order_id)

    async def _return_payment(
        self, uow: UnitOfWork, row: OrderRow, reason: str, cause: Envelope | None
    ) -> None:
        """RefundRequested for money taken, VoidRequested for an authorization; nothing when unpaid."""
        kinds: dict[str, Literal["RefundRequested", "VoidRequested"]] = {
            "paid": "RefundRequested",
            "authorized": "VoidRequested",
        }
        kind = kinds.get(row.payment_status)
        if kind is None:
            return
        facts = await repo.payment_facts(uow.conn, row.order_id)
        request = PaymentRequested(
            type=kind,
            request_id=f"{row.order_id}:{kind}:{reason}",  # the same failure never asks twice
            order_id=row.order_id,
            amount=facts["total"],
            currency=facts["currency"],
            reason=reason,
            lines=[
                PaymentLine(sku=sku, quantity=quantity, unit_price=price)
                for sku, quantity, price in facts["lines"]
            ],
        )
        if await repo.record_payment_request(uow.conn, request.model_dump() | {"at": uow.clock.now()}):
            uow.publish(PAYMENTS, request, key=row.order_id, cause=cause, order_id=row.order_id)

    # ------------------------------------------------------------------ catalogue projection
    async def take_products(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        for message in messages:
            product: Product = message.event
            listings = [
                (listing.channel, listing.product_id or "", listing.variant_id or "")
                for listing in product.channel_listings or []
            ]
            row = {
                "sku": product.sku,
                "title": product.title,
                "active": product.active,
                "at": uow.clock.now(),
            }
            await repo.upsert_product(uow.conn, row, listings)

    # ------------------------------------------------------------------ the one guard
    async def change_status(
        self,
        uow: UnitOfWork,
        row: OrderRow,
        target: Status,
        reason: tuple[str, str] | None,
        cause: Envelope | None,
    ) -> OrderRow:
        """Every status change goes through here: the table decides, the timeline and the topic record it."""
        same_reason = row.reason_code == (reason[0] if reason else None)
        decision = decide(row.status, target, same_reason=same_reason, hold=row.reason_code)
        if decision.move is Move.SAME:
            return row
        at = uow.clock.now()
        if decision.move is Move.ILLEGAL:
            await repo.park(
                uow.conn,
                row.order_id,
                row.status,
                target,
                reason[0] if reason else "no reason",
                cause_event_id=cause.event_id if cause else None,
                at=at,
            )
            log.warning("illegal transition parked", order_id=row.order_id, current=row.status, target=target)
            return row
        version = await repo.set_status(uow.conn, row, target, reason, at)
        changed = dataclasses.replace(
            row, status=target, version=version, reason_code=reason[0] if reason else None
        )
        await self._record(uow, changed, row.status, reason, cause)
        return changed

    async def _record(
        self,
        uow: UnitOfWork,
        row: OrderRow,
        previous: Status | None,
        reason: tuple[str, str] | None,
        cause: Envelope | None,
    ) -> None:
        at = uow.clock.now()
        await repo.add_timeline(
            uow.conn,
            {
                "order_id": row.order_id,
                "version": row.version,
                "status": row.status.value,
                "previous_status": previous.value if previous else None,
                "reason_code": reason[0] if reason else None,
                "reason_message": reason[1] if reason else None,
                "at": at,
                "cause_event_id": cause.event_id if cause else None,
                "correlation_id": cause.correlation_id if cause else None,
            },
        )
        event = OrderStatusChanged(
            order_id=row.order_id,
            channel=row.channel,
            external_id=row.external_id,
            status=row.status.value,
            previous_status=previous.value if previous else None,
            reason=StatusReason(code=reason[0], message=reason[1]) if reason else None,
            at=at,
            version=row.version,
        )
        uow.publish(ORDER_STATUS, event, key=row.order_id, cause=cause, order_id=row.order_id)


def _email_key(order: ChannelOrder) -> str:
    return fraud.normalise_email(order.customer.email)


def _stored_values(order: ChannelOrder) -> dict[str, Any]:
    return {
        "channel": order.channel,
        "external_id": order.external_id,
        "source_updated_at": order.updated_at,
        "placed_at": order.placed_at,
        "currency": order.currency,
        "total": order.totals.total,
        "payment_status": order.payment.status,
        "email_key": _email_key(order),
        "address_key": fraud.address_fingerprint(order.shipping_address),
        "data": order.model_dump_json(),
    }


async def _stored_order(uow: UnitOfWork, order_id: str) -> ChannelOrder:
    from oms.shared.contracts.channel_orders import ChannelOrder  # noqa: PLC0415 -- runtime use of a typing import

    data = await uow.conn.fetchval("SELECT data::text FROM orders WHERE order_id = $1", order_id)
    return ChannelOrder.model_validate_json(data)


def _is_newer(incoming: datetime | None, stored: datetime | None) -> bool:
    """Applied only when strictly newer; an order without `updated_at` cannot be newer than itself."""
    if incoming is None:
        return False
    return stored is None or incoming > stored
