"""The event envelope and its CloudEvents Kafka headers (binary content mode: the body is the event)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from oms.shared.contracts.base import Contract

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class Envelope(Contract):
    """Who, what and why of one event; it travels in headers so bodies keep DESIGN.md §2's shapes."""

    event_id: str
    type: str
    occurred_at: datetime
    source: str
    order_id: str | None = None
    correlation_id: str
    causation_id: str | None = None

    @classmethod
    def new(
        cls,
        event_type: str,
        *,
        source: str,
        occurred_at: datetime | None = None,
        order_id: str | None = None,
        cause: Envelope | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        """A fresh envelope; with a cause it joins the cause's correlation and names it as causation.

        A given event id (a platform's delivery id, say) makes redeliveries of one input one event.
        """
        event_id = event_id or str(uuid.uuid4())
        return cls(
            event_id=event_id,
            type=event_type,
            occurred_at=occurred_at or datetime.now(UTC),
            source=source,
            order_id=order_id or (cause.order_id if cause else None),
            correlation_id=cause.correlation_id if cause else event_id,
            causation_id=cause.event_id if cause else None,
        )

    def to_headers(self) -> dict[str, str]:
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": self.event_id,
            "ce_type": self.type,
            "ce_source": self.source,
            "ce_time": self.occurred_at.isoformat(),
            "ce_correlationid": self.correlation_id,
            "content-type": CONTENT_TYPE,
        }
        if self.order_id is not None:
            headers["ce_subject"] = self.order_id
        if self.causation_id is not None:
            headers["ce_causationid"] = self.causation_id
        return headers

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str], *, fallback_id: str, fallback_type: str, received_at: datetime
    ) -> Envelope:
        """The envelope of a received message; inbound messages may come without headers (DESIGN.md §2)."""
        event_id = headers.get("ce_id") or fallback_id
        occurred = headers.get("ce_time")
        try:
            occurred_at = datetime.fromisoformat(occurred) if occurred else received_at
        except ValueError:
            occurred_at = received_at
        return cls(
            event_id=event_id,
            type=headers.get("ce_type") or fallback_type,
            occurred_at=occurred_at,
            source=headers.get("ce_source") or "unknown",
            order_id=headers.get("ce_subject"),
            correlation_id=headers.get("ce_correlationid") or event_id,
            causation_id=headers.get("ce_causationid"),
        )


def decode_headers(raw: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """Kafka header bytes as text; a value that is not UTF-8 is kept readable with replacement marks."""
    return {name: value.decode("utf-8", errors="replace") for name, value in raw}
