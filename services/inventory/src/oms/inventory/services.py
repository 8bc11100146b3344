"""Use cases of the inventory service: adjust stock, reserve all or nothing, release, expire, backorder."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from oms.inventory import repository as repo
from oms.inventory.domain.allocation import demand, plan
from oms.shared.contracts.inventory import (
    Allocation,
    LocationLevel,
    ReorderSuggested,
    ShortLine,
    StockAdjustment,
    StockLevelChanged,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from oms.shared.contracts.orders import OrderBackordered, OrderCancelled, OrderConfirmed, OrderPlaced
from oms.shared.contracts.topics import INVENTORY_REORDER, STOCK_LEVELS, internal
from oms.shared.logging import get_logger, message_context

if TYPE_CHECKING:
    from collections.abc import Sequence

    from oms.shared.contracts.envelope import Envelope
    from oms.shared.messaging.records import Incoming
    from oms.shared.messaging.timers import Timer
    from oms.shared.messaging.unit_of_work import UnitOfWork

log = get_logger(__name__)

INVENTORY_EVENTS = internal("inventory")
EXPIRY = "reservation-expiry"


@dataclass(frozen=True)
class ReorderPolicy:
    points: dict[str, int] = field(default_factory=dict)
    default_point: int = 0
    window_days: int = 14
    cover_days: int = 14

    def point(self, sku: str) -> int:
        return self.points.get(sku, self.default_point)


class Inventory:
    def __init__(
        self, *, default_location: str, reservation_minutes: int, reorder: ReorderPolicy | None = None
    ) -> None:
        self.default_location = default_location
        self.hold = timedelta(minutes=reservation_minutes)
        self.reorder = reorder or ReorderPolicy()

    # ------------------------------------------------------------------ locks
    async def lock_batch(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        """Before anything else in the batch: lock every stock row it may touch, in one fixed order.

        A batch reserves and releases for many orders in one transaction; taking all its locks first,
        sorted by (location, SKU), keeps two instances from ever waiting on each other in a circle.
        """
        skus: set[str] = set()
        counted: set[str] = set()
        orders: list[str] = []
        for message in messages:
            event = message.event
            if isinstance(event, StockAdjustment):
                skus.add(event.sku)
                counted.add(event.sku)
            elif isinstance(event, OrderPlaced | OrderBackordered):
                skus.update(line.sku for line in event.lines)
            elif isinstance(event, OrderCancelled):
                orders.append(event.order_id)
        if orders:
            skus.update(await repo.reserved_skus(uow.conn, orders))
        if counted:  # a count may move reservations holding these SKUs, with all their other SKUs
            skus.update(await repo.skus_held_with(uow.conn, sorted(counted)))
        if skus:
            skus.update(await repo.waiting_skus(uow.conn, sorted(skus)))  # backorders served by new stock
            await repo.lock_stock(uow.conn, skus)

    # ------------------------------------------------------------------ adjustments
    async def take_adjustments(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        changed: set[str] = set()
        for message in messages:
            with message_context(message.envelope):
                changed |= await self.adjust(uow, message.event, message.envelope)
        await self.publish_levels(uow, changed)

    async def adjust(self, uow: UnitOfWork, adjustment: StockAdjustment, cause: Envelope) -> set[str]:
        """Apply an adjustment once per reference.

        A count below what is reserved first moves or backorders the newest reservations (available
        never goes negative); new stock serves waiting backorders oldest first.
        """
        at = uow.clock.now()
        if not await repo.first_time(uow.conn, adjustment.reference, at):
            log.info("adjustment already applied", reference=adjustment.reference)
            return set()
        location = adjustment.location or self.default_location
        on_hand, reserved = await repo.stock_row(uow.conn, location, adjustment.sku) or (0, 0)
        target = max(
            0, adjustment.set_to if adjustment.set_to is not None else on_hand + (adjustment.delta or 0)
        )
        displaced = await self._make_room(uow, location, adjustment.sku, reserved - target)
        values = adjustment.model_dump(by_alias=True) | {"location": location}
        await repo.adjust(uow.conn, values, at)
        changed = {adjustment.sku} | {sku for _, wanted in displaced for sku in wanted}
        for order_id, wanted in displaced:
            changed |= await self._reserve_or_wait(uow, order_id, wanted, "unknown", cause, displaced=True)
        if target > on_hand:
            changed |= await self._serve_backorders(uow, [adjustment.sku], cause)
        return changed

    async def _make_room(
        self, uow: UnitOfWork, location: str, sku: str, excess: int
    ) -> list[tuple[str, dict[str, int]]]:
        """Release the newest reservations holding this SKU here until `excess` units are free."""
        displaced: list[tuple[str, dict[str, int]]] = []
        for order_id, units in await repo.newest_holding(uow.conn, location, sku):
            if excess <= 0:
                break
            wanted = await repo.reservation_demand(uow.conn, order_id)
            await repo.release(uow.conn, order_id, uow.clock.now(), kind="release:count")
            displaced.append((order_id, wanted))
            excess -= units
        return displaced[::-1]  # re-reserved oldest first: the older order keeps the better chance

    # ------------------------------------------------------------------ order events
    async def take_order_events(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        changed: set[str] = set()
        for message in messages:
            event, cause = message.event, message.envelope
            with message_context(cause):
                if isinstance(event, OrderPlaced):
                    changed |= await self.reserve(uow, event, cause)
                elif isinstance(event, OrderConfirmed):
                    changed |= await self.note_confirmed(uow, event.order_id, cause)
                elif isinstance(event, OrderBackordered):
                    wanted = demand((line.sku, line.quantity) for line in event.lines)
                    await repo.waitlist(
                        uow.conn, event.order_id, wanted, event.payment_status, uow.clock.now()
                    )
                    changed |= await self._serve_backorders(uow, sorted(wanted), cause)
                elif isinstance(event, OrderCancelled):
                    await repo.set_backorder(uow.conn, event.order_id, "dropped")
                    await uow.cancel_timer(EXPIRY, event.order_id)
                    changed |= await self.release(uow, event.order_id, "cancelled", cause)
        await self.publish_levels(uow, changed)

    async def note_confirmed(self, uow: UnitOfWork, order_id: str, cause: Envelope) -> set[str]:
        """Confirmed: the hold stops expiring; if it had just expired, the order is reserved again.

        The payment and the expiry can cross. Then the order is reserved again, or waits for stock
        (`StockReservationFailed{waitlisted}` backorders it): never confirmed without stock.
        """
        await uow.cancel_timer(EXPIRY, order_id)
        if await repo.reservation_status(uow.conn, order_id) != "released":
            return set()
        wanted = await repo.reservation_demand(uow.conn, order_id)
        log.info("confirmed after its hold expired: reserving again", order_id=order_id)
        return await self._reserve_or_wait(uow, order_id, wanted, "paid", cause, displaced=True)

    async def reserve(self, uow: UnitOfWork, order: OrderPlaced, cause: Envelope) -> set[str]:
        """All or nothing: every line reserved (one location if any can ship it all), or none and why."""
        if await repo.reservation_status(uow.conn, order.order_id) == "active":
            log.info("order already reserved", order_id=order.order_id)
            return set()
        wanted = demand((line.sku, line.quantity) for line in order.lines)
        return await self._reserve_or_wait(uow, order.order_id, wanted, order.payment_status, cause)

    async def _reserve_or_wait(
        self,
        uow: UnitOfWork,
        order_id: str,
        wanted: dict[str, int],
        payment_status: str,
        cause: Envelope | None,
        *,
        displaced: bool = False,
    ) -> set[str]:
        """Reserve now; if short, say so (a displaced order is also put on the waiting list here)."""
        at = uow.clock.now()
        for _ in range(3):
            outcome = plan(wanted, await repo.free_units(uow.conn, sorted(wanted)))
            if outcome.short:
                break
            try:
                async with uow.conn.transaction():  # a savepoint: a stale plan leaves nothing behind
                    await repo.reserve(uow.conn, order_id, outcome.takes, at)
                break
            except repo.StalePlanError:
                log.info("stock moved under the plan; planning again", order_id=order_id)
        else:
            raise repo.StalePlanError(order_id)
        if outcome.short:
            await repo.record_failure(uow.conn, order_id, at)
            if displaced:
                await repo.waitlist(uow.conn, order_id, wanted, payment_status, at)
            short = [
                ShortLine(sku=s.sku, requested=s.requested, available=s.available) for s in outcome.short
            ]
            failed = StockReservationFailed(order_id=order_id, short=short, waitlisted=displaced)
            uow.publish(INVENTORY_EVENTS, failed, key=order_id, cause=cause, order_id=order_id)
            return set()
        if payment_status == "pending":
            await uow.schedule(EXPIRY, order_id, at + self.hold, {"order_id": order_id})
        allocations = [Allocation(location=t.location, sku=t.sku, quantity=t.quantity) for t in outcome.takes]
        reserved = StockReserved(order_id=order_id, allocations=allocations)
        uow.publish(INVENTORY_EVENTS, reserved, key=order_id, cause=cause, order_id=order_id)
        return {take.sku for take in outcome.takes}

    async def _serve_backorders(self, uow: UnitOfWork, skus: list[str], cause: Envelope | None) -> set[str]:
        """Waiting orders wanting these SKUs, oldest first, each reserved whole when stock allows."""
        changed: set[str] = set()
        for order_id, wanted, payment_status in await repo.waiting_for(uow.conn, skus):
            outcome = plan(wanted, await repo.free_units(uow.conn, sorted(wanted)))
            if outcome.short:
                continue
            await repo.set_backorder(uow.conn, order_id, "filled")
            changed |= await self._reserve_or_wait(uow, order_id, wanted, payment_status, cause)
        return changed

    async def release(self, uow: UnitOfWork, order_id: str, why: str, cause: Envelope | None) -> set[str]:
        """Give the order's units back, exactly once; a second request finds nothing held."""
        skus = await repo.release(uow.conn, order_id, uow.clock.now(), kind=f"release:{why}")
        if not skus:
            return set()
        released = StockReleased(order_id=order_id, reason=why)
        uow.publish(INVENTORY_EVENTS, released, key=order_id, cause=cause, order_id=order_id)
        return set(skus) | await self._serve_backorders(uow, skus, cause)  # freed units go to who waits

    async def expire(self, uow: UnitOfWork, timer: Timer) -> None:
        """The unpaid order's hold ran out: its stock goes back (the order stays on hold, unpaid)."""
        await repo.lock_stock(
            uow.conn, await repo.reserved_skus(uow.conn, [timer.key])
        )  # the batch lock order
        await self.publish_levels(uow, await self.release(uow, timer.key, "expired", None))

    # ------------------------------------------------------------------ levels
    async def publish_levels(self, uow: UnitOfWork, skus: set[str]) -> None:
        """One StockLevelChanged per SKU changed by the batch, with the SKU's next version."""
        if not skus:
            return
        ordered = sorted(skus)
        levels = await repo.levels(uow.conn, ordered)
        versions = await repo.next_versions(uow.conn, ordered)
        for sku in ordered:
            rows = levels.get(sku, [])
            locations = [
                LocationLevel(
                    location=location, on_hand=on_hand, reserved=reserved, available=on_hand - reserved
                )
                for location, on_hand, reserved in rows
            ]
            on_hand, reserved = sum(row[1] for row in rows), sum(row[2] for row in rows)
            level = StockLevelChanged(
                sku=sku,
                on_hand=on_hand,
                reserved=reserved,
                available=on_hand - reserved,
                locations=locations,
                version=versions[sku],
                at=uow.clock.now(),
            )
            uow.publish(STOCK_LEVELS, level, key=sku)
            for location in locations:
                await self._suggest_reorder(uow, sku, location.location, location.available)

    async def _suggest_reorder(self, uow: UnitOfWork, sku: str, location: str, available: int) -> None:
        """Once when available falls to the reorder point: enough for the cover days at recent demand."""
        point = self.reorder.point(sku)
        if point <= 0 or not await repo.alert_once(uow.conn, location, sku, low=available <= point):
            return
        now = uow.clock.now()
        since = now - timedelta(days=self.reorder.window_days)
        per_day = await repo.reserved_per_day(uow.conn, location, sku, since, self.reorder.window_days)
        quantity = max(
            point - available + 1, math.ceil(per_day * self.reorder.cover_days) + point - available
        )
        suggestion = ReorderSuggested(
            sku=sku,
            location=location,
            available=available,
            reorder_point=point,
            suggested_quantity=quantity,
            at=now,
        )
        uow.publish(INVENTORY_REORDER, suggestion, key=sku)
