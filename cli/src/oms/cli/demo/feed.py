"""How the demo talks to the suite: Kafka producers and readers for topics, HTTP for APIs and webhooks."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from oms.shared.messaging.kafka import idempotent_producer
from oms.shared.settings import KafkaSettings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from oms.cli.suite import SuiteState


class Feed:
    def __init__(self, bootstrap: str, state: SuiteState) -> None:
        self.kafka = KafkaSettings(bootstrap=bootstrap, topic_prefix=state.topic_prefix)
        self.state = state
        self.http = httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {state.api_token}"})

    def topic(self, name: str) -> str:
        return f"{self.kafka.topic_prefix}{name}"

    async def publish(self, topic: str, messages: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Send (key, JSON body) pairs in order through one idempotent producer; returns when all are in."""
        producer = idempotent_producer(self.kafka, client_id="oms-demo")
        await producer.start()
        try:
            sent = [
                await producer.send(self.topic(topic), json.dumps(body).encode(), key=key.encode())
                for key, body in messages
            ]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

    async def get(self, service: str, path: str) -> Any:  # noqa: ANN401 -- JSON
        response = await self.http.get(f"{self.state.url(service)}{path}")
        response.raise_for_status()
        return response.json()

    async def post_raw(self, service: str, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post(f"{self.state.url(service)}{path}", content=body, headers=headers)

    async def count_topic(self, name: str) -> list[dict[str, Any]]:
        """Every message now on a topic (from its start to its current end), decoded."""
        consumer = AIOKafkaConsumer(
            self.topic(name),
            bootstrap_servers=self.kafka.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        found: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(30):
                while not consumer.assignment():
                    found += _decoded(await consumer.getmany(timeout_ms=100))
                ends = await consumer.end_offsets(list(consumer.assignment()))
                while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                    found += _decoded(await consumer.getmany(timeout_ms=500))
        finally:
            await consumer.stop()
        return found

    async def close(self) -> None:
        await self.http.aclose()


def _decoded(batch: dict[TopicPartition, list[Any]]) -> list[dict[str, Any]]:
    return [json.loads(record.value) for records in batch.values() for record in records]
