"""Kafka clients configured once: the idempotent producer and topic creation at start-up."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from oms.shared.contracts.topics import Topic, all_topics
from oms.shared.logging import get_logger

if TYPE_CHECKING:
    from collections.abc import Iterable

    from oms.shared.messaging.naming import TopicNames
    from oms.shared.settings import KafkaSettings

log = get_logger(__name__)


def idempotent_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    """acks=all with idempotence: a retried send never duplicates or reorders within a partition."""
    return AIOKafkaProducer(
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,  # a couple of milliseconds gathers a relay round into few requests
        max_batch_size=512 * 1024,
        request_timeout_ms=30_000,
        **settings.client_options(),
    )


async def ensure_topics(
    settings: KafkaSettings, names: TopicNames, topics: Iterable[Topic] | None = None
) -> list[str]:
    """Create the suite's missing topics with explicit partitions and compaction; returns their names.

    Existing topics are left as they are (a partition count is never changed here).
    """
    wanted = list(topics if topics is not None else all_topics())
    admin = AIOKafkaAdminClient(client_id="oms-topics", **settings.client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in wanted if names.physical(topic) not in existing]
        new_topics = [
            NewTopic(
                names.physical(topic),
                settings.topic_partitions,
                settings.topic_replication,
                topic_configs={"cleanup.policy": "compact"} if topic.compacted else None,
            )
            for topic in missing
        ]
        if new_topics:
            await _create(admin, new_topics)
            await _wait_for_metadata(admin, [topic.name for topic in new_topics], settings.topic_partitions)
            log.info("topics created", topics=[topic.name for topic in new_topics])
        return [topic.name for topic in new_topics]
    finally:
        await admin.close()


async def _create(admin: AIOKafkaAdminClient, new_topics: list[NewTopic]) -> None:
    """Create topics; one that another service created at the same moment is fine, any other error is not."""
    response = await admin.create_topics(new_topics)
    for name, code, *message in response.topic_errors:
        if code not in (0, TopicAlreadyExistsError.errno):
            raise RuntimeError(f"creating topic {name} failed: error {code} {message}")


async def _wait_for_metadata(admin: AIOKafkaAdminClient, names: list[str], partitions: int) -> None:
    """Creation returns before every partition has a leader; producers sent too early would fail."""
    async with asyncio.timeout(30):
        while True:
            described = await admin.describe_topics(names)
            if all(len(topic["partitions"]) >= partitions for topic in described):
                return
            await asyncio.sleep(0.1)
