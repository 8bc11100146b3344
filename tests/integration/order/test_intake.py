"""Order intake on real Kafka and PostgreSQL: real payloads, idempotency, resends, holds, rejections."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from oms.order.adapters import shopify, woocommerce
from oms.shared.contracts.topics import CHANNEL_ORDERS, internal
from tests.integration.messaging.support import read_topic
from tests.integration.order.support import OrderHarness, fixture, product, web_order

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def harness(kafka_bootstrap: str, database_url: str, topic_prefix: str) -> OrderHarness:
    return OrderHarness(kafka_bootstrap, database_url, topic_prefix)


async def test_the_real_shopify_order_is_held_because_its_lines_do_not_add_up_to_its_subtotal(
    harness: OrderHarness,
) -> None:
    shopify_order = shopify.to_channel_order(fixture("shopify_rest_order.json"), "shopify-us")
    async with harness.run():
        await harness.send_products(*(product(f"IPOD2008{colour}") for colour in ("GREEN", "RED", "BLACK")))
        await harness.wait_for_products(3)
        await harness.send_orders(shopify_order)
        held = await harness.wait_for_status("450789469", "ON_HOLD")
        statuses = await harness.statuses(2)

    assert held["reason_code"] == "totals_mismatch"
    assert held["reason_message"] == "subtotal is 398.00 but the order adds up to 597.00"
    assert [(event["status"], event["version"]) for event in statuses] == [("RECEIVED", 1), ("ON_HOLD", 2)]
    assert statuses[1]["reason"] == {"code": "totals_mismatch", "message": held["reason_message"]}
    assert statuses[1]["external_id"] == "450789469"


async def test_the_real_woocommerce_order_is_placed_with_its_sku_less_line_mapped_through_the_catalogue(
    harness: OrderHarness,
) -> None:
    woo_order = woocommerce.to_channel_order(fixture("woocommerce_order_v3.json"), "woo-us")
    async with harness.run():
        await harness.send_products(
            product("WOO-SINGLE-1", {"channel": "woo-us", "product_id": "93"}),
            product("Bar3", {"channel": "woo-us", "product_id": "22", "variant_id": "23"}),
        )
        await harness.wait_for_products(2)
        await harness.send_orders(woo_order)
        placed = await harness.wait_for_status("727", "AWAITING_STOCK")
        statuses = await harness.statuses(2)
        (event,) = await read_topic(harness.bootstrap, harness.topic(internal("order").name), 1)

    placed_event = json.loads(event.value)
    assert [(status["status"], status["version"]) for status in statuses] == [
        ("RECEIVED", 1),
        ("AWAITING_STOCK", 2),
    ]
    assert placed_event["type"] == "OrderPlaced"
    assert placed_event["order_id"] == placed["order_id"]
    assert [(line["sku"], line["quantity"], line["unit_price"]) for line in placed_event["lines"]] == [
        ("WOO-SINGLE-1", 2, "3.00"),
        ("Bar3", 1, "12.00"),
    ]
    assert dict(event.headers)["ce_type"] == b"OrderPlaced"


async def test_an_order_id_above_two_to_the_53_keeps_every_digit_to_the_status_topic(
    harness: OrderHarness,
) -> None:
    raw = json.dumps(web_order("X")).replace('"X"', "820982911946154508").encode()
    async with harness.run():
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await harness.send_orders(raw)
        await harness.wait_for_status("820982911946154508", "AWAITING_STOCK")
        statuses = await harness.statuses(2)

    assert {event["external_id"] for event in statuses} == {"820982911946154508"}


async def test_three_deliveries_two_of_them_concurrent_make_one_order(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    first, second = (OrderHarness(kafka_bootstrap, database_url, topic_prefix) for _ in range(2))
    order = web_order("1001")
    async with first.run(), second.run():  # two instances, one partition each
        await first.send_products(product("MUG"))
        await first.wait_for_products(1)
        await asyncio.gather(first.send_orders(order, partition=0), first.send_orders(order, partition=1))
        await first.send_orders(order)
        await first.wait_for_status("1001", "AWAITING_STOCK")
        await asyncio.sleep(1.5)  # every delivery has been handled by now
        rows = await first.fetch("SELECT order_id FROM orders")
        statuses = await first.statuses(2)
        placed = await read_topic(kafka_bootstrap, first.topic(internal("order").name), 1)

    assert len(rows) == 1
    assert [event["status"] for event in statuses] == ["RECEIVED", "AWAITING_STOCK"]
    assert len(placed) == 1


async def test_an_update_before_its_create_gives_one_order_with_the_newer_data_and_older_resends_are_ignored(
    harness: OrderHarness,
) -> None:
    created = web_order("2002", updated_at="2026-12-01T10:00:00Z", note="first")
    updated = web_order("2002", updated_at="2026-12-01T11:00:00Z", note="second")
    async with harness.run():
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await harness.send_orders(updated, created, created)
        await harness.wait_for_status("2002", "AWAITING_STOCK")
        await asyncio.sleep(1.5)
        rows = await harness.fetch("SELECT data->>'note' AS note, source_updated_at FROM orders")
        statuses = await harness.statuses(2)

    assert [row["note"] for row in rows] == ["second"]
    assert [event["status"] for event in statuses] == ["RECEIVED", "AWAITING_STOCK"]


async def test_a_newer_resend_with_cancelled_true_cancels_before_dispatch(harness: OrderHarness) -> None:
    async with harness.run():
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await harness.send_orders(web_order("3003"))
        await harness.wait_for_status("3003", "AWAITING_STOCK")
        await harness.send_orders(web_order("3003", updated_at="2026-12-01T12:00:00Z", cancelled=True))
        cancelled = await harness.wait_for_status("3003", "CANCELLED")
        events = await read_topic(harness.bootstrap, harness.topic(internal("order").name), 2)

    assert cancelled["reason_message"] == "the channel cancelled the order"
    assert [json.loads(event.value)["type"] for event in events] == ["OrderPlaced", "OrderCancelled"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"lines": [{"sku": "NOPE", "quantity": 1, "unit_price": "12.00"}]}, "unknown_sku"),
        (
            {"shipping_address": {"name": "T", "line1": "1 St", "city": "Leeds", "country_code": "GB"}},
            "address_invalid",
        ),
        (
            {"totals": {"subtotal": "12.00", "shipping": "3.95", "tax": "0", "discount": "0", "total": "99"}},
            "totals_mismatch",
        ),
    ],
)
async def test_a_well_formed_order_failing_a_business_check_is_held_with_its_reason(
    harness: OrderHarness, changes: dict[str, object], reason: str
) -> None:
    async with harness.run():
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await harness.send_orders(web_order("4004", **changes))
        held = await harness.wait_for_status("4004", "ON_HOLD")

    assert held["reason_code"] == reason


async def test_too_many_orders_from_one_email_hold_the_next_for_fraud_review(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = OrderHarness(kafka_bootstrap, database_url, topic_prefix, fraud_max_orders_per_email=2)
    async with harness.run():
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await harness.send_orders(*(web_order(f"v{n}") for n in range(3)))
        held = await harness.wait_for_status("v2", "ON_HOLD")
        rows = await harness.fetch("SELECT external_id, status FROM orders ORDER BY external_id")

    assert held["reason_code"] == "fraud_review"
    assert held["reason_message"] == "3 orders from one e-mail in 24 h"
    assert [(row["external_id"], row["status"]) for row in rows] == [
        ("v0", "AWAITING_STOCK"),
        ("v1", "AWAITING_STOCK"),
        ("v2", "ON_HOLD"),
    ]


async def test_bad_input_is_rejected_with_field_level_reasons_and_the_consumer_keeps_going(
    harness: OrderHarness,
) -> None:
    naive = web_order("r6", placed_at="2026-12-01T10:00:00")
    bad = [
        b"\xff\xfe not json",
        json.dumps({k: v for k, v in web_order("r2").items() if k != "customer"}).encode(),
        json.dumps(web_order("r3", lines=[{"sku": "MUG", "quantity": 0, "unit_price": "6.00"}])).encode(),
        json.dumps(web_order("r4", lines=[{"sku": "MUG", "quantity": 1, "unit_price": "-6.00"}])).encode(),
        json.dumps(web_order("r5", currency="XXY")).encode(),
        json.dumps(naive).encode(),
    ]
    async with harness.run():
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await harness.send_orders(*bad, web_order("ok"))
        await harness.wait_for_status("ok", "AWAITING_STOCK")
        assert CHANNEL_ORDERS.rejected is not None
        records = await read_topic(harness.bootstrap, harness.topic(CHANNEL_ORDERS.rejected.name), len(bad))

    rejected = {
        base64.b64decode(item["original_base64"]): {
            (reason["field"], reason["code"]) for reason in item["reasons"]
        }
        for item in (json.loads(record.value) for record in records)
    }
    assert rejected == {
        bad[0]: {("$", "not_utf8")},
        bad[1]: {("customer", "missing")},
        bad[2]: {("lines.0.quantity", "greater_than_equal")},
        bad[3]: {("lines.0.unit_price", "value_error")},
        bad[4]: {("currency", "value_error")},
        bad[5]: {("placed_at", "value_error")},
    }
