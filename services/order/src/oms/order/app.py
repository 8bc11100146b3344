"""Wiring of the order service: migrations, subscriptions and routes on the shared runtime."""

from __future__ import annotations

from pathlib import Path

from oms.order.api import catalogue_api, operator_api
from oms.order.services import BACKORDER_EXPIRY, PAYMENT_EXPIRY, Orders, SagaPolicy
from oms.order.settings import OrderSettings
from oms.order.time_zones import zone_applier
from oms.order.webhooks import webhook_receiver
from oms.shared import runtime
from oms.shared.contracts.catalog import Product
from oms.shared.contracts.channel_orders import ChannelOrder
from oms.shared.contracts.inventory import StockReleased, StockReservationFailed, StockReserved
from oms.shared.contracts.orders import OrderCommand
from oms.shared.contracts.topics import CATALOG_PRODUCTS, CHANNEL_ORDERS, ORDER_COMMANDS, internal
from oms.shared.messaging.subscription import Subscription
from oms.shared.runtime import ServiceDefinition

MIGRATIONS = Path(__file__).parent / "migrations"


def definition(settings: OrderSettings) -> ServiceDefinition:
    policy = SagaPolicy(
        payment_wait_hours=settings.payment_wait_hours,
        backorder_hours=dict(settings.backorder_hours),
        stock_count_backorder_hours=settings.stock_count_backorder_hours,
    )
    orders = Orders(rules=settings.fraud_rules(), tolerance=settings.totals_tolerance, policy=policy)
    return ServiceDefinition(
        name="order",
        migrations=[MIGRATIONS],
        routers=[operator_api(settings), catalogue_api(settings), webhook_receiver(settings)],
        timers={PAYMENT_EXPIRY: orders.expire_payment, BACKORDER_EXPIRY: orders.expire_backorder},
        subscriptions=[
            Subscription(CATALOG_PRODUCTS, {"": Product}, orders.take_products),
            Subscription(
                CHANNEL_ORDERS,
                {"": ChannelOrder},
                orders.take_channel_orders,
                prepare=zone_applier(settings.channel_time_zones),
            ),
            Subscription(ORDER_COMMANDS, {"": OrderCommand}, orders.run_commands),
            Subscription(
                internal("inventory"),
                {
                    "StockReserved": StockReserved,
                    "StockReservationFailed": StockReservationFailed,
                    "StockReleased": StockReleased,
                },
                orders.take_inventory_events,
            ),
        ],
    )


def main() -> None:
    settings = OrderSettings()
    runtime.main(definition(settings), settings)
