"""The webhook receiver (signed Shopify and WooCommerce deliveries) and the operator API, end to end."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import TYPE_CHECKING, Any

import pytest

from oms.order.adapters.common import base64_hmac_sha256
from oms.shared.contracts.topics import CHANNEL_ORDERS
from tests.integration.messaging.support import read_topic
from tests.integration.order.support import FIXTURES, OrderHarness, http, product, web_order

if TYPE_CHECKING:
    from oms.shared.runtime import ServiceRuntime

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TOKEN = "operator-token"  # noqa: S105 -- a test credential
SECRETS = {"shopify-us": "shpss_test", "woo-us": "woo_test"}


@pytest.fixture
def harness(kafka_bootstrap: str, database_url: str, topic_prefix: str) -> OrderHarness:
    return OrderHarness(
        kafka_bootstrap, database_url, topic_prefix, api_tokens=[TOKEN], webhook_secrets=SECRETS
    )


async def _post(runtime: ServiceRuntime, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    assert runtime.http is not None
    return await asyncio.to_thread(http, runtime.http.port, "POST", path, body, headers)


def _signed(secret: str, body: bytes, header: str, delivery: str | None = None) -> dict[str, str]:
    headers = {header: base64_hmac_sha256(secret, body), "Content-Type": "application/json"}
    if delivery:
        headers["X-Shopify-Webhook-Id"] = delivery
        headers["X-WC-Webhook-Delivery-ID"] = delivery
    return headers


async def test_signed_shopify_and_woocommerce_webhooks_become_orders_and_bad_signatures_are_refused(
    harness: OrderHarness,
) -> None:
    shopify_body = (
        (FIXTURES / "shopify_rest_order.json").read_bytes().replace(b"450789469", b"820982911946154508")
    )
    woo_body = (FIXTURES / "woocommerce_order_v3.json").read_bytes()
    async with harness.run() as runtime:
        await harness.send_products(
            *(product(f"IPOD2008{colour}") for colour in ("GREEN", "RED", "BLACK")),
            product("WOO-SINGLE-1", {"channel": "woo-us", "product_id": "93"}),
            product("Bar3"),
        )
        await harness.wait_for_products(5)
        shopify_headers = _signed(SECRETS["shopify-us"], shopify_body, "X-Shopify-Hmac-Sha256", "d-1")
        for _ in range(2):  # the platform delivers the same webhook twice
            code, answer = await _post(runtime, "/webhooks/shopify/shopify-us", shopify_body, shopify_headers)
            assert (code, answer["status"]) == (202, "accepted")
        woo_headers = _signed(SECRETS["woo-us"], woo_body, "X-WC-Webhook-Signature")
        code, _ = await _post(runtime, "/webhooks/woocommerce/woo-us", woo_body, woo_headers)
        assert code == 202
        forged = _signed("wrong-secret", woo_body, "X-WC-Webhook-Signature")
        assert (await _post(runtime, "/webhooks/woocommerce/woo-us", woo_body, forged))[0] == 401
        assert (await _post(runtime, "/webhooks/shopify/unknown", shopify_body, shopify_headers))[0] == 404

        held = await harness.wait_for_status("820982911946154508", "ON_HOLD")
        await harness.wait_for_status("727", "AWAITING_STOCK")
        await asyncio.sleep(1)
        orders = await harness.fetch("SELECT external_id FROM orders ORDER BY external_id")
        statuses = await harness.statuses(4)

    assert held["reason_code"] == "totals_mismatch"
    assert [row["external_id"] for row in orders] == ["727", "820982911946154508"]
    assert {event["external_id"] for event in statuses} == {"727", "820982911946154508"}


async def test_a_signed_body_that_is_not_an_order_goes_to_the_rejected_topic_with_its_original_bytes(
    harness: OrderHarness,
) -> None:
    body = json.dumps({"id": 1, "line_items": [], "currency": "USD"}).encode()
    async with harness.run() as runtime:
        code, answer = await _post(
            runtime,
            "/webhooks/shopify/shopify-us",
            body,
            _signed(SECRETS["shopify-us"], body, "X-Shopify-Hmac-Sha256"),
        )
        assert CHANNEL_ORDERS.rejected is not None
        (record,) = await read_topic(harness.bootstrap, harness.topic(CHANNEL_ORDERS.rejected.name), 1)

    assert (code, answer["status"]) == (202, "rejected")
    rejected = json.loads(record.value)
    assert base64.b64decode(rejected["original_base64"]) == body
    assert rejected["source_topic"] == "webhook:shopify-us"
    assert rejected["reasons"]


async def test_the_operator_api_lists_shows_releases_and_cancels_orders_only_with_a_token(
    harness: OrderHarness,
) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    mismatch = {"subtotal": "12.00", "shipping": "3.95", "tax": "0", "discount": "0", "total": "99"}
    async with harness.run() as runtime:
        assert runtime.http is not None
        port = runtime.http.port
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await harness.send_orders(web_order("h1", totals=mismatch), web_order("p1"))
        held = await harness.wait_for_status("h1", "ON_HOLD")
        placed = await harness.wait_for_status("p1", "AWAITING_STOCK")

        assert (await asyncio.to_thread(http, port, "GET", "/orders"))[0] == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await asyncio.to_thread(http, port, "GET", "/orders", None, wrong))[0] == 401
        code, on_hold = await asyncio.to_thread(http, port, "GET", "/orders?status=ON_HOLD", None, auth)
        assert code == 200
        assert [order["external_id"] for order in on_hold] == ["h1"]
        code, detail = await asyncio.to_thread(http, port, "GET", f"/orders/{held['order_id']}", None, auth)
        assert code == 200
        assert [(entry["status"], entry["reason_code"]) for entry in detail["timeline"]] == [
            ("RECEIVED", None),
            ("ON_HOLD", "totals_mismatch"),
        ]
        assert detail["order"]["external_id"] == "h1"

        body = json.dumps({"requested_by": "ops@example.com", "reason": "checked with the customer"}).encode()
        code, accepted = await _post(runtime, f"/orders/{held['order_id']}/release", body, auth)
        assert (code, accepted["type"]) == (202, "ReleaseHold")
        await harness.wait_for_status("h1", "AWAITING_STOCK")
        code, _ = await _post(runtime, f"/orders/{placed['order_id']}/cancel", body, auth)
        assert code == 202
        cancelled = await harness.wait_for_status("p1", "CANCELLED")
        code, _ = await asyncio.to_thread(http, port, "GET", "/orders/nope", None, auth)

    assert cancelled["reason_message"] == "checked with the customer"
    assert code == 404


async def test_a_repeated_command_on_the_command_topic_acts_once(harness: OrderHarness) -> None:
    async with harness.run():
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await harness.send_orders(web_order("c1"))
        placed = await harness.wait_for_status("c1", "AWAITING_STOCK")
        command = {
            "command_id": "cmd-1",
            "type": "CancelOrder",
            "order_id": placed["order_id"],
            "requested_by": "cs",
        }
        await harness.send_command(command)
        await harness.send_command(command)
        await harness.wait_for_status("c1", "CANCELLED")
        await asyncio.sleep(1)
        commands = await harness.fetch("SELECT command_id, outcome FROM order_commands")
        timeline = await harness.fetch("SELECT status FROM order_timeline ORDER BY version")

    assert [(row["command_id"], row["outcome"]) for row in commands] == [("cmd-1", "cancelled")]
    assert [row["status"] for row in timeline] == ["RECEIVED", "AWAITING_STOCK", "CANCELLED"]
