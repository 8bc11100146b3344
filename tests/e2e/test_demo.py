"""The main job, smaller: every service its own process, real and generated orders, the report's numbers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from rich.console import Console
from typer.testing import CliRunner

from oms.cli import suite
from oms.cli.demo.run import run
from oms.cli.main import DEMO_SETTINGS, app
from oms.shared.contracts.orders import order_id_for
from oms.shared.contracts.topics import CHANNEL_ORDERS
from tests.integration.messaging.support import produce

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


async def test_the_demo_accounts_for_every_order_oversells_nothing_and_shows_the_real_orders(
    kafka_bootstrap: str, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    state = await asyncio.to_thread(
        suite.start,
        tmp_path,
        kafka_bootstrap=kafka_bootstrap,
        database_url=database_url,
        settings=DEMO_SETTINGS,
        topic_prefix=topic_prefix,
        say=lambda _: None,
    )
    try:
        await asyncio.to_thread(suite.wait_ready, state, tmp_path)
        report = await run(state, kafka_bootstrap, 600, Console(quiet=True))
        await _the_operator_cli_works_on_the_running_suite(tmp_path, kafka_bootstrap, topic_prefix)
    finally:
        await asyncio.to_thread(suite.stop, tmp_path, lambda _: None)

    statuses = {(row["status"], row["reason_code"]): row["orders"] for row in report.by_status}
    assert report.accounted == report.orders_sent == 602
    assert report.unexplained == 0
    assert report.oversold_units == 0
    assert report.lowest_available >= 0
    assert report.dead_letters == 0
    assert report.rejected == 0
    assert statuses[("CONFIRMED", None)] > 500
    assert statuses[("ON_HOLD", "fraud_review")] > 0
    assert statuses[("CANCELLED", "cancelled")] > 0
    assert {(r["channel"], r["status"]) for r in report.real_orders} == {
        ("shopify-us", "ON_HOLD"),
        ("woo-us", "CONFIRMED"),
    }
    assert "totals_mismatch" in next(r["why"] for r in report.real_orders if r["channel"] == "shopify-us")
    assert report.confirmation["confirmed"] >= statuses[("CONFIRMED", None)]


async def _the_operator_cli_works_on_the_running_suite(state_dir: Path, bootstrap: str, prefix: str) -> None:
    def oms(*args: str) -> str:
        result = CliRunner().invoke(app, [*args, "--state-dir", str(state_dir)])
        assert result.exit_code == 0, result.output
        return result.output

    held = await asyncio.to_thread(oms, "orders", "list", "--status", "ON_HOLD", "--limit", "200")
    assert "fraud_review" in held
    shown = await asyncio.to_thread(oms, "orders", "show", order_id_for("shopify-us", "450789469"))
    assert "totals_mismatch" in shown
    stock = await asyncio.to_thread(oms, "stock", "show", "LAMP-BRASS")
    assert "york" in stock
    cancelled = await asyncio.to_thread(oms, "orders", "list", "--status", "CANCELLED", "--limit", "1")
    cancelled_id = cancelled.split()[0]
    assert "payment: " in await asyncio.to_thread(oms, "orders", "show", cancelled_id)

    await produce(bootstrap, f"{prefix}{CHANNEL_ORDERS.name}", [b"{not json"], key=b"web:bad")
    for _ in range(60):
        listed = await asyncio.to_thread(oms, "dead-letters", "list")
        if "1 message(s)" in listed:
            break
        await asyncio.sleep(0.5)
    assert "Rejected" in listed
    assert "the body is not JSON" in listed
