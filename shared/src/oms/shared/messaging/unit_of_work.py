"""One transaction's work: effects on the service's tables plus the events to publish (the outbox)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from oms.shared.contracts.envelope import Envelope

if TYPE_CHECKING:
    from datetime import datetime

    from pydantic import BaseModel

    from oms.shared.clock import Clock
    from oms.shared.contracts.topics import Topic
    from oms.shared.db.types import Connection
    from oms.shared.messaging.naming import TopicNames


# One statement writes every staged row and wakes the relay: NOTIFY is delivered at commit.
_STAGE_SQL = """
WITH staged AS (
    INSERT INTO outbox (topic, key, payload, headers)
    SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::jsonb[])
    RETURNING 1
)
SELECT pg_notify($5, count(*)::text) FROM staged
"""


def outbox_channel(schema: str) -> str:
    return f"oms_outbox_{schema}"


class UnitOfWork:
    """Collects outgoing events during a handler; `flush` writes them in the same transaction as the effects.

    Writing the outbox rows after the handler has taken its row locks keeps one order's events in order:
    a later transaction on the same order waits for those locks, so its rows get higher ids.
    """

    def __init__(
        self, conn: Connection, *, source: str, schema: str, names: TopicNames, clock: Clock
    ) -> None:
        self.conn = conn
        self.source = source
        self.clock = clock
        self._schema = schema
        self._names = names
        self._rows: tuple[list[str], list[str | None], list[bytes], list[str]] = ([], [], [], [])

    def publish(
        self,
        topic: Topic,
        event: BaseModel,
        *,
        key: str | None,
        cause: Envelope | None = None,
        order_id: str | None = None,
        event_id: str | None = None,
    ) -> Envelope:
        """Stage an event; its envelope joins the cause's correlation. Returns the envelope (its event id)."""
        event_type = str(getattr(event, "type", type(event).__name__))
        envelope = Envelope.new(
            event_type,
            source=self.source,
            occurred_at=self.clock.now(),
            order_id=order_id,
            cause=cause,
            event_id=event_id,
        )
        self.stage(topic, key, event.model_dump_json().encode(), envelope.to_headers())
        return envelope

    def stage(self, topic: Topic, key: str | None, payload: bytes, headers: dict[str, str]) -> None:
        topics, keys, payloads, header_docs = self._rows
        topics.append(self._names.physical(topic))
        keys.append(key)
        payloads.append(payload)
        header_docs.append(json.dumps(headers))

    def discard_after(self, count: int) -> None:
        """Forget rows staged after the first `count` (their savepoint was rolled back)."""
        for column in self._rows:
            del column[count:]

    @property
    def staged(self) -> int:
        return len(self._rows[0])

    async def schedule(
        self, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> None:
        """A durable timer (one per kind and key; scheduling again moves it)."""
        await self.conn.execute(
            """
            INSERT INTO timers (kind, key, due_at, payload) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (kind, key) DO UPDATE
                SET due_at = excluded.due_at, payload = excluded.payload, attempts = 0, last_error = NULL
            """,
            kind,
            key,
            due_at,
            json.dumps(payload or {}),
        )

    async def cancel_timer(self, kind: str, key: str) -> bool:
        result = await self.conn.execute("DELETE FROM timers WHERE kind = $1 AND key = $2", kind, key)
        return bool(result.endswith(" 1"))

    async def flush(self) -> int:
        """Write the staged rows (one round trip); returns how many."""
        count = self.staged
        if count:
            await self.conn.fetchval(_STAGE_SQL, *self._rows, outbox_channel(self._schema))
            self._rows = ([], [], [], [])
        return count
