"""Outages are waited out: started before Kafka, ready with it; a database restart loses nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING

import pytest

from oms.devstack.paths import StackPaths
from oms.devstack.stack import LocalStack
from tests.integration.messaging.support import (
    PINGS,
    pinged_service,
    produce,
    running,
    schema,
    settings_for,
    wait_for_effects,
)
from tests.integration.processes import ServiceProcess

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A Kafka or PostgreSQL of the test's own, to stop and start without disturbing the other tests."""
    state_dir = tmp_path_factory.mktemp("outage-stack")
    state_dir.chmod(0o755)  # the database server runs as an unprivileged user
    stack = LocalStack(StackPaths.from_env(state_dir), say=lambda _: None)
    yield stack
    stack.destroy()


async def test_a_service_started_while_kafka_is_down_becomes_ready_once_kafka_is_up(
    own_stack: LocalStack, database_url: str, tmp_path: Path
) -> None:
    bootstrap = (await asyncio.to_thread(own_stack.start, with_postgres=False)).kafka.bootstrap
    await asyncio.to_thread(own_stack.stop, with_postgres=False)  # its port is remembered for the next start

    process = ServiceProcess.start(
        "notify", tmp_path, OMS_KAFKA_BOOTSTRAP=bootstrap, OMS_DATABASE_URL=database_url
    )
    try:
        await process.wait_for("/livez", 200, seconds=30)
        await asyncio.sleep(3)
        status, body = process.get("/readyz")
        assert status == 503
        assert body["ready"] is False
        assert process.process.poll() is None  # waiting, not crashed

        await asyncio.to_thread(own_stack.start, with_postgres=False)
        await process.wait_for("/readyz", 200, seconds=60)
        code, _ = await process.terminate(seconds=15)
    finally:
        process.kill()
    assert code == 0, process.output()
    assert '"waiting for infrastructure"' in process.output()


async def test_a_postgres_restart_during_consumption_loses_nothing_and_duplicates_nothing(
    own_stack: LocalStack, kafka_bootstrap: str, topic_prefix: str
) -> None:
    database_url = (await asyncio.to_thread(own_stack.start, with_kafka=False)).postgres.url
    settings = settings_for(kafka_bootstrap, database_url, topic_prefix, partitions=3)
    labels = [f"m{n}" for n in range(300)]
    messages = [json.dumps({"type": "Ping", "label": label, "amount": "1"}).encode() for label in labels]
    headers = [{"ce_id": str(uuid.uuid4()), "ce_type": "Ping"} for _ in labels]
    topic = f"{topic_prefix}{PINGS.name}"

    async with running(pinged_service(), settings):
        await produce(kafka_bootstrap, topic, messages[:100], headers=headers[:100])
        await wait_for_effects(database_url, schema("inventory"), 50)
        sending = asyncio.create_task(produce(kafka_bootstrap, topic, messages[100:], headers=headers[100:]))
        await asyncio.to_thread(own_stack.stop, with_kafka=False)
        await asyncio.sleep(2)
        await asyncio.to_thread(own_stack.start, with_kafka=False)
        await sending
        applied = await wait_for_effects(database_url, schema("inventory"), 300, seconds=90)

    assert len(applied) == 300
    assert sorted(row["label"] for row in applied) == sorted(labels)
