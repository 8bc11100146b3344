"""The saga's waits on real Kafka and PostgreSQL: payment holds that expire, backorders, stock counts."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from pydantic import SecretStr

from oms.inventory.app import definition as inventory_definition
from oms.inventory.settings import InventorySettings
from oms.order.app import definition as order_definition
from oms.shared.clock import ManualClock
from oms.shared.contracts.topics import (
    INVENTORY_ADJUSTMENTS,
    INVENTORY_REORDER,
    PAYMENTS,
    STOCK_LEVELS,
    internal,
)
from oms.shared.settings import DatabaseSettings, KafkaSettings
from tests.integration.messaging.support import produce, read_topic, running
from tests.integration.order.support import OrderHarness, http, product, web_order

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from oms.shared.runtime import ServiceRuntime

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


def _harness(kafka_bootstrap: str, database_url: str, prefix: str, **settings: Any) -> OrderHarness:  # noqa: ANN401 -- settings
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=prefix, topic_partitions=2)
    return OrderHarness(
        kafka_bootstrap, database_url, prefix, kafka=kafka, timer_poll_seconds=0.1, **settings
    )


def _orders(harness: OrderHarness, clock: ManualClock) -> AbstractAsyncContextManager[ServiceRuntime]:
    return running(order_definition(harness.settings), harness.settings, clock)


def _inventory(
    harness: OrderHarness,
    clock: ManualClock,
    **more: Any,  # noqa: ANN401 -- any inventory setting
) -> AbstractAsyncContextManager[ServiceRuntime]:
    settings = InventorySettings(
        **more,
        kafka=harness.settings.kafka,
        database=DatabaseSettings(url=SecretStr(harness.database_url)),
        http_host="127.0.0.1",
        http_port=0,
        relay_poll_seconds=0.2,
        timer_poll_seconds=0.1,
        reservation_minutes=30,
    )
    return running(inventory_definition(settings), settings, clock)


async def _adjust(harness: OrderHarness, reference: str, sku: str, **change: Any) -> None:  # noqa: ANN401 -- delta/set
    body = {
        "reference": reference,
        "sku": sku,
        "reason": "received" if "delta" in change else "count",
        **change,
    }
    await produce(harness.bootstrap, harness.topic(INVENTORY_ADJUSTMENTS.name), [json.dumps(body).encode()])


async def _stock(harness: OrderHarness) -> list[tuple[str, str, int, int]]:
    conn = await asyncpg.connect(harness.database_url, server_settings={"search_path": "oms_inventory"})
    try:
        rows = await conn.fetch("SELECT location, sku, on_hand, reserved FROM stock ORDER BY location, sku")
    except asyncpg.UndefinedTableError:
        return []
    finally:
        await conn.close()
    return [(row["location"], row["sku"], row["on_hand"], row["reserved"]) for row in rows]


async def _until_stock(harness: OrderHarness, expected: list[tuple[str, str, int, int]]) -> None:
    async with asyncio.timeout(60):
        while await _stock(harness) != expected:
            await asyncio.sleep(0.1)


def _order(external_id: str, quantity: int, payment: str, **changes: Any) -> dict[str, Any]:  # noqa: ANN401 -- fields
    total = str(quantity * 10)
    return web_order(
        external_id,
        lines=[{"sku": "MUG", "quantity": quantity, "unit_price": "10"}],
        shipping={"service_level": "standard", "price": "0"},
        totals={"subtotal": total, "shipping": "0", "tax": "0", "discount": "0", "total": total},
        payment={"status": payment, "amount": total},
        **changes,
    )


async def _last_unit_held_for_an_unpaid_order(harness: OrderHarness, external_id: str) -> asyncpg.Record:
    """One MUG in stock, held for an order waiting for its payment; returns the held order."""
    await harness.send_products(product("MUG"))
    await harness.wait_for_products(1)
    await _adjust(harness, "in-1", "MUG", delta=1)
    await _until_stock(harness, [("main", "MUG", 1, 0)])
    await harness.send_orders(_order(external_id, 1, "pending"))
    held = await harness.wait_for_status(external_id, "ON_HOLD")
    await _until_stock(harness, [("main", "MUG", 1, 1)])
    return held


async def test_an_expired_hold_releases_and_a_late_payment_is_never_confirmed_against_stock_sold_since(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = _harness(kafka_bootstrap, database_url, topic_prefix)
    inventory_clock, order_clock = ManualClock(), ManualClock()
    async with _orders(harness, order_clock), _inventory(harness, inventory_clock):
        held = await _last_unit_held_for_an_unpaid_order(harness, "unpaid")
        assert held["reason_code"] == "payment_pending"

        inventory_clock.advance(timedelta(minutes=31))  # the hold runs out
        await _until_stock(harness, [("main", "MUG", 1, 0)])
        await harness.send_orders(_order("paid", 1, "paid"))  # someone else buys the last unit
        await harness.wait_for_status("paid", "CONFIRMED")

        late = _order("unpaid", 1, "paid", updated_at="2026-12-01T12:00:00Z")
        await harness.send_orders(late)  # the payment arrives after the hold expired
        rejected = await harness.wait_for_status("unpaid", "REJECTED")
        (refund,) = await read_topic(harness.bootstrap, harness.topic(PAYMENTS.name), 1)
        timeline = await harness.fetch(
            "SELECT t.status FROM order_timeline t JOIN orders o USING (order_id)"
            " WHERE external_id = 'unpaid'"
            " ORDER BY t.version"
        )

    assert rejected["reason_code"] == "out_of_stock"
    assert [row["status"] for row in timeline] == [
        "RECEIVED",
        "AWAITING_STOCK",
        "ON_HOLD",
        "AWAITING_STOCK",
        "REJECTED",
    ]
    assert json.loads(refund.value)["type"] == "RefundRequested"


async def test_a_payment_within_the_hold_confirms_and_an_unpaid_order_expires_after_the_channel_wait(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = _harness(kafka_bootstrap, database_url, topic_prefix, payment_wait_hours=48)
    inventory_clock, order_clock = ManualClock(), ManualClock()
    async with _orders(harness, order_clock), _inventory(harness, inventory_clock):
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await _adjust(harness, "in-1", "MUG", delta=5)
        await _until_stock(harness, [("main", "MUG", 5, 0)])
        await harness.send_orders(_order("soon", 1, "pending"), _order("never", 1, "pending"))
        await harness.wait_for_status("soon", "ON_HOLD")
        await harness.wait_for_status("never", "ON_HOLD")

        await harness.send_orders(_order("soon", 1, "authorized", updated_at="2026-12-01T11:00:00Z"))
        await harness.wait_for_status("soon", "CONFIRMED")
        inventory_clock.advance(timedelta(hours=1))  # the confirmed order's hold does not expire
        order_clock.advance(timedelta(hours=49))  # the unpaid one waited longer than the channel allows
        expired = await harness.wait_for_status("never", "REJECTED")
        await _until_stock(harness, [("main", "MUG", 5, 1)])

    assert expired["reason_code"] == "payment_expired"


async def test_backordered_orders_are_confirmed_oldest_first_when_stock_arrives_and_expire_after_the_limit(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = _harness(kafka_bootstrap, database_url, topic_prefix, backorder_hours={"web-uk": 48})
    inventory_clock, order_clock = ManualClock(), ManualClock()
    async with _orders(harness, order_clock), _inventory(harness, inventory_clock):
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        for name in ("first", "second", "third"):  # one after the other: their waiting order is known
            await harness.send_orders(_order(name, 1, "paid"))
            await harness.wait_for_status(name, "BACKORDERED")
        await _adjust(harness, "in-2", "MUG", delta=2)
        await harness.wait_for_status("first", "CONFIRMED")
        await harness.wait_for_status("second", "CONFIRMED")
        await asyncio.sleep(1)
        still = await harness.wait_for_status("third", "BACKORDERED")
        await _until_stock(harness, [("main", "MUG", 2, 2)])

        order_clock.advance(timedelta(hours=49))
        expired = await harness.wait_for_status("third", "REJECTED")
        (refund,) = await read_topic(harness.bootstrap, harness.topic(PAYMENTS.name), 1)

    assert still["reason_code"] == "backordered"
    assert expired["reason_code"] == "backorder_expired"
    assert json.loads(refund.value)["reason"] == "backorder_expired"


async def test_a_count_below_reserved_moves_the_newest_reservation_then_backorders_it_never_going_negative(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = _harness(kafka_bootstrap, database_url, topic_prefix)
    clock = ManualClock()
    async with _orders(harness, clock), _inventory(harness, clock):
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await _adjust(harness, "in-main", "MUG", delta=5, location="main")
        await _adjust(harness, "in-york", "MUG", delta=2, location="york")
        await _until_stock(harness, [("main", "MUG", 5, 0), ("york", "MUG", 2, 0)])
        await harness.send_orders(_order("older", 2, "paid"))
        await harness.wait_for_status("older", "CONFIRMED")
        await harness.send_orders(_order("newer", 2, "paid"))
        await harness.wait_for_status("newer", "CONFIRMED")
        await _until_stock(harness, [("main", "MUG", 5, 4), ("york", "MUG", 2, 0)])

        await _adjust(harness, "count-main", "MUG", set=2, location="main")  # two units were never there
        await _until_stock(harness, [("main", "MUG", 2, 2), ("york", "MUG", 2, 2)])  # "newer" moved to York
        await _adjust(harness, "count-york", "MUG", set=0, location="york")  # and York has none after all
        await _until_stock(harness, [("main", "MUG", 2, 2), ("york", "MUG", 0, 0)])
        newer = await harness.wait_for_status("newer", "BACKORDERED")
        older = await harness.wait_for_status("older", "CONFIRMED")
        levels = [
            json.loads(r.value)
            for r in await read_topic(harness.bootstrap, harness.topic(STOCK_LEVELS.name), 6)
        ]

    assert newer["reason_code"] == "backordered"
    assert older["status"] == "CONFIRMED"
    assert all(level["available"] >= 0 for level in levels)
    assert all(location["available"] >= 0 for level in levels for location in level["locations"])


async def test_a_reorder_suggestion_is_raised_once_when_available_falls_to_the_reorder_point(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = _harness(kafka_bootstrap, database_url, topic_prefix)
    clock = ManualClock()
    async with _orders(harness, clock), _inventory(harness, clock, reorder_points={"MUG": 3}):
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await _adjust(harness, "in-1", "MUG", delta=10)
        await _until_stock(harness, [("main", "MUG", 10, 0)])
        for number in range(4):  # 10 -> 8 -> 6 -> 4 -> 2: the point (3) is crossed once
            await harness.send_orders(_order(f"r{number}", 2, "paid"))
            await harness.wait_for_status(f"r{number}", "CONFIRMED")
        await harness.send_orders(_order("r4", 1, "paid"))  # still low: no second suggestion
        await harness.wait_for_status("r4", "CONFIRMED")
        await asyncio.sleep(1)
        suggestions = await read_topic(harness.bootstrap, harness.topic(INVENTORY_REORDER.name), 1)

    assert len(suggestions) == 1
    suggestion = json.loads(suggestions[0].value)
    # 8 units reserved over the 14-day window, covered for 14 days: 8, plus the point, less what is left.
    assert (suggestion["available"], suggestion["reorder_point"], suggestion["suggested_quantity"]) == (
        2,
        3,
        9,
    )
    assert suggestion["location"] == "main"


async def test_a_confirmation_that_crosses_an_expiry_reserves_the_order_again(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = _harness(kafka_bootstrap, database_url, topic_prefix)
    inventory_clock, order_clock = ManualClock(), ManualClock()
    async with _orders(harness, order_clock), _inventory(harness, inventory_clock):
        held = await _last_unit_held_for_an_unpaid_order(harness, "crossing")
        inventory_clock.advance(timedelta(minutes=31))
        await _until_stock(harness, [("main", "MUG", 1, 0)])
        # The order was confirmed before it heard of the expiry: its confirmation reaches inventory late.
        confirmed = json.dumps({"type": "OrderConfirmed", "order_id": held["order_id"]}).encode()
        headers = {"ce_id": "late-confirmation", "ce_type": "OrderConfirmed"}
        topic = harness.topic(internal("order").name)
        await produce(harness.bootstrap, topic, [confirmed], headers=[headers], key=held["order_id"].encode())
        await _until_stock(harness, [("main", "MUG", 1, 1)])  # held again, not confirmed on air


async def test_the_stock_api_shows_levels_and_takes_adjustments_only_with_a_token(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = _harness(kafka_bootstrap, database_url, topic_prefix)
    clock = ManualClock()
    auth = {"Authorization": "Bearer stock-token", "Content-Type": "application/json"}
    async with _inventory(harness, clock, api_tokens=["stock-token"]) as inventory:
        assert inventory.http is not None
        port = inventory.http.port
        body = json.dumps({"sku": "MUG", "delta": 7, "reason": "received", "reference": "po-1"}).encode()
        assert (await asyncio.to_thread(http, port, "POST", "/stock/adjustments", body, {}))[0] == 401
        code, accepted = await asyncio.to_thread(http, port, "POST", "/stock/adjustments", body, auth)
        assert (code, accepted["reference"]) == (202, "po-1")
        await asyncio.to_thread(
            http, port, "POST", "/stock/adjustments", body, auth
        )  # the same reference again
        await _until_stock(harness, [("main", "MUG", 7, 0)])
        await asyncio.sleep(1)
        code, level = await asyncio.to_thread(http, port, "GET", "/stock/MUG", None, auth)
        missing, _ = await asyncio.to_thread(http, port, "GET", "/stock/NOPE", None, auth)

    assert code == 200
    assert (level["on_hand"], level["reserved"], level["available"]) == (7, 0, 7)
    assert missing == 404
