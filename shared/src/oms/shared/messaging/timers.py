"""Durable timers: rows with a due time, fired once across instances by a poller on the service clock."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from oms.shared import backoff, metrics
from oms.shared.logging import get_logger
from oms.shared.messaging.errors import is_infrastructure_error
from oms.shared.messaging.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    import asyncpg

    from oms.shared.clock import Clock
    from oms.shared.db.types import Connection
    from oms.shared.messaging.naming import TopicNames

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Timer:
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


TimerHandler = Callable[[UnitOfWork, Timer], Awaitable[None]]

# Rows locked by another instance are skipped: each due timer fires in exactly one transaction.
_DUE_SQL = """
SELECT id, kind, key, due_at, payload, attempts FROM timers
WHERE due_at <= $1 ORDER BY due_at, id LIMIT $2
FOR UPDATE SKIP LOCKED
"""


class TimerPoller:
    """Fires due timers: each handler runs in a savepoint and its row is deleted with its effects.

    A handler that fails is retried with back-off (its row stays, due later): a compensation is
    retried until it succeeds and never holds up the other timers.
    """

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool[asyncpg.Record],
        handlers: Mapping[str, TimerHandler],
        schema: str,
        names: TopicNames,
        clock: Clock,
        poll_seconds: float,
        batch_max: int = 200,
    ) -> None:
        self.service = service
        self._pool = pool
        self._handlers = handlers
        self._schema = schema
        self._names = names
        self._clock = clock
        self._poll_seconds = poll_seconds
        self._batch_max = batch_max

    async def run(self, stopping: asyncio.Event) -> None:
        attempt = 0
        while not stopping.is_set():
            try:
                fired = await self.fire_due()
                attempt = 0
            except Exception as error:
                if not is_infrastructure_error(error):
                    raise
                attempt += 1
                log.warning("timer poller waiting for the database", error=repr(error), attempt=attempt)
                fired = 0
                await asyncio.sleep(backoff.delay(attempt, cap=5))
            if fired < self._batch_max:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self._poll_seconds)

    async def fire_due(self) -> int:
        """Fire every timer due by the clock's now (one batch); returns how many were taken."""
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_DUE_SQL, self._clock.now(), self._batch_max)
            uow = UnitOfWork(
                conn, source=self.service, schema=self._schema, names=self._names, clock=self._clock
            )
            for row in rows:
                await self._fire(conn, uow, _timer(row))
            await uow.flush()
        return len(rows)

    async def _fire(self, conn: Connection, uow: UnitOfWork, timer: Timer) -> None:
        handler = self._handlers.get(timer.kind)
        staged_before = uow.staged
        try:
            async with conn.transaction():  # a savepoint: a failing handler undoes only its own work
                # Deleted first, so a handler may schedule the same kind and key again (a follow-up).
                await conn.execute("DELETE FROM timers WHERE id = $1", timer.id)
                await _call(handler, uow, timer)
        except Exception as error:
            if is_infrastructure_error(error):
                raise
            uow.discard_after(staged_before)
            await self._postpone(conn, timer, error)
            return
        metrics.TIMERS_FIRED.labels(self.service, timer.kind).inc()

    async def _postpone(self, conn: Connection, timer: Timer, error: Exception) -> None:
        attempts = timer.attempts + 1
        retry_at = self._clock.now() + timedelta(seconds=backoff.delay(attempts, base=1, cap=300))
        await conn.execute(
            "UPDATE timers SET attempts = $2, due_at = $3, last_error = $4 WHERE id = $1",
            timer.id,
            attempts,
            retry_at,
            repr(error)[:2000],
        )
        metrics.TIMERS_FAILED.labels(self.service, timer.kind).inc()
        log.warning(
            "timer failed; retrying later",
            kind=timer.kind,
            key=timer.key,
            attempt=attempts,
            error=repr(error),
        )


async def _call(handler: TimerHandler | None, uow: UnitOfWork, timer: Timer) -> None:
    if handler is None:
        raise LookupError(f"no handler for timer kind {timer.kind!r}")
    await handler(uow, timer)


def _timer(row: asyncpg.Record) -> Timer:
    return Timer(
        row["id"], row["kind"], row["key"], row["due_at"], json.loads(row["payload"]), row["attempts"]
    )
