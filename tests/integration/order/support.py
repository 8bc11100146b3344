"""The order service in this process, and helpers to feed it channel orders, products and commands."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from pydantic import SecretStr

from oms.order.app import definition
from oms.order.settings import OrderSettings
from oms.shared.contracts.base import loads_exact
from oms.shared.contracts.topics import CATALOG_PRODUCTS, CHANNEL_ORDERS, ORDER_COMMANDS, ORDER_STATUS
from oms.shared.settings import DatabaseSettings, KafkaSettings
from tests.integration.messaging.support import produce, read_topic, running

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from oms.shared.runtime import ServiceRuntime

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "channels"


def fixture(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = loads_exact((FIXTURES / name).read_bytes())
    return payload


class OrderHarness:
    """One test's order service: its Kafka topics (by prefix) and its database."""

    def __init__(self, bootstrap: str, database_url: str, prefix: str, **settings: Any) -> None:  # noqa: ANN401 -- any setting
        self.bootstrap = bootstrap
        self.database_url = database_url
        self.prefix = prefix
        values: dict[str, Any] = {
            "kafka": KafkaSettings(bootstrap=bootstrap, topic_prefix=prefix, topic_partitions=2),
            "database": DatabaseSettings(url=SecretStr(database_url)),
            "http_host": "127.0.0.1",
            "http_port": 0,
            "relay_poll_seconds": 0.2,
            "fraud_hold_when_countries_differ": False,
        }
        self.settings = OrderSettings(**(values | settings))

    def run(self) -> AbstractAsyncContextManager[ServiceRuntime]:
        return running(definition(self.settings), self.settings)

    async def send_orders(self, *orders: dict[str, Any] | bytes, partition: int | None = None) -> None:
        for order in orders:
            value = order if isinstance(order, bytes) else json.dumps(order, default=str).encode()
            key = None if isinstance(order, bytes) else f"{order['channel']}:{order['external_id']}".encode()
            await produce(
                self.bootstrap, self.topic(CHANNEL_ORDERS.name), [value], key=key, partition=partition
            )

    async def send_products(self, *products: dict[str, Any]) -> None:
        for product in products:
            value = json.dumps(product).encode()
            await produce(
                self.bootstrap, self.topic(CATALOG_PRODUCTS.name), [value], key=product["sku"].encode()
            )

    async def send_command(self, command: dict[str, Any]) -> None:
        value = json.dumps(command).encode()
        await produce(
            self.bootstrap, self.topic(ORDER_COMMANDS.name), [value], key=command["order_id"].encode()
        )

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def statuses(self, expected: int) -> list[dict[str, Any]]:
        records = await read_topic(self.bootstrap, self.topic(ORDER_STATUS.name), expected)
        return [json.loads(record.value) for record in records]

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:  # noqa: ANN401 -- query parameters
        conn = await asyncpg.connect(self.database_url, server_settings={"search_path": "oms_order"})
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    async def wait_for_status(self, external_id: str, status: str, seconds: float = 30) -> asyncpg.Record:
        async with asyncio.timeout(seconds):
            while True:
                rows = await self.fetch("SELECT * FROM orders WHERE external_id = $1", external_id)
                if rows and rows[0]["status"] == status:
                    return rows[0]
                await asyncio.sleep(0.1)

    async def wait_for_products(self, count: int) -> None:
        async with asyncio.timeout(30):
            while len(await self.fetch("SELECT sku FROM catalogue_products")) < count:
                await asyncio.sleep(0.1)


def product(sku: str, *listings: dict[str, str], active: bool = True) -> dict[str, Any]:
    return {
        "sku": sku,
        "title": sku.title(),
        "weight_grams": 250,
        "dimensions_mm": {"length": 100, "width": 80, "height": 60},
        "channel_listings": list(listings),
        "active": active,
    }


def web_order(external_id: str, **changes: Any) -> dict[str, Any]:  # noqa: ANN401 -- any top-level field
    order: dict[str, Any] = {
        "channel": "web-uk",
        "external_id": external_id,
        "updated_at": "2026-12-01T10:00:00Z",
        "placed_at": "2026-12-01T10:00:00Z",
        "currency": "GBP",
        "customer": {"email": "buyer@example.com", "name": "Test Buyer"},
        "shipping_address": {
            "name": "Test Buyer",
            "line1": "1 Example Street",
            "city": "Leeds",
            "postal_code": "LS1 1AA",
            "country_code": "GB",
        },
        "lines": [{"sku": "MUG", "quantity": 2, "unit_price": "6.00"}],
        "shipping": {"service_level": "standard", "price": "3.95"},
        "totals": {"subtotal": "12.00", "shipping": "3.95", "tax": "0", "discount": "0", "total": "15.95"},
        "payment": {"status": "paid", "amount": "15.95"},
    }
    return order | changes


def http(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One request to a service on this machine; returns the status and the decoded JSON body."""
    import urllib.error  # noqa: PLC0415 -- test helper
    import urllib.request  # noqa: PLC0415

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 -- our own loopback server
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
