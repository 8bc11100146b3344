"""The batch consumer on real Kafka and PostgreSQL: duplicates, retries in order, dead letters, rejections."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import TYPE_CHECKING

import pytest

from oms.shared.contracts.topics import CHANNEL_ORDERS, DEAD_LETTERS
from oms.shared.db import schema as db
from oms.shared.messaging import inbox
from tests.integration.messaging.support import (
    MIGRATIONS,
    PINGS,
    Faults,
    effects,
    pinged_service,
    produce,
    read_topic,
    running,
    schema,
    settings_for,
    wait_for_effects,
)

if TYPE_CHECKING:
    from aiokafka.admin import AIOKafkaAdminClient

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def _send_pings(
    bootstrap: str, prefix: str, labels: list[str], key: bytes | None = None
) -> list[tuple[bytes, dict[str, str]]]:
    """Send one Ping per label, in order, to the test's internal topic; returns what was sent."""
    pings = [_ping(label) for label in labels]
    await produce(
        bootstrap, f"{prefix}{PINGS.name}", [v for v, _ in pings], headers=[h for _, h in pings], key=key
    )
    return pings


def _ping(label: str, event_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    headers = {
        "ce_id": event_id or str(uuid.uuid4()),
        "ce_type": "Ping",
        "ce_source": "test",
        "ce_specversion": "1.0",
    }
    return json.dumps({"type": "Ping", "label": label, "amount": "1.00"}).encode(), headers


async def test_the_same_event_delivered_twice_concurrently_to_two_instances_has_one_effect(
    kafka_bootstrap: str, database_url: str, topic_prefix: str, kafka_admin: AIOKafkaAdminClient
) -> None:
    faults = Faults()
    faults.delay = 0.5  # each handler holds its transaction open, so the two deliveries overlap
    settings = settings_for(kafka_bootstrap, database_url, topic_prefix, partitions=2)
    value, headers = _ping("twice", "event-42")
    topic = f"{topic_prefix}{PINGS.name}"
    async with (
        running(pinged_service(faults=faults), settings),
        running(pinged_service(faults=faults), settings),
    ):
        await asyncio.gather(
            produce(kafka_bootstrap, topic, [value], headers=[headers], partition=0),
            produce(kafka_bootstrap, topic, [value], headers=[headers], partition=1),
        )
        applied = await wait_for_effects(database_url, schema("inventory"), 1)
        group = f"{topic_prefix}oms-inventory"
        async with asyncio.timeout(15):  # both instances took their copy: each partition is committed past it
            while sorted(await _committed(kafka_admin, group, PINGS.name)) != [1, 1]:
                await asyncio.sleep(0.1)

    assert [row["event_id"] for row in applied] == ["event-42"]
    assert faults.tries["twice"] == 1  # the second copy found the id in the inbox: no handler call at all


async def _committed(admin: AIOKafkaAdminClient, group: str, topic_name: str) -> list[int]:
    offsets = await admin.list_consumer_group_offsets(group)
    return [meta.offset for tp, meta in offsets.items() if tp.topic.endswith(topic_name)]


async def test_the_inbox_lets_one_of_two_concurrent_transactions_claim_an_event(database_url: str) -> None:
    await db.migrate(database_url, schema("inventory"), [MIGRATIONS])
    first = await db.connect(database_url, schema("inventory"), application="a")
    second = await db.connect(database_url, schema("inventory"), application="b")
    try:
        first_tx, second_tx = first.transaction(), second.transaction()
        await first_tx.start()
        await second_tx.start()
        assert await inbox.claim(first, "group", ["e1", "e2"]) == {"e1", "e2"}
        # The second claim of e2 waits for the first transaction, then finds e2 taken.
        pending = asyncio.ensure_future(inbox.claim(second, "group", ["e2", "e3"]))
        await asyncio.sleep(0.3)
        assert not pending.done()
        await first_tx.commit()
        assert await pending == {"e3"}
        await second_tx.commit()
    finally:
        await first.close()
        await second.close()


async def test_a_message_failing_once_is_retried_and_nothing_after_it_on_its_partition_goes_first(
    kafka_bootstrap: str, database_url: str, topic_prefix: str, kafka_admin: AIOKafkaAdminClient
) -> None:
    faults = Faults()
    faults.fail("n", times=1)
    settings = settings_for(
        kafka_bootstrap, database_url, topic_prefix, partitions=1, consumer_max_attempts=3
    )
    async with running(pinged_service(faults=faults), settings):
        await _send_pings(kafka_bootstrap, topic_prefix, ["before", "n", "after"])
        applied = await wait_for_effects(database_url, schema("inventory"), 3)
        committed = await kafka_admin.list_consumer_group_offsets(f"{topic_prefix}oms-inventory")

    assert [row["label"] for row in applied] == ["before", "n", "after"]
    assert faults.tries["n"] == 2
    assert sum(meta.offset for tp, meta in committed.items() if tp.topic.endswith(PINGS.name)) == 3


async def test_while_a_message_is_retried_no_offset_past_it_is_committed(
    kafka_bootstrap: str, database_url: str, topic_prefix: str, kafka_admin: AIOKafkaAdminClient
) -> None:
    faults = Faults()
    faults.fail("n", times=None)  # fails until the test lets it pass
    settings = settings_for(
        kafka_bootstrap, database_url, topic_prefix, partitions=1, consumer_max_attempts=8
    )
    async with running(pinged_service(faults=faults), settings):
        await _send_pings(kafka_bootstrap, topic_prefix, ["before", "n", "after"])
        async with asyncio.timeout(20):
            while faults.tries["n"] < 2:
                await asyncio.sleep(0.01)
        # While "n" keeps failing: "before" is applied and committed, "n" and "after" are neither.
        await asyncio.sleep(0.5)
        committed = await kafka_admin.list_consumer_group_offsets(f"{topic_prefix}oms-inventory")
        offsets = [meta.offset for tp, meta in committed.items() if tp.topic.endswith(PINGS.name)]
        applied_meanwhile = [row["label"] for row in await effects(database_url, schema("inventory"))]
        faults.remaining["n"] = 0
        applied = await wait_for_effects(database_url, schema("inventory"), 3)

    assert offsets == [1]
    assert applied_meanwhile == ["before"]
    assert [row["label"] for row in applied] == ["before", "n", "after"]


async def test_a_message_that_keeps_failing_is_dead_lettered_and_its_partition_moves_on(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    faults = Faults()
    faults.fail("poison", times=None)
    settings = settings_for(
        kafka_bootstrap, database_url, topic_prefix, partitions=1, consumer_max_attempts=3
    )
    async with running(pinged_service(faults=faults), settings):
        pings = await _send_pings(kafka_bootstrap, topic_prefix, ["poison", "next"], key=b"o-1")
        applied = await wait_for_effects(database_url, schema("inventory"), 1)
        (letter,) = await read_topic(kafka_bootstrap, f"{topic_prefix}{DEAD_LETTERS.name}", 1)

    body = json.loads(letter.value)
    assert [row["label"] for row in applied] == ["next"]
    # Three counted tries alone; one more when its first failure came in a batch with "next".
    assert faults.tries["poison"] - body["attempts"] in (0, 1)
    assert body["type"] == "DeadLetter"
    assert body["consumer_group"] == f"{topic_prefix}oms-inventory"
    assert body["attempts"] == 3
    assert "handler bug on poison" in body["error"]
    assert base64.b64decode(body["original_base64"]) == pings[0][0]
    assert body["original_headers"]["ce_id"] == pings[0][1]["ce_id"]
    assert body["source_topic"] == f"{topic_prefix}{PINGS.name}"
    assert letter.key == b"o-1"


async def test_unreadable_and_schema_invalid_input_is_rejected_with_reasons_and_consuming_goes_on(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    settings = settings_for(kafka_bootstrap, database_url, topic_prefix, partitions=1)
    bad_json = b'{"channel": "web", "external_id": '
    bad_schema = json.dumps({"channel": "web", "total": "abc"}).encode()
    good = json.dumps({"channel": "web", "external_id": 820982911946154508, "total": 12.5}).encode()
    async with running(pinged_service(), settings):
        await produce(
            kafka_bootstrap,
            f"{topic_prefix}{CHANNEL_ORDERS.name}",
            [bad_json, bad_schema, good],
            key=b"web:1",
        )
        (applied,) = await wait_for_effects(database_url, schema("inventory"), 1)
        assert CHANNEL_ORDERS.rejected is not None
        rejected = await read_topic(kafka_bootstrap, f"{topic_prefix}{CHANNEL_ORDERS.rejected.name}", 2)

    assert applied["label"] == "820982911946154508"
    unreadable, invalid = (json.loads(record.value) for record in rejected)
    assert unreadable["type"] == "Rejected"
    assert [reason["code"] for reason in unreadable["reasons"]] == ["invalid_json"]
    assert base64.b64decode(unreadable["original_base64"]) == bad_json
    assert {(reason["field"], reason["code"]) for reason in invalid["reasons"]} == {
        ("external_id", "missing"),
        ("total", "value_error"),
    }
    assert base64.b64decode(invalid["original_base64"]) == bad_schema
    assert [record.key for record in rejected] == [b"web:1", b"web:1"]
    assert [json.loads(r.value)["offset"] for r in rejected] == [0, 1]
