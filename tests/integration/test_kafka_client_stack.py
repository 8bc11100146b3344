"""aiokafka against the real broker: idempotent produce, group commits, partition takeover, admin topics."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

if TYPE_CHECKING:
    from aiokafka.admin import AIOKafkaAdminClient

pytestmark = pytest.mark.kafka


async def _create_topic(admin: AIOKafkaAdminClient, name: str, partitions: int, **configs: str) -> None:
    """Create the topic and wait until the broker's metadata lists all its partitions."""
    await admin.create_topics([NewTopic(name, partitions, 1, topic_configs=configs or None)])
    async with asyncio.timeout(10):
        # Polling the broker's metadata: there is no event to wait on.
        while len((await admin.describe_topics([name]))[0]["partitions"]) < partitions:
            await asyncio.sleep(0.05)


def _consumer(bootstrap: str, topic: str, group: str | None, **options: object) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        heartbeat_interval_ms=300,
        **options,
    )


async def _drain(consumer: AIOKafkaConsumer, expected: int, seconds: float = 20) -> list[tuple[bytes, bytes]]:
    """Read until `expected` records arrived (or time runs out); returns (key, value) pairs in order."""
    seen: list[tuple[bytes, bytes]] = []
    async with asyncio.timeout(seconds):
        while len(seen) < expected:
            batches = await consumer.getmany(timeout_ms=200)
            seen += [(record.key, record.value) for records in batches.values() for record in records]
    return seen


async def test_idempotent_producer_writes_with_acks_all_and_keeps_per_key_order(
    kafka_bootstrap: str, kafka_admin: AIOKafkaAdminClient, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}orders"
    await _create_topic(kafka_admin, topic, 3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        # The broker handed this producer an id at start-up: idempotent produce is on (private API,
        # the only place aiokafka exposes it).
        assert producer._txn_manager is not None  # noqa: SLF001
        assert producer._txn_manager.producer_id >= 0  # noqa: SLF001
        sends = [
            await producer.send(topic, key=f"order-{n % 5}".encode(), value=str(n).encode())
            for n in range(100)
        ]
        offsets = [(await sent).offset for sent in sends]
    finally:
        await producer.stop()
    assert len(offsets) == 100

    consumer = _consumer(kafka_bootstrap, topic, group=None)
    await consumer.start()
    try:
        received = await _drain(consumer, 100)
    finally:
        await consumer.stop()
    assert sorted(int(value) for _, value in received) == list(range(100))
    for key in {key for key, _ in received}:
        per_key = [int(value) for k, value in received if k == key]
        assert per_key == sorted(per_key)


async def test_a_consumer_group_commits_the_offsets_it_processed(
    kafka_bootstrap: str, kafka_admin: AIOKafkaAdminClient, topic_prefix: str
) -> None:
    topic, group = f"{topic_prefix}events", f"{topic_prefix}group"
    await _create_topic(kafka_admin, topic, 2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for n in range(10):
            await producer.send_and_wait(topic, key=str(n).encode(), value=b"first")

        first = _consumer(kafka_bootstrap, topic, group)
        await first.start()
        try:
            assert len(await _drain(first, 10)) == 10
            await first.commit()
        finally:
            await first.stop()

        committed = await kafka_admin.list_consumer_group_offsets(group)
        assert sum(meta.offset for meta in committed.values()) == 10

        await producer.send_and_wait(topic, key=b"late", value=b"second")
        again = _consumer(kafka_bootstrap, topic, group)
        await again.start()
        try:
            assert await _drain(again, 1) == [(b"late", b"second")]
            assert await again.getmany(timeout_ms=500) == {}
        finally:
            await again.stop()
    finally:
        await producer.stop()


async def _wait_for_assignment(
    consumers: list[AIOKafkaConsumer], wanted: list[int], seconds: float = 30
) -> list[set[TopicPartition]]:
    """Poll every consumer until each holds the wanted number of partitions."""
    async with asyncio.timeout(seconds):
        while True:
            await asyncio.gather(*(consumer.getmany(timeout_ms=100) for consumer in consumers))
            held = [consumer.assignment() for consumer in consumers]
            if [len(partitions) for partitions in held] == wanted:
                return held


async def test_a_second_consumer_takes_over_every_partition_when_the_first_leaves(
    kafka_bootstrap: str, kafka_admin: AIOKafkaAdminClient, topic_prefix: str
) -> None:
    topic, group = f"{topic_prefix}stock", f"{topic_prefix}group"
    await _create_topic(kafka_admin, topic, 4)
    first = _consumer(kafka_bootstrap, topic, group)
    second = _consumer(kafka_bootstrap, topic, group)
    await first.start()
    await second.start()
    try:
        split = await _wait_for_assignment([first, second], [2, 2])
        assert split[0].isdisjoint(split[1])
        assert {tp.partition for tp in split[0] | split[1]} == {0, 1, 2, 3}

        await first.stop()
        (taken_over,) = await _wait_for_assignment([second], [4])
        assert {tp.partition for tp in taken_over} == {0, 1, 2, 3}

        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            for partition in range(4):
                await producer.send_and_wait(topic, value=f"p{partition}".encode(), partition=partition)
        finally:
            await producer.stop()
        received = await _drain(second, 4)
        assert sorted(value for _, value in received) == [b"p0", b"p1", b"p2", b"p3"]
    finally:
        await second.stop()


async def test_admin_creates_a_partitioned_topic_and_a_compacted_topic(
    kafka_admin: AIOKafkaAdminClient, topic_prefix: str
) -> None:
    partitioned, compacted = f"{topic_prefix}orders", f"{topic_prefix}stock-levels"
    await _create_topic(kafka_admin, partitioned, 6)
    await _create_topic(kafka_admin, compacted, 3, **{"cleanup.policy": "compact"})

    topics = await kafka_admin.describe_topics([partitioned, compacted])
    described = {topic["topic"]: topic for topic in topics}
    assert len(described[partitioned]["partitions"]) == 6
    assert len(described[compacted]["partitions"]) == 3

    responses = await kafka_admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in (partitioned, compacted)]
    )
    policies = {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}["cleanup.policy"]
        for response in responses
        for resource in response.resources
    }
    assert policies == {partitioned: "delete", compacted: "compact"}
