"""`oms-publish-order`: publish a channel order from a payload file to `oms.channel.orders.v1`."""

from __future__ import annotations

import asyncio
import hashlib
import json
from enum import StrEnum
from pathlib import Path  # noqa: TC003 -- typer reads annotations at run time
from typing import Annotated

import typer
from pydantic import ValidationError

from oms.order.adapters import shopify, woocommerce
from oms.order.adapters.common import AdapterError
from oms.shared.contracts.base import loads_exact
from oms.shared.contracts.channel_orders import ChannelOrder
from oms.shared.contracts.envelope import Envelope
from oms.shared.contracts.rejections import reasons_from
from oms.shared.contracts.topics import CHANNEL_ORDERS
from oms.shared.messaging.kafka import idempotent_producer
from oms.shared.messaging.naming import TopicNames
from oms.shared.settings import KafkaSettings


class Platform(StrEnum):
    shopify = "shopify"
    woocommerce = "woocommerce"
    contract = "contract"  # already in the shape of oms.channel.orders.v1


def publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The payload file (JSON).")],
    channel: Annotated[str, typer.Option(help="The channel it came from, e.g. shopify-uk.")],
    platform: Annotated[Platform, typer.Option(help="What the file holds.")] = Platform.shopify,
) -> None:
    """Adapt a platform payload, validate it against the contract, and publish it (Kafka from OMS_KAFKA_*)."""
    body = file.read_bytes()
    try:
        payload = loads_exact(body)
        if platform is Platform.shopify:
            payload = shopify.to_channel_order(payload, channel)
        elif platform is Platform.woocommerce:
            payload = woocommerce.to_channel_order(payload, channel)
        order = ChannelOrder.model_validate(payload)
    except (ValueError, ValidationError, AdapterError) as error:
        for reason in reasons_from(error):
            typer.echo(f"{file}: {reason.field}: {reason.message} ({reason.code})", err=True)
        raise typer.Exit(1) from error
    # The same file published twice is the same event: the order service's inbox sees it once.
    event_id = f"{channel}:file:{hashlib.sha256(body).hexdigest()[:32]}"
    topic = asyncio.run(_send(order, event_id))
    typer.echo(f"published {order.key} to {topic} (event {event_id})")


async def _send(order: ChannelOrder, event_id: str) -> str:
    settings = KafkaSettings()
    topic = TopicNames(settings.topic_prefix).physical(CHANNEL_ORDERS)
    envelope = Envelope.new("ChannelOrder", source="oms-publish-order", event_id=event_id)
    producer = idempotent_producer(settings, client_id="oms-publish-order")
    await producer.start()
    try:
        headers = [(name, value.encode()) for name, value in envelope.to_headers().items()]
        value = json.dumps(json.loads(order.model_dump_json())).encode()
        await producer.send_and_wait(topic, value, key=order.key.encode(), headers=headers)
    finally:
        await producer.stop()
    return topic


def main() -> None:
    typer.run(publish)
