"""Wiring of the inventory service: migrations, subscriptions and the batch lock on the shared runtime."""

from __future__ import annotations

from pathlib import Path

from oms.inventory.api import stock_api
from oms.inventory.services import EXPIRY, Inventory, ReorderPolicy
from oms.inventory.settings import InventorySettings
from oms.shared import runtime
from oms.shared.contracts.inventory import StockAdjustment
from oms.shared.contracts.orders import OrderBackordered, OrderCancelled, OrderConfirmed, OrderPlaced
from oms.shared.contracts.topics import INVENTORY_ADJUSTMENTS, internal
from oms.shared.messaging.subscription import Subscription
from oms.shared.runtime import ServiceDefinition

MIGRATIONS = Path(__file__).parent / "migrations"


def definition(settings: InventorySettings) -> ServiceDefinition:
    reorder = ReorderPolicy(
        points=dict(settings.reorder_points),
        default_point=settings.default_reorder_point,
        window_days=settings.reorder_window_days,
        cover_days=settings.reorder_cover_days,
    )
    inventory = Inventory(
        default_location=settings.default_location,
        reservation_minutes=settings.reservation_minutes,
        reorder=reorder,
    )
    return ServiceDefinition(
        name="inventory",
        migrations=[MIGRATIONS],
        subscriptions=[
            Subscription(INVENTORY_ADJUSTMENTS, {"": StockAdjustment}, inventory.take_adjustments),
            Subscription(
                internal("order"),
                {
                    "OrderPlaced": OrderPlaced,
                    "OrderConfirmed": OrderConfirmed,
                    "OrderBackordered": OrderBackordered,
                    "OrderCancelled": OrderCancelled,
                },
                inventory.take_order_events,
            ),
        ],
        timers={EXPIRY: inventory.expire},
        routers=[stock_api(settings)],
        before_batch=inventory.lock_batch,
    )


def main() -> None:
    settings = InventorySettings()
    runtime.main(definition(settings), settings)
