"""The demo run: start the suite, seed it, feed real and generated orders, watch them, report."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from oms.cli.demo import scenario
from oms.cli.demo.feed import Feed
from oms.cli.demo.report import Report
from oms.shared.contracts.orders import order_id_for
from oms.shared.contracts.topics import (
    CATALOG_PRODUCTS,
    CHANNEL_ORDERS,
    DEAD_LETTERS,
    INBOUND,
    INVENTORY_ADJUSTMENTS,
    INVENTORY_REORDER,
    PAYMENTS,
    STOCK_LEVELS,
)

if TYPE_CHECKING:
    from rich.console import Console

    from oms.cli.suite import SuiteState

SAMPLES = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "channels"
REAL = [
    ("shopify", "shopify-us", "shopify_rest_order.json", "X-Shopify-Hmac-Sha256", "450789469"),
    ("woocommerce", "woo-us", "woocommerce_order_v3.json", "X-WC-Webhook-Signature", "727"),
]
# Statuses an order passes through; the run waits until none is left in them.
PASSING = ("RECEIVED", "AWAITING_STOCK")


async def run(
    state: SuiteState, bootstrap: str, orders: int, console: Console, samples: Path = SAMPLES
) -> Report:
    feed = Feed(bootstrap, state)
    report = Report()
    try:
        started = time.monotonic()
        await _seed(feed, console)
        report.timings["seeding"] = time.monotonic() - started
        await _real_orders(feed, samples, console)
        stream = scenario.stream(orders)
        report.orders_sent = stream.orders + len(REAL)
        report.messages_sent = len(stream.sends) + len(stream.later) + len(REAL)
        started = time.monotonic()
        await _stream(feed, stream, console)
        report.timings["orders"] = time.monotonic() - started
        started = time.monotonic()
        await _follow_ups(feed, stream, console)
        report.timings["follow-ups"] = time.monotonic() - started
        await _collect(feed, report)
    finally:
        await feed.close()
    return report


async def _seed(feed: Feed, console: Console) -> None:
    console.print("[bold]seeding[/] catalogue, warehouses and stock (some SKUs deliberately scarce)")
    await feed.publish(CATALOG_PRODUCTS.name, [(product["sku"], product) for product in scenario.products()])
    await feed.publish(
        INVENTORY_ADJUSTMENTS.name, [(receipt["sku"], receipt) for receipt in scenario.stock()]
    )
    expected = dict(scenario.SCARCE_UNITS)

    async def seeded() -> bool:
        try:
            for sku, units in expected.items():
                if (await feed.get("inventory", f"/stock/{sku}"))["on_hand"] != units:
                    return False
            await feed.get("order", "/catalogue/Bar3")
        except Exception:  # noqa: BLE001 -- not there yet
            return False
        return True

    await _until(seeded, 120)


async def _real_orders(feed: Feed, samples: Path, console: Console) -> None:
    console.print(
        "[bold]real payloads[/]: the Shopify and WooCommerce samples through the signed webhook receiver"
    )
    for platform, channel, name, header, _ in REAL:
        body = (samples / name).read_bytes()
        digest = hmac.new(feed.state.webhook_secrets[channel].encode(), body, hashlib.sha256).digest()
        signature = base64.b64encode(digest).decode()  # how the platform signs its webhooks
        response = await feed.post_raw("order", f"/webhooks/{platform}/{channel}", body, {header: signature})
        console.print(f"  {channel}: HTTP {response.status_code} {response.json().get('status')}")


async def _stream(feed: Feed, stream: scenario.Stream, console: Console) -> None:
    console.print(
        f"[bold]order stream[/]: {stream.orders} orders from {len(scenario.CHANNELS)} channels at once "
        f"({len(stream.sends)} messages: duplicates, updates before creates, fraud, stock-outs, unpaid)"
    )
    per_channel: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for order in stream.sends:
        per_channel.setdefault(order["channel"], []).append(
            (f"{order['channel']}:{order['external_id']}", order)
        )
    total = stream.orders + len(REAL)
    with _watch(console, total) as watch:
        sending = [
            asyncio.create_task(feed.publish(CHANNEL_ORDERS.name, messages))
            for messages in per_channel.values()
        ]
        await _follow(feed, watch, total, done=lambda: all(task.done() for task in sending))
        await asyncio.gather(*sending)


async def _follow_ups(feed: Feed, stream: scenario.Stream, console: Console) -> None:
    paid = sum(1 for order in stream.later if not order.get("cancelled"))
    cancelled = len(stream.later) - paid
    console.print(
        f"[bold]follow-ups[/]: {paid} late payments, {cancelled} cancellations, a receipt for backorders"
    )
    await feed.publish(CHANNEL_ORDERS.name, [(f"{o['channel']}:{o['external_id']}", o) for o in stream.later])
    await feed.publish(
        INVENTORY_ADJUSTMENTS.name, [(receipt["sku"], receipt) for receipt in scenario.restock()]
    )
    before = await _counts(feed)

    async def settled() -> bool:
        counts = await _counts(feed)
        return counts.get("CANCELLED", 0) >= before.get("CANCELLED", 0) + cancelled and not _passing(counts)

    await _until(settled, 120)
    await asyncio.sleep(2)  # backorders served by the receipt confirm within this


async def _collect(feed: Feed, report: Report) -> None:
    summary = await feed.get("order", "/orders/summary")
    report.by_status = summary["by_status"]
    report.confirmation = _parse_times(summary["confirmation"])
    report.backorders_filled = summary["backorders_filled"]
    for _, channel, _, _, external_id in REAL:
        detail = await feed.get("order", f"/orders/{order_id_for(channel, external_id)}")
        last = detail["timeline"][-1]
        why = (
            f"({last['reason_code']}: {last['reason_message']})" if last["reason_code"] else _why_fine(detail)
        )
        report.real_orders.append(
            {"channel": channel, "external_id": external_id, "status": detail["status"], "why": why}
        )
    payments = await feed.count_topic(PAYMENTS.name)
    report.payment_requests = dict(Counter(f"{p['type']} ({p['reason']})" for p in payments))
    report.reorder_suggestions = await feed.count_topic(INVENTORY_REORDER.name)
    rejected = [topic.rejected.name for topic in INBOUND if topic.rejected is not None]
    report.rejected = sum([len(await feed.count_topic(name)) for name in rejected])
    report.dead_letters = len(await feed.count_topic(DEAD_LETTERS.name))
    levels = await feed.count_topic(STOCK_LEVELS.name)
    lows = [
        min([level["available"]] + [place["available"] for place in level["locations"]]) for level in levels
    ]
    report.lowest_available = min(lows, default=0)
    report.oversold_units = -sum(low for low in lows if low < 0)


def _why_fine(detail: dict[str, Any]) -> str:
    """Why an order went through: its lines were known and in stock, and it was paid or authorized."""
    skus = ", ".join(line["sku"] for line in detail["lines"])
    return f"(every line known and in stock: {skus}; payment {detail['payment_status']})"


def _parse_times(confirmation: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime  # noqa: PLC0415 -- only here

    return {
        key: datetime.fromisoformat(value) if key in ("first_received", "last_confirmed") and value else value
        for key, value in confirmation.items()
    }


async def _counts(feed: Feed) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for row in (await feed.get("order", "/orders/summary"))["by_status"]:
        counts[row["status"]] += row["orders"]
    return dict(counts)


def _passing(counts: dict[str, int]) -> int:
    return sum(counts.get(status, 0) for status in PASSING)


def _watch(console: Console, total: int) -> Progress:
    """A progress bar of orders decided, its text the live count per status."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    progress.add_task("orders decided (final or explained state)", total=total)
    return progress


async def _follow(feed: Feed, progress: Progress, total: int, done: Any) -> None:  # noqa: ANN401 -- a predicate
    """Live counts per status until every order is in a final or explained state and sending is over."""
    task = progress.task_ids[0]
    while True:
        counts = await _counts(feed)
        decided = sum(counts.values()) - _passing(counts)
        progress.update(task, completed=decided, description=_describe(counts))
        if done() and decided >= total:
            return
        await asyncio.sleep(0.5)


def _describe(counts: dict[str, int]) -> str:
    shown = ", ".join(f"{status.lower()} {count}" for status, count in sorted(counts.items()))
    return f"decided ({shown or 'waiting for the first orders'})"


async def _until(condition: Any, seconds: float) -> None:  # noqa: ANN401 -- an async predicate
    async with asyncio.timeout(seconds):
        while not await condition():  # noqa: ASYNC110 -- polling the services' APIs: no event to await
            await asyncio.sleep(0.5)
