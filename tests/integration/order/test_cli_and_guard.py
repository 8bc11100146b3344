"""The payload-file command end to end, and the status guard parking an illegal move."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from oms.order.domain.status import Status
from oms.order.repository import lock
from oms.order.services import Orders
from oms.shared.messaging.unit_of_work import UnitOfWork
from tests.integration.order.support import FIXTURES, OrderHarness, product, web_order

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def _publish(harness: OrderHarness, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMS_KAFKA_BOOTSTRAP": harness.bootstrap, "OMS_KAFKA_TOPIC_PREFIX": harness.prefix}
    return subprocess.run(  # noqa: S603 -- this interpreter running our own command
        [sys.executable, "-c", "from oms.order.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


async def test_the_publish_command_sends_a_payload_file_through_its_adapter_and_refuses_a_bad_one(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = OrderHarness(kafka_bootstrap, database_url, topic_prefix)
    woo = str(FIXTURES / "woocommerce_order_v3.json")
    async with harness.run():
        await harness.send_products(
            product("WOO-SINGLE-1", {"channel": "woo-us", "product_id": "93"}), product("Bar3")
        )
        await harness.wait_for_products(2)
        sent = await asyncio.to_thread(
            _publish, harness, "--channel", "woo-us", "--platform", "woocommerce", woo
        )
        wrong = await asyncio.to_thread(
            _publish, harness, "--channel", "woo-us", "--platform", "shopify", woo
        )
        placed = await harness.wait_for_status("727", "AWAITING_STOCK")

    assert sent.returncode == 0, sent.stderr
    assert "published woo-us:727" in sent.stdout
    assert wrong.returncode == 1
    assert "shipping_address: the order has no address to ship to" in wrong.stderr
    assert placed["channel"] == "woo-us"


async def test_an_illegal_transition_is_parked_and_logged_never_applied(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    harness = OrderHarness(kafka_bootstrap, database_url, topic_prefix)
    async with harness.run() as runtime:
        await harness.send_products(product("MUG"))
        await harness.wait_for_products(1)
        await harness.send_orders(web_order("g1", cancelled=True))
        cancelled = await harness.wait_for_status("g1", "CANCELLED")

        assert runtime.pool is not None
        orders = Orders(rules=harness.settings.fraud_rules(), tolerance=harness.settings.totals_tolerance)
        async with runtime.pool.acquire() as conn, conn.transaction():
            uow = UnitOfWork(
                conn, source="order", schema=runtime.schema, names=runtime.names, clock=runtime.clock
            )
            row = await lock(conn, cancelled["order_id"])
            assert row is not None
            after = await orders.change_status(uow, row, Status.AWAITING_STOCK, None, None)
            await uow.flush()

        parked = await harness.fetch("SELECT from_status, to_status FROM parked_transitions")
        still = await harness.wait_for_status("g1", "CANCELLED")

    assert after.status is Status.CANCELLED
    assert [(row["from_status"], row["to_status"]) for row in parked] == [("CANCELLED", "AWAITING_STOCK")]
    assert still["version"] == cancelled["version"]
