"""Use cases of the inventory service: adjust stock, reserve an order all or nothing, release it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from oms.inventory import repository as repo
from oms.inventory.domain.allocation import demand, plan
from oms.shared.contracts.inventory import (
    Allocation,
    LocationLevel,
    ShortLine,
    StockAdjustment,
    StockLevelChanged,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from oms.shared.contracts.orders import OrderCancelled, OrderPlaced
from oms.shared.contracts.topics import STOCK_LEVELS, internal
from oms.shared.logging import get_logger, message_context

if TYPE_CHECKING:
    from collections.abc import Sequence

    from oms.shared.contracts.envelope import Envelope
    from oms.shared.messaging.records import Incoming
    from oms.shared.messaging.unit_of_work import UnitOfWork

log = get_logger(__name__)

INVENTORY_EVENTS = internal("inventory")


class Inventory:
    def __init__(self, *, default_location: str) -> None:
        self.default_location = default_location

    async def lock_batch(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        """Before anything else in the batch: lock every stock row it may touch, in one fixed order.

        A batch reserves and releases for many orders in one transaction; taking all its locks first,
        sorted by (location, SKU), keeps two instances from ever waiting on each other in a circle.
        """
        skus: set[str] = set()
        cancelled: list[str] = []
        for message in messages:
            event = message.event
            if isinstance(event, StockAdjustment):
                skus.add(event.sku)
            elif isinstance(event, OrderPlaced):
                skus.update(line.sku for line in event.lines)
            elif isinstance(event, OrderCancelled):
                cancelled.append(event.order_id)
        if cancelled:
            skus.update(await repo.reserved_skus(uow.conn, cancelled))
        if skus:
            await repo.lock_stock(uow.conn, skus)

    async def take_adjustments(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        changed: set[str] = set()
        for message in messages:
            adjustment: StockAdjustment = message.event
            with message_context(message.envelope):
                if not await repo.first_time(uow.conn, adjustment.reference, uow.clock.now()):
                    log.info("adjustment already applied", reference=adjustment.reference)
                    continue
                values = adjustment.model_dump(by_alias=True)
                values["location"] = adjustment.location or self.default_location
                await repo.adjust(uow.conn, values, uow.clock.now())
                changed.add(adjustment.sku)
        await self.publish_levels(uow, changed)

    async def take_order_events(self, uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        changed: set[str] = set()
        for message in messages:
            with message_context(message.envelope):
                if isinstance(message.event, OrderPlaced):
                    changed.update(await self.reserve(uow, message.event, message.envelope))
                elif isinstance(message.event, OrderCancelled):
                    changed.update(
                        await self.release(uow, message.event.order_id, "cancelled", message.envelope)
                    )
        await self.publish_levels(uow, changed)

    async def reserve(self, uow: UnitOfWork, order: OrderPlaced, cause: Envelope) -> set[str]:
        """All or nothing: every line reserved (one location if any can ship it all), or none and why."""
        if await repo.reservation_status(uow.conn, order.order_id) == "active":
            log.info("order already reserved", order_id=order.order_id)
            return set()
        wanted = demand((line.sku, line.quantity) for line in order.lines)
        outcome = plan(wanted, await repo.free_units(uow.conn, sorted(wanted)))
        at = uow.clock.now()
        if outcome.short:
            await repo.record_failure(uow.conn, order.order_id, at)
            short = [
                ShortLine(sku=s.sku, requested=s.requested, available=s.available) for s in outcome.short
            ]
            failed = StockReservationFailed(order_id=order.order_id, short=short)
            uow.publish(INVENTORY_EVENTS, failed, key=order.order_id, cause=cause, order_id=order.order_id)
            return set()
        takes = outcome.takes
        await repo.reserve(uow.conn, order.order_id, takes, at)
        allocations = [Allocation(location=t.location, sku=t.sku, quantity=t.quantity) for t in takes]
        reserved = StockReserved(order_id=order.order_id, allocations=allocations)
        uow.publish(INVENTORY_EVENTS, reserved, key=order.order_id, cause=cause, order_id=order.order_id)
        return {take.sku for take in takes}

    async def release(self, uow: UnitOfWork, order_id: str, why: str, cause: Envelope | None) -> set[str]:
        """Give the order's units back, exactly once; a second request finds nothing held."""
        skus = await repo.release(uow.conn, order_id, uow.clock.now(), kind=f"release:{why}")
        if skus:
            released = StockReleased(order_id=order_id, reason=why)
            uow.publish(INVENTORY_EVENTS, released, key=order_id, cause=cause, order_id=order_id)
        return set(skus)

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
