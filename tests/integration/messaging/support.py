"""Test services built on the shared runtime: a `Ping` event, handlers that record effects, Kafka helpers."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import SecretStr

from oms.shared.contracts.base import Contract, Id, Money
from oms.shared.contracts.topics import CHANNEL_ORDERS, internal
from oms.shared.db import schema as db
from oms.shared.messaging.subscription import Subscription
from oms.shared.runtime import ServiceDefinition, ServiceRuntime
from oms.shared.settings import DatabaseSettings, KafkaSettings, ServiceSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from aiokafka import ConsumerRecord

    from oms.shared.clock import Clock
    from oms.shared.messaging.records import Incoming
    from oms.shared.messaging.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).parent / "migrations"
PINGS = internal("inventory")  # the internal topic the test services talk over


class Ping(Contract):
    type: Literal["Ping"] = "Ping"
    label: str
    amount: Money


class TestOrder(Contract):
    channel: str
    external_id: Id
    total: Money


class Faults:
    """Labels whose handling fails: `times` failures each, or forever with None; counts every try."""

    def __init__(self) -> None:
        self.remaining: dict[str, int | None] = {}
        self.tries: dict[str, int] = defaultdict(int)
        self.delay = 0.0

    def fail(self, label: str, times: int | None) -> None:
        self.remaining[label] = times

    def check(self, label: str) -> None:
        self.tries[label] += 1
        if label in self.remaining:
            left = self.remaining[label]
            if left is None or left > 0:
                self.remaining[label] = None if left is None else left - 1
                raise RuntimeError(f"handler bug on {label}")


async def record_effects(
    uow: UnitOfWork, messages: Sequence[Incoming[Any]], faults: Faults | None = None
) -> None:
    for message in messages:
        label = str(getattr(message.event, "label", None) or getattr(message.event, "external_id", "?"))
        if faults is not None:
            faults.check(label)
            if faults.delay:
                await asyncio.sleep(faults.delay)
        await uow.conn.execute(
            "INSERT INTO effects (event_id, label, correlation_id, causation_id, headers)"
            " VALUES ($1, $2, $3, $4, $5)",
            message.event_id,
            label,
            message.envelope.correlation_id,
            message.envelope.causation_id,
            json.dumps(message.headers),
        )


def pinged_service(name: str = "inventory", faults: Faults | None = None) -> ServiceDefinition:
    """A service that records every Ping on the internal topic and every valid order on the channel topic."""

    async def handle(uow: UnitOfWork, messages: Sequence[Incoming[Any]]) -> None:
        await record_effects(uow, messages, faults)

    return ServiceDefinition(
        name=name,
        migrations=[MIGRATIONS],
        subscriptions=[
            Subscription(PINGS, {"Ping": Ping}, handle),
            Subscription(CHANNEL_ORDERS, {"": TestOrder}, handle),
        ],
    )


def silent_service(name: str = "order") -> ServiceDefinition:
    return ServiceDefinition(name=name, migrations=[MIGRATIONS])


def settings_for(bootstrap: str, database_url: str, prefix: str, **overrides: Any) -> ServiceSettings:  # noqa: ANN401 -- any setting
    values: dict[str, Any] = {
        "kafka": KafkaSettings(
            bootstrap=bootstrap, topic_prefix=prefix, topic_partitions=overrides.pop("partitions", 2)
        ),
        "database": DatabaseSettings(url=SecretStr(database_url)),
        "http_host": "127.0.0.1",
        "http_port": 0,
        "relay_poll_seconds": 0.2,
        "timer_poll_seconds": 0.1,
        "consumer_max_attempts": 3,
        "shutdown_timeout_seconds": 10,
    }
    values.update(overrides)
    return ServiceSettings(**values)


@contextlib.asynccontextmanager
async def running(
    definition: ServiceDefinition,
    settings: ServiceSettings,
    clock: Clock | None = None,
    *,
    ready: bool = True,
) -> AsyncIterator[ServiceRuntime]:
    """A service runtime in this process; waits until it is ready (consumer assigned when it has one)."""
    runtime = ServiceRuntime(definition, settings, clock)
    task = asyncio.create_task(runtime.run())
    try:
        if ready:
            async with asyncio.timeout(60):
                while not (runtime.readiness.started and all((await runtime.readiness.report()).values())):
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.05)
        yield runtime
    finally:
        runtime.stop()
        await asyncio.wait_for(task, 30)


async def produce(
    bootstrap: str,
    topic: str,
    values: Sequence[bytes],
    *,
    headers: Sequence[dict[str, str]] | None = None,
    key: bytes | None = None,
    partition: int | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for index, value in enumerate(values):
            header_list = [(k, v.encode()) for k, v in (headers[index] if headers else {}).items()]
            await producer.send_and_wait(topic, value, key=key, headers=header_list, partition=partition)
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str, topic: str, expected: int, seconds: float = 30
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a topic from the start, once `expected` of them arrived (more may follow)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(seconds):
            while len(records) < expected:
                batch = await consumer.getmany(timeout_ms=200)
                records += [record for part in batch.values() for record in part]
        batch = await consumer.getmany(timeout_ms=300)  # anything beyond the expected count shows too
        records += [record for part in batch.values() for record in part]
    finally:
        await consumer.stop()
    return records


async def effects(database_url: str, schema: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        return list(await conn.fetch("SELECT * FROM effects ORDER BY seq"))
    finally:
        await conn.close()


async def wait_for_effects(
    database_url: str, schema: str, count: int, seconds: float = 30
) -> list[asyncpg.Record]:
    async with asyncio.timeout(seconds):
        while len(await effects(database_url, schema)) < count:
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # a duplicate arriving late would show now
    return await effects(database_url, schema)


def schema(service: str) -> str:
    return db.schema_for(service)
