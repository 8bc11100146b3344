"""What a service consumes: a topic, the contract models on it, and the use case that handles them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oms.shared.contracts.base import loads_exact
from oms.shared.contracts.topics import Flow, Topic
from oms.shared.messaging.records import Incoming
from oms.shared.messaging.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from pydantic import BaseModel

Handler = Callable[[UnitOfWork, Sequence[Incoming[Any]]], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """One topic and its handler.

    Inbound contract topics carry one model (`events={"": Model}`); input that is not JSON or not of
    the model goes to the topic's rejected topic. Internal topics carry several event types, told apart
    by the `ce_type` header or the body's `type`; types not listed are none of this service's business
    and are passed over.
    """

    topic: Topic
    events: Mapping[str, type[BaseModel]]
    handler: Handler = field(compare=False)
    # Applied to an inbound JSON document before validation (e.g. a channel's configured time zone).
    prepare: Callable[[Any], Any] | None = field(default=None, compare=False)

    @property
    def rejects_bad_input(self) -> bool:
        return self.topic.flow is Flow.INBOUND

    def model_for(self, event_type: str | None) -> type[BaseModel] | None:
        if self.rejects_bad_input:
            return next(iter(self.events.values()))
        return self.events.get(event_type or "")

    def decode(self, model: type[BaseModel], value: bytes) -> BaseModel:
        """Inbound JSON is read with exact numbers; internal events carry money as strings already."""
        if self.rejects_bad_input:
            document = loads_exact(value)
            return model.model_validate(self.prepare(document) if self.prepare else document)
        return model.model_validate_json(value)
