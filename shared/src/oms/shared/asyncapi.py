"""The AsyncAPI document of every topic, generated from the topic registry and the contract models.

`python -m oms.shared.asyncapi > docs/asyncapi.json` (the `make asyncapi` target) writes it; a test
fails when the checked-in document is older than the code.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from oms.shared.contracts.catalog import Product
from oms.shared.contracts.channel_orders import ChannelOrder
from oms.shared.contracts.inventory import (
    PaymentRequested,
    ReorderSuggested,
    StockAdjustment,
    StockLevelChanged,
)
from oms.shared.contracts.orders import OrderCommand, OrderStatusChanged
from oms.shared.contracts.rejections import DeadLetter, Rejected
from oms.shared.contracts.topics import (
    CATALOG_PRODUCTS,
    CHANNEL_ORDERS,
    DEAD_LETTERS,
    INVENTORY_ADJUSTMENTS,
    INVENTORY_REORDER,
    ORDER_COMMANDS,
    ORDER_STATUS,
    PAYMENTS,
    STOCK_LEVELS,
    Flow,
    all_topics,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from pydantic import BaseModel

    from oms.shared.contracts.topics import Topic

VERSION = "0.1.0"


def payload_models() -> dict[str, type[BaseModel]]:
    """Topic name -> the contract model of its messages, for the topics whose models exist so far."""
    models: dict[str, type[BaseModel]] = {
        DEAD_LETTERS.name: DeadLetter,
        CATALOG_PRODUCTS.name: Product,
        CHANNEL_ORDERS.name: ChannelOrder,
        INVENTORY_ADJUSTMENTS.name: StockAdjustment,
        ORDER_COMMANDS.name: OrderCommand,
        ORDER_STATUS.name: OrderStatusChanged,
        STOCK_LEVELS.name: StockLevelChanged,
        INVENTORY_REORDER.name: ReorderSuggested,
        PAYMENTS.name: PaymentRequested,
    }
    for topic in all_topics():
        if topic.rejected is not None:
            models[topic.rejected.name] = Rejected
    return models


def _description(topic: Topic) -> str:
    compaction = " Compacted: the latest message per key is kept." if topic.compacted else ""
    return f"{topic.summary.capitalize()} ({topic.flow.value}). Key: {topic.key}.{compaction}"


def document() -> dict[str, object]:
    broker = KafkaBroker("kafka:9092", description="The suite's Kafka cluster (OMS_KAFKA_BOOTSTRAP).")
    models = payload_models()
    for topic in all_topics():
        model = models.get(topic.name)
        if topic.flow is Flow.INBOUND:
            broker.subscriber(topic.name, title=topic.name, description=_description(topic))(
                _documented(model)
            )
        else:
            broker.publisher(topic.name, title=topic.name, description=_description(topic), schema=model)
    spec = AsyncAPI(
        broker,
        title="OMS suite",
        version=VERSION,
        description="Topics of the order management system: the contract topics and the internal ones.",
        schema_version="3.0.0",
    )
    return json.loads(spec.to_specification().to_json())  # type: ignore[no-any-return]


def _documented(model: type[BaseModel] | None) -> Callable[[object], Awaitable[None]]:
    """A handler whose only purpose is to carry the inbound topic's payload type into the document."""

    async def inbound(message: object) -> None:
        del message

    if model is not None:
        inbound.__annotations__["message"] = model
    return inbound


if __name__ == "__main__":
    print(json.dumps(document(), indent=2, sort_keys=True))  # noqa: T201 -- the document is this command's output
