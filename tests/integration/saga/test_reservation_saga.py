"""The reservation saga between the order and inventory services, on real Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import random
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from pydantic import SecretStr

from oms.inventory.app import definition as inventory_definition
from oms.inventory.settings import InventorySettings
from oms.shared.contracts.topics import INVENTORY_ADJUSTMENTS, PAYMENTS, STOCK_LEVELS
from oms.shared.settings import DatabaseSettings, KafkaSettings
from tests.integration.messaging.support import produce, read_topic, running
from tests.integration.order.support import OrderHarness, product, web_order

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from oms.shared.runtime import ServiceRuntime

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

CHANNELS = ("shopify-uk", "woo-eu", "pos-leeds")


def _inventory(harness: OrderHarness) -> AbstractAsyncContextManager[ServiceRuntime]:
    settings = InventorySettings(
        kafka=KafkaSettings(bootstrap=harness.bootstrap, topic_prefix=harness.prefix, topic_partitions=4),
        database=DatabaseSettings(url=SecretStr(harness.database_url)),
        http_host="127.0.0.1",
        http_port=0,
        relay_poll_seconds=0.2,
    )
    return running(inventory_definition(settings), settings)


async def _receive(harness: OrderHarness, sku: str, units: int, reference: str) -> None:
    body = json.dumps({"reference": reference, "sku": sku, "delta": units, "reason": "received"}).encode()
    await produce(harness.bootstrap, harness.topic(INVENTORY_ADJUSTMENTS.name), [body], key=sku.encode())


async def _inventory_rows(harness: OrderHarness, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(harness.database_url, server_settings={"search_path": "oms_inventory"})
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def _until(condition: Any, seconds: float = 90) -> None:  # noqa: ANN401 -- an async predicate
    async with asyncio.timeout(seconds):
        while not await condition():
            await asyncio.sleep(0.2)


def _order(channel: str, number: int, lines: list[dict[str, Any]], payment: str = "paid") -> dict[str, Any]:
    subtotal = sum(int(line["quantity"]) * 10 for line in lines)
    return web_order(
        f"{channel}-{number}",
        channel=channel,
        lines=[{**line, "unit_price": "10.00"} for line in lines],
        shipping={"service_level": "standard", "price": "0"},
        totals={
            "subtotal": str(subtotal),
            "shipping": "0",
            "tax": "0",
            "discount": "0",
            "total": str(subtotal),
        },
        payment={"status": payment, "amount": str(subtotal)},
    )


@pytest.fixture
def suite(kafka_bootstrap: str, database_url: str, topic_prefix: str) -> OrderHarness:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, topic_partitions=4)
    return OrderHarness(kafka_bootstrap, database_url, topic_prefix, kafka=kafka)


async def test_two_hundred_orders_for_fifty_units_confirm_exactly_fifty_and_never_oversell(
    suite: OrderHarness,
) -> None:
    orders = [_order(CHANNELS[n % 3], n, [{"sku": "WIDGET", "quantity": 1}]) for n in range(200)]
    random.Random(7).shuffle(orders)  # noqa: S311 -- a fixed, reproducible shuffle
    async with suite.run(), _inventory(suite), _inventory(suite):  # two inventory instances, one group
        await suite.send_products(product("WIDGET"))
        await suite.wait_for_products(1)
        await _receive(suite, "WIDGET", 50, "delivery-1")
        await _until(lambda: _stock_is(suite, 50))
        await asyncio.gather(*(suite.send_orders(*orders[n::3]) for n in range(3)))  # three channels at once

        async def all_decided() -> bool:
            rows = await suite.fetch(
                "SELECT count(*) AS n FROM orders WHERE status IN ('CONFIRMED', 'REJECTED')"
            )
            return bool(rows[0]["n"] == 200)

        await _until(all_decided, seconds=120)
        statuses = await suite.fetch("SELECT status, reason_code, count(*) AS n FROM orders GROUP BY 1, 2")
        levels = [
            json.loads(r.value) for r in await read_topic(suite.bootstrap, suite.topic(STOCK_LEVELS.name), 2)
        ]
        payments = await read_topic(suite.bootstrap, suite.topic(PAYMENTS.name), 150)
        stock = await _inventory_rows(suite, "SELECT on_hand, reserved FROM stock WHERE sku = 'WIDGET'")
        ledger = await _inventory_rows(
            suite, "SELECT sum(on_hand_delta) AS on_hand, sum(reserved_delta) AS reserved FROM movements"
        )
        live = await _inventory_rows(
            suite,
            """SELECT coalesce(sum(l.quantity), 0) AS units FROM reservation_lines l
               JOIN reservations r USING (order_id) WHERE r.status = 'active'""",
        )

    assert {(row["status"], row["reason_code"]): row["n"] for row in statuses} == {
        ("CONFIRMED", None): 50,
        ("REJECTED", "out_of_stock"): 150,
    }
    assert all(level["available"] >= 0 for level in levels)
    assert max(level["version"] for level in levels) == len({level["version"] for level in levels})
    latest = max(levels, key=lambda level: level["version"])
    assert (latest["on_hand"], latest["reserved"], latest["available"]) == (50, 50, 0)
    assert [(row["on_hand"], row["reserved"]) for row in stock] == [(50, 50)]
    assert (ledger[0]["on_hand"], ledger[0]["reserved"]) == (50, 50)
    assert live[0]["units"] == 50
    requests = [json.loads(record.value) for record in payments]
    assert len(requests) == 150
    assert {request["type"] for request in requests} == {"RefundRequested"}
    assert len({request["request_id"] for request in requests}) == 150


async def _stock_is(harness: OrderHarness, units: int) -> bool:
    try:
        rows = await _inventory_rows(harness, "SELECT on_hand FROM stock")
    except asyncpg.UndefinedTableError:
        return False
    return [row["on_hand"] for row in rows] == [units]


async def test_a_multi_line_order_with_one_short_line_reserves_nothing_and_is_rejected_with_a_void(
    suite: OrderHarness,
) -> None:
    order = _order(
        "woo-eu", 1, [{"sku": "MUG", "quantity": 2}, {"sku": "TEA", "quantity": 5}], payment="authorized"
    )
    async with suite.run(), _inventory(suite):
        await suite.send_products(product("MUG"), product("TEA"))
        await suite.wait_for_products(2)
        await _receive(suite, "MUG", 10, "r-mug")
        await _receive(suite, "TEA", 3, "r-tea")
        await _until(lambda: _two_skus(suite))
        await suite.send_orders(order)
        rejected = await suite.wait_for_status("woo-eu-1", "REJECTED", seconds=60)
        (payment,) = await read_topic(suite.bootstrap, suite.topic(PAYMENTS.name), 1)
        stock = await _inventory_rows(suite, "SELECT sku, reserved FROM stock ORDER BY sku")

    assert rejected["reason_code"] == "out_of_stock"
    assert rejected["reason_message"] == "TEA: 5 wanted, 3 available"
    assert [(row["sku"], row["reserved"]) for row in stock] == [("MUG", 0), ("TEA", 0)]
    request = json.loads(payment.value)
    assert (request["type"], request["amount"], request["reason"]) == ("VoidRequested", "70", "out_of_stock")


async def _two_skus(harness: OrderHarness) -> bool:
    try:
        return len(await _inventory_rows(harness, "SELECT sku FROM stock")) == 2
    except asyncpg.UndefinedTableError:
        return False


async def test_a_cancellation_delivered_twice_and_a_second_cancel_change_stock_once(
    suite: OrderHarness,
) -> None:
    order = _order("pos-leeds", 9, [{"sku": "MUG", "quantity": 3}])
    async with suite.run(), _inventory(suite):
        await suite.send_products(product("MUG"))
        await suite.wait_for_products(1)
        await _receive(suite, "MUG", 10, "r-mug")
        await _until(lambda: _stock_is(suite, 10))
        await suite.send_orders(order)
        confirmed = await suite.wait_for_status("pos-leeds-9", "CONFIRMED", seconds=60)
        command = {
            "command_id": "c-1",
            "type": "CancelOrder",
            "order_id": confirmed["order_id"],
            "requested_by": "cs",
        }
        await suite.send_command(command)
        await suite.send_command(command)  # the same command twice
        await suite.send_command({**command, "command_id": "c-2"})  # a second cancel of a cancelled order
        await suite.wait_for_status("pos-leeds-9", "CANCELLED")

        async def released() -> bool:
            rows = await _inventory_rows(suite, "SELECT reserved FROM stock")
            return [row["reserved"] for row in rows] == [0]

        await _until(released, seconds=60)
        await asyncio.sleep(1.5)
        moves = await _inventory_rows(suite, "SELECT kind, reserved_delta FROM movements ORDER BY id")
        stock = await _inventory_rows(suite, "SELECT on_hand, reserved FROM stock")

    assert [(row["kind"], row["reserved_delta"]) for row in moves] == [
        ("received", 0),
        ("reserve", 3),
        ("release:cancelled", -3),
    ]
    assert [(row["on_hand"], row["reserved"]) for row in stock] == [(10, 0)]
