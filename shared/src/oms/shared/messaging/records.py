"""A received message as handlers see it: the parsed contract, its envelope and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from datetime import datetime

    from oms.shared.contracts.envelope import Envelope

EventT = TypeVar("EventT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Incoming(Generic[EventT]):
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes | None
    headers: dict[str, str]
    received_at: datetime
    envelope: Envelope
    event: EventT

    @property
    def event_id(self) -> str:
        return self.envelope.event_id
