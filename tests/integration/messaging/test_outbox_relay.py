"""Outbox and relay on real Kafka and PostgreSQL: delivery, headers, crash safety, one active relay."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from oms.shared.clock import SystemClock
from oms.shared.contracts.envelope import Envelope
from oms.shared.db import schema as db
from oms.shared.messaging.kafka import idempotent_producer
from oms.shared.messaging.naming import TopicNames
from oms.shared.messaging.relay import OutboxRelay
from oms.shared.messaging.unit_of_work import UnitOfWork
from tests.integration.messaging.support import (
    MIGRATIONS,
    PINGS,
    Ping,
    pinged_service,
    read_topic,
    running,
    schema,
    settings_for,
    silent_service,
    wait_for_effects,
)

if TYPE_CHECKING:
    from oms.shared.db.types import Connection
    from oms.shared.runtime import ServiceRuntime

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def _write_outbox(
    runtime: ServiceRuntime, labels: list[str], cause: Envelope | None = None
) -> list[Envelope]:
    assert runtime.pool is not None
    async with runtime.pool.acquire() as conn, conn.transaction():
        return await _stage(conn, labels, runtime.names, cause)


async def _write_outbox_while_down(database_url: str, prefix: str, labels: list[str]) -> None:
    """Commit outbox rows of the order service while no relay of it runs (crashed, or not started yet)."""
    await db.migrate(database_url, schema("order"), [MIGRATIONS])
    conn = await db.connect(database_url, schema("order"), application="test")
    try:
        async with conn.transaction():
            await _stage(conn, labels, TopicNames(prefix), None)
    finally:
        await conn.close()


async def _stage(
    conn: Connection, labels: list[str], names: TopicNames, cause: Envelope | None
) -> list[Envelope]:
    uow = UnitOfWork(conn, source="order", schema=schema("order"), names=names, clock=SystemClock())
    envelopes = [
        uow.publish(
            PINGS, Ping(label=label, amount=Decimal("6.00")), key="order-1", order_id="order-1", cause=cause
        )
        for label in labels
    ]
    await uow.flush()
    return envelopes


async def test_an_event_in_one_services_outbox_reaches_another_service_with_headers_and_correlation(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    settings = settings_for(kafka_bootstrap, database_url, topic_prefix)
    cause = Envelope.new("OrderPlaced", source="test", order_id="order-1")
    async with (
        running(pinged_service("inventory"), settings),
        running(silent_service("order"), settings) as order,
    ):
        (sent,) = await _write_outbox(order, ["hello"], cause=cause)
        (effect,) = await wait_for_effects(database_url, schema("inventory"), 1)

    headers = json.loads(effect["headers"])
    assert effect["event_id"] == sent.event_id == headers["ce_id"]
    assert headers["ce_type"] == "Ping"
    assert headers["ce_source"] == "order"
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_subject"] == "order-1"
    assert effect["correlation_id"] == cause.correlation_id == headers["ce_correlationid"]
    assert effect["causation_id"] == cause.event_id == headers["ce_causationid"]
    assert effect["label"] == "hello"


async def test_committed_rows_are_all_published_after_a_relay_restart(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    settings = settings_for(kafka_bootstrap, database_url, topic_prefix)
    await _write_outbox_while_down(database_url, topic_prefix, [f"m{n}" for n in range(50)])
    # The service comes back with a new relay: everything committed before goes out, in order.
    async with running(silent_service("order"), settings):
        records = await read_topic(kafka_bootstrap, f"{topic_prefix}{PINGS.name}", 50)
    assert [json.loads(record.value)["label"] for record in records] == [f"m{n}" for n in range(50)]


class _KilledBeforeDelete(OutboxRelay):
    """A relay that dies after Kafka acknowledged the batch but before its rows are deleted."""

    async def _delete_published(self, conn: Connection, ids: list[int]) -> None:
        raise asyncio.CancelledError


async def test_a_relay_killed_between_publish_and_delete_resends_and_the_inbox_keeps_one_effect(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    settings = settings_for(kafka_bootstrap, database_url, topic_prefix)
    await _write_outbox_while_down(database_url, topic_prefix, [f"m{n}" for n in range(20)])
    async with running(pinged_service("inventory"), settings):
        producer = idempotent_producer(settings.kafka, client_id="test-relay")
        await producer.start()
        try:
            doomed = _relay(_KilledBeforeDelete, database_url, producer)
            conn = await db.connect(database_url, schema("order"), application="test-relay")
            with pytest.raises(asyncio.CancelledError):
                await doomed.publish_round(conn)
            await conn.close()
            assert await _outbox_rows(database_url) == 20  # published, but not marked as sent

            conn = await db.connect(database_url, schema("order"), application="test-relay")
            assert await _relay(OutboxRelay, database_url, producer).publish_round(conn) == 20
            await conn.close()
        finally:
            await producer.stop()

        on_topic = await read_topic(kafka_bootstrap, f"{topic_prefix}{PINGS.name}", 40)
        applied = await wait_for_effects(database_url, schema("inventory"), 20)

    assert len(on_topic) == 40  # every event went out twice ...
    assert len(applied) == 20  # ... and had one effect
    assert len({row["event_id"] for row in applied}) == 20
    assert await _outbox_rows(database_url) == 0


async def test_one_relay_is_active_and_a_standby_takes_over_when_it_goes(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    settings = settings_for(kafka_bootstrap, database_url, topic_prefix)
    async with (
        running(silent_service("order"), settings) as first,
        running(silent_service("order"), settings) as second,
    ):
        await asyncio.sleep(0.5)
        assert first.relay is not None
        assert second.relay is not None
        assert [first.relay.active, second.relay.active] == [True, False]
        first.stop()  # its relay lets go of the lock when the process stops
        async with asyncio.timeout(10):
            while not second.relay.active:
                await asyncio.sleep(0.05)
        await _write_outbox(second, ["after-failover"])
        records = await read_topic(kafka_bootstrap, f"{topic_prefix}{PINGS.name}", 1)
    assert [json.loads(record.value)["label"] for record in records] == ["after-failover"]


def _relay(kind: type[OutboxRelay], database_url: str, producer: Any) -> OutboxRelay:  # noqa: ANN401 -- a producer
    return kind(
        service="order",
        database_url=database_url,
        schema=schema("order"),
        producer=producer,
        batch_max=100,
        poll_seconds=0.2,
    )


async def _outbox_rows(database_url: str) -> int:
    conn = await db.connect(database_url, schema("order"), application="test")
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await conn.close()


async def test_a_row_the_broker_refuses_for_good_is_parked_and_the_rows_after_it_still_go_out(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    settings = settings_for(kafka_bootstrap, database_url, topic_prefix)
    await db.migrate(database_url, schema("order"), [MIGRATIONS])
    conn = await db.connect(database_url, schema("order"), application="test")
    try:
        async with conn.transaction():
            await _stage(conn, ["before"], TopicNames(topic_prefix), None)
            uow = UnitOfWork(
                conn,
                source="order",
                schema=schema("order"),
                names=TopicNames(topic_prefix),
                clock=SystemClock(),
            )
            uow.stage(PINGS, "order-1", b"x" * 3_000_000, {"ce_id": "too-big"})  # over the producer's 1 MB
            await uow.flush()
            await _stage(conn, ["after"], TopicNames(topic_prefix), None)
    finally:
        await conn.close()

    async with running(silent_service("order"), settings):
        records = await read_topic(kafka_bootstrap, f"{topic_prefix}{PINGS.name}", 2)
        await asyncio.sleep(0.5)
        conn = await db.connect(database_url, schema("order"), application="test")
        parked = await conn.fetch("SELECT headers->>'ce_id' AS id, error FROM outbox_parked")
        left = await conn.fetchval("SELECT count(*) FROM outbox")
        await conn.close()

    assert [json.loads(record.value)["label"] for record in records] == ["before", "after"]
    assert [row["id"] for row in parked] == ["too-big"]
    assert "MessageSizeTooLarge" in parked[0]["error"]
    assert left == 0
