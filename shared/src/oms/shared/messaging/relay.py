"""The outbox relay: one active instance per service publishes committed rows in order, then deletes them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import zlib
from typing import TYPE_CHECKING

from oms.shared import backoff, metrics
from oms.shared.db import schema as db
from oms.shared.logging import get_logger
from oms.shared.messaging.errors import is_infrastructure_error
from oms.shared.messaging.unit_of_work import outbox_channel

if TYPE_CHECKING:
    import asyncpg
    from aiokafka import AIOKafkaProducer

    from oms.shared.db.types import Connection

log = get_logger(__name__)

_BACKLOG_EVERY_SECONDS = 2.0
_FETCH_SQL = "SELECT id, topic, key, payload, headers FROM outbox ORDER BY id LIMIT $1"
_BACKLOG_SQL = (
    "SELECT count(*) AS rows, extract(epoch FROM clock_timestamp() - min(created_at)) AS age FROM outbox"
)


class OutboxRelay:
    """Publishes what the service's transactions committed to the outbox.

    One instance per service is active: it holds a session advisory lock on a dedicated connection
    and reads and deletes rows over that same connection, so when the connection drops it stops at once
    and a stand-by takes over. Rows go out in id order through an idempotent producer (acks=all); a
    crash between publish and delete only re-sends, and consumers' inboxes absorb the repeat.
    """

    def __init__(
        self,
        *,
        service: str,
        database_url: str,
        schema: str,
        producer: AIOKafkaProducer,
        batch_max: int,
        poll_seconds: float,
        drain_seconds: float = 10.0,
    ) -> None:
        self.service = service
        self._url = database_url
        self._schema = schema
        self._producer = producer
        self._batch_max = batch_max
        self._poll_seconds = poll_seconds
        self._drain_seconds = drain_seconds
        self._lock_key = zlib.crc32(f"oms-outbox-relay:{schema}".encode())
        self._wake = asyncio.Event()
        self._active = False
        self._conn: Connection | None = None
        self._backlog_checked = 0.0

    @property
    def active(self) -> bool:
        return self._active

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        attempt = 0
        while not stopping.is_set():
            try:
                await self._lead(stopping)
                attempt = 0
            except Exception as error:
                if not is_infrastructure_error(error):
                    log.exception("outbox relay failed; restarting it", service=self.service)
                attempt += 1
                log.warning("outbox relay waiting for infrastructure", error=repr(error), attempt=attempt)
                await _sleep_unless(stopping, backoff.delay(attempt))
            finally:
                await self._disconnect()

    async def _lead(self, stopping: asyncio.Event) -> None:
        conn = await db.connect(self._url, self._schema, application=f"oms-{self.service}-relay")
        self._conn = conn
        while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_key):
            if await _sleep_unless(stopping, self._poll_seconds):
                return
        self._active = True
        metrics.RELAY_ACTIVE.labels(self.service).set(1)
        log.info("outbox relay active", service=self.service)
        await conn.add_listener(outbox_channel(self._schema), lambda *_: self._wake.set())
        while not stopping.is_set():
            self._wake.clear()  # before the round: a commit notified during it wakes the next one
            published = await self.publish_round(conn)
            if published < self._batch_max:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
        await self._drain(conn)

    async def publish_round(self, conn: Connection) -> int:
        """Publish up to one batch of rows in id order and delete them; returns how many."""
        rows = await conn.fetch(_FETCH_SQL, self._batch_max)
        if rows:
            outcomes = await asyncio.gather(*(self._send(row) for row in rows), return_exceptions=True)
            refused = [
                (row, outcome) for row, outcome in zip(rows, outcomes, strict=True) if outcome is not None
            ]
            for _, outcome in refused:
                if not isinstance(outcome, Exception) or is_infrastructure_error(outcome):
                    raise outcome  # an outage: the whole round again later (re-sends are absorbed by inboxes)
            if refused:
                await self._park(conn, refused)
            await self._delete_published(conn, [row["id"] for row in rows])
            metrics.OUTBOX_PUBLISHED.labels(self.service).inc(len(rows) - len(refused))
        await self._report_backlog(conn)
        return len(rows)

    async def _send(self, row: asyncpg.Record) -> None:
        """Send one row and wait for the broker's acknowledgement (sends of a round are pipelined)."""
        delivery = await self._producer.send(
            row["topic"],
            value=row["payload"],
            key=row["key"].encode() if row["key"] is not None else None,
            headers=[(name, value.encode()) for name, value in json.loads(row["headers"]).items()],
        )
        await delivery

    async def _park(self, conn: Connection, refused: list[tuple[asyncpg.Record, BaseException]]) -> None:
        """Rows the broker refuses for good are kept aside with the error: they never block the rest."""
        await conn.executemany(
            """
            INSERT INTO outbox_parked (id, topic, key, payload, headers, created_at, error)
            SELECT id, topic, key, payload, headers, created_at, $2 FROM outbox WHERE id = $1
            ON CONFLICT (id) DO NOTHING
            """,
            [(row["id"], repr(error)[:2000]) for row, error in refused],
        )
        metrics.OUTBOX_PARKED.labels(self.service).inc(len(refused))
        for row, error in refused:
            log.error(
                "outbox row refused by the broker; parked",
                outbox_id=row["id"],
                topic=row["topic"],
                error=repr(error),
            )

    async def _delete_published(self, conn: Connection, ids: list[int]) -> None:
        await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", ids)

    async def _report_backlog(self, conn: Connection) -> None:
        if time.monotonic() - self._backlog_checked < _BACKLOG_EVERY_SECONDS:
            return
        self._backlog_checked = time.monotonic()
        row = await conn.fetchrow(_BACKLOG_SQL)
        if row is not None:
            metrics.OUTBOX_BACKLOG.labels(self.service).set(row["rows"])
            metrics.OUTBOX_OLDEST_AGE.labels(self.service).set(float(row["age"] or 0))

    async def _drain(self, conn: Connection) -> None:
        """On shutdown: publish what the last transactions committed before letting go of the lock."""
        deadline = time.monotonic() + self._drain_seconds
        while time.monotonic() < deadline and await self.publish_round(conn) > 0:
            pass
        left = await conn.fetchval("SELECT count(*) FROM outbox")
        log.info("outbox relay stopped", service=self.service, rows_left=left)

    async def _disconnect(self) -> None:
        self._active = False
        metrics.RELAY_ACTIVE.labels(self.service).set(0)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close(timeout=2)
            self._conn = None


async def _sleep_unless(stopping: asyncio.Event, seconds: float) -> bool:
    """Sleep, waking early when the service stops; returns True when it is stopping."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
    return stopping.is_set()
