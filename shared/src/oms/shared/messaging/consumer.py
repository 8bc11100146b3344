"""The batch consumer: a batch of messages in one transaction, offsets committed only after it commits."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from oms.shared import backoff, metrics
from oms.shared.contracts.envelope import Envelope, decode_headers
from oms.shared.contracts.rejections import DeadLetter, Rejected, original, reasons_from
from oms.shared.contracts.topics import DEAD_LETTERS
from oms.shared.logging import get_logger, message_context
from oms.shared.messaging import inbox
from oms.shared.messaging.errors import is_infrastructure_error
from oms.shared.messaging.records import Incoming
from oms.shared.messaging.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Sequence
    from datetime import datetime

    import asyncpg

    from oms.shared.clock import Clock
    from oms.shared.db.types import Connection
    from oms.shared.messaging.naming import TopicNames
    from oms.shared.messaging.subscription import Handler, Subscription
    from oms.shared.settings import KafkaSettings

log = get_logger(__name__)

_COMMIT_TRIES_WHEN_STOPPING = 3


@dataclass(frozen=True, slots=True)
class _Item:
    """One fetched record and what decoding made of it: a message to handle, a rejection, or nothing."""

    tp: TopicPartition
    record: ConsumerRecord[bytes, bytes]
    headers: dict[str, str]
    received_at: datetime
    subscription: Subscription | None
    incoming: Incoming[Any] | None = None
    rejection: Exception | None = None

    def origin(self, error: Exception) -> dict[str, object]:
        """The fields of a rejected or dead-lettered copy: where it came from, why, and its bytes."""
        record = self.record
        return {
            "source_topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key": record.key.decode("utf-8", "replace") if record.key is not None else None,
            "received_at": self.received_at,
            "reasons": reasons_from(error),
            **original(record.value, self.headers),
        }

    @property
    def event_id(self) -> str:
        if self.incoming is not None:
            return self.incoming.event_id
        return (
            self.headers.get("ce_id") or f"{self.record.topic}:{self.record.partition}:{self.record.offset}"
        )


class BatchConsumer:
    """One consumer group of a service over all its subscriptions.

    A batch is handled in one transaction: inbox claim, handlers, rejected messages, outbox rows. If it
    fails while the infrastructure is healthy, its messages are retried one by one so the failing one is
    found: it is retried with back-off (its partition paused, others flowing) and dead-lettered after
    `max_attempts`; nothing after it on its partition is handled or committed before. An outage of
    PostgreSQL or Kafka is waited out and the batch re-read; it never counts as a try.
    """

    def __init__(
        self,
        *,
        service: str,
        group_id: str,
        subscriptions: Sequence[Subscription],
        pool: asyncpg.Pool[asyncpg.Record],
        kafka: KafkaSettings,
        names: TopicNames,
        schema: str,
        clock: Clock,
        batch_max: int,
        max_attempts: int,
        before_batch: Handler | None = None,
    ) -> None:
        self.service = service
        self._before_batch = before_batch
        self.group_id = group_id
        self._by_topic = {names.physical(sub.topic): sub for sub in subscriptions}
        self._pool = pool
        self._kafka = kafka
        self._names = names
        self._schema = schema
        self._clock = clock
        self._batch_max = batch_max
        self._max_attempts = max_attempts
        self._attempts: dict[tuple[TopicPartition, int], int] = defaultdict(int)
        self._paused_until: dict[TopicPartition, float] = {}
        # Partitions whose next message failed before: handled one by one until it passes or is dead-lettered.
        self._suspect: dict[TopicPartition, int] = {}
        self.consumer: AIOKafkaConsumer | None = None
        self.running = False

    # ------------------------------------------------------------------ loop
    async def run(self, stopping: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._batch_max,
            **self._kafka.client_options(),
        )
        await _start_when_reachable(consumer, stopping, what=f"consumer {self.group_id}")
        consumer.subscribe(list(self._by_topic), listener=_Forget(self))
        self.consumer = consumer
        self.running = True
        try:
            while not stopping.is_set():
                self._resume_due(consumer)
                batch = await consumer.getmany(timeout_ms=200, max_records=self._batch_max)
                if batch:
                    await self._handle(consumer, batch, stopping)
                    self._report_lag(consumer, batch)
        finally:
            self.running = False
            await consumer.stop()
            log.info("consumer stopped", group=self.group_id)

    async def _handle(
        self,
        consumer: AIOKafkaConsumer,
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
        stopping: asyncio.Event,
    ) -> None:
        items = {tp: [self._decode(tp, record) for record in records] for tp, records in batch.items()}
        first = {tp: records[0].offset for tp, records in batch.items()}
        started = time.perf_counter()
        if any(self._suspect.get(tp) == offset for tp, offset in first.items()):
            done = await self._isolate(consumer, items, stopping)
        else:
            try:
                await self._apply([item for tp_items in items.values() for item in tp_items])
                done = {tp: records[-1].offset + 1 for tp, records in batch.items()}
            except Exception as error:  # noqa: BLE001 -- any failure: an outage, or find the failing message
                if is_infrastructure_error(error):
                    await self._wait_out_outage(error, stopping)
                    done = {}
                else:
                    done = await self._isolate(consumer, items, stopping)
        metrics.BATCH_SECONDS.labels(self.service).observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.labels(self.service).observe(sum(len(records) for records in batch.values()))
        owned = consumer.assignment()
        for tp, offset in first.items():
            # Re-read from the first message not handled; a partition lost in a rebalance meanwhile is
            # re-read by its new owner from the last commit.
            if tp in owned and done.get(tp) != batch[tp][-1].offset + 1:
                consumer.seek(tp, done.get(tp, offset))
        await self._commit(consumer, {tp: offset for tp, offset in done.items() if tp in owned}, stopping)

    async def _isolate(
        self, consumer: AIOKafkaConsumer, items: dict[TopicPartition, list[_Item]], stopping: asyncio.Event
    ) -> dict[TopicPartition, int]:
        """Handle the batch message by message to find the failing one; returns next offsets to commit."""
        done: dict[TopicPartition, int] = {}
        for tp, tp_items in items.items():
            for item in tp_items:
                try:
                    with _context(item):
                        await self._apply([item])
                except Exception as error:  # noqa: BLE001 -- a handler may fail in any way; counted as a try
                    if is_infrastructure_error(error):
                        await self._wait_out_outage(error, stopping)
                        return done
                    try:
                        with _context(item):
                            moved_on = await self._failed(consumer, item, error)
                    except Exception as letter_error:
                        if not is_infrastructure_error(letter_error):
                            raise
                        await self._wait_out_outage(letter_error, stopping)
                        return done
                    if not moved_on:
                        self._suspect[tp] = item.record.offset
                        break  # retried later: nothing after it on this partition goes first
                self._attempts.pop((tp, item.record.offset), None)
                self._suspect.pop(tp, None)
                done[tp] = item.record.offset + 1
        return done

    async def _failed(self, consumer: AIOKafkaConsumer, item: _Item, error: Exception) -> bool:
        """Count a try; dead-letter after the last one (returns True: move on), else pause the partition."""
        key = (item.tp, item.record.offset)
        self._attempts[key] += 1
        attempts = self._attempts[key]
        metrics.MESSAGES_FAILED.labels(self.service, item.record.topic).inc()
        log.warning(
            "handler failed",
            topic=item.record.topic,
            partition=item.tp.partition,
            offset=item.record.offset,
            event_id=item.event_id,
            attempt=attempts,
            error=repr(error),
        )
        if attempts < self._max_attempts:
            if item.tp in consumer.assignment():
                self._paused_until[item.tp] = time.monotonic() + backoff.delay(attempts)
                consumer.pause(item.tp)
            return False
        await self._dead_letter(item, error, attempts)
        return True

    # ------------------------------------------------------------------ one transaction
    async def _apply(self, items: list[_Item]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            uow = self._unit_of_work(conn)
            claimable = [item for item in items if item.incoming is not None or item.rejection is not None]
            fresh = await inbox.claim(conn, self.group_id, [item.event_id for item in claimable])
            to_handle: dict[str, list[Incoming[Any]]] = defaultdict(list)
            for item in claimable:
                if item.event_id not in fresh:
                    metrics.MESSAGES_DUPLICATE.labels(self.service, item.record.topic).inc()
                    continue
                fresh.discard(item.event_id)  # the same id twice in one batch: handled once
                if item.rejection is not None:
                    self._stage_rejection(uow, item)
                elif item.incoming is not None:
                    to_handle[item.record.topic].append(item.incoming)
            if self._before_batch is not None and to_handle:
                # One look at the whole batch first (e.g. take row locks in a fixed order across topics).
                await self._before_batch(
                    uow, [message for messages in to_handle.values() for message in messages]
                )
            for topic, messages in to_handle.items():
                await self._by_topic[topic].handler(uow, messages)
            await uow.flush()
        for topic, messages in to_handle.items():
            metrics.MESSAGES_HANDLED.labels(self.service, topic).inc(len(messages))

    def _unit_of_work(self, conn: Connection) -> UnitOfWork:
        return UnitOfWork(
            conn, source=self.service, schema=self._schema, names=self._names, clock=self._clock
        )

    def _decode(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> _Item:
        headers = decode_headers(record.headers or ())
        received_at = self._clock.now()
        subscription = self._by_topic.get(record.topic)
        item = _Item(tp, record, headers, received_at, subscription)
        if subscription is None or record.value is None:
            return item  # not subscribed, or a compacted topic's tombstone: nothing to handle
        try:
            event_type = headers.get("ce_type")
            if event_type is None and not subscription.rejects_bad_input:
                event_type = _body_type(record.value)
            model = subscription.model_for(event_type)
            if model is None:
                return item  # another service's event on a shared topic: nothing to do here
            event = subscription.decode(model, record.value or b"")
        except Exception as error:  # noqa: BLE001 -- any decoding failure is the message's own fault
            return self._undecodable(item, error)
        envelope = Envelope.from_headers(
            headers,
            fallback_id=f"{record.topic}:{record.partition}:{record.offset}",
            fallback_type=str(getattr(event, "type", type(event).__name__)),
            received_at=received_at,
        )
        incoming = Incoming(
            record.topic,
            record.partition,
            record.offset,
            record.key.decode("utf-8", "replace") if record.key is not None else None,
            record.value,
            headers,
            received_at,
            envelope,
            event,
        )
        return _Item(tp, record, headers, received_at, subscription, incoming=incoming)

    def _undecodable(self, item: _Item, error: Exception) -> _Item:
        if item.subscription is not None and item.subscription.rejects_bad_input:
            return _Item(
                item.tp, item.record, item.headers, item.received_at, item.subscription, rejection=error
            )
        # An internal message we cannot read will not read better later: it fails at once, every try.
        raise_later = _Undecodable(error)
        return _Item(
            item.tp, item.record, item.headers, item.received_at, item.subscription, rejection=raise_later
        )

    def _stage_rejection(self, uow: UnitOfWork, item: _Item) -> None:
        assert item.rejection is not None  # noqa: S101 -- guarded by the caller
        if isinstance(item.rejection, _Undecodable):
            raise item.rejection.error
        subscription = item.subscription
        if subscription is None or subscription.topic.rejected is None:
            return
        record = item.record
        rejected = Rejected.model_validate(item.origin(item.rejection))
        uow.publish(subscription.topic.rejected, rejected, key=rejected.key)
        metrics.MESSAGES_REJECTED.labels(self.service, record.topic).inc()
        log.info("message rejected", topic=record.topic, offset=record.offset, reasons=len(rejected.reasons))

    async def _dead_letter(self, item: _Item, error: Exception, attempts: int) -> None:
        record = item.record
        reason = error.error if isinstance(error, _Undecodable) else error
        letter = DeadLetter.model_validate(
            {
                **item.origin(reason),
                "consumer_group": self.group_id,
                "attempts": attempts,
                "error": repr(error)[:2000],
            }
        )
        async with self._pool.acquire() as conn, conn.transaction():
            # Claimed like a handled message: after a crash before the offset commit, the redelivered
            # message finds its id taken and is not dead-lettered twice. A replay needs a new event id.
            if not await inbox.claim(conn, self.group_id, [item.event_id]):
                return
            uow = self._unit_of_work(conn)
            cause = item.incoming.envelope if item.incoming is not None else None
            uow.publish(DEAD_LETTERS, letter, key=letter.key, cause=cause)
            await uow.flush()
        metrics.MESSAGES_DEAD_LETTERED.labels(self.service, record.topic).inc()
        log.error("message dead-lettered", topic=record.topic, offset=record.offset, attempts=attempts)

    # ------------------------------------------------------------------ offsets and outages
    async def _commit(
        self, consumer: AIOKafkaConsumer, done: dict[TopicPartition, int], stopping: asyncio.Event
    ) -> None:
        """Commit exactly the handled positions; a broker outage is retried, a lost partition is let go."""
        if not done:
            return
        attempt = 0
        while True:
            try:
                await consumer.commit(done)
            except (CommitFailedError, IllegalStateError) as error:
                # The partition moved to another member in a rebalance: it re-reads from the last commit
                # and the inbox turns the repeat into a no-op.
                log.info("commit skipped after rebalance", group=self.group_id, error=repr(error))
            except KafkaError as error:
                attempt += 1
                log.warning("offset commit failed; retrying", group=self.group_id, error=repr(error))
                if stopping.is_set() and attempt > _COMMIT_TRIES_WHEN_STOPPING:
                    return  # stopping: the next owner re-reads these, the inbox absorbs them
                await asyncio.sleep(backoff.delay(attempt))
                continue
            return

    async def _wait_out_outage(self, error: BaseException, stopping: asyncio.Event) -> None:
        metrics.INFRASTRUCTURE_OUTAGES.labels(self.service).inc()
        log.warning("infrastructure unavailable; waiting", group=self.group_id, error=repr(error))
        attempt = 0
        while not stopping.is_set():
            attempt += 1
            await asyncio.sleep(backoff.delay(attempt, cap=5))
            try:
                async with self._pool.acquire(timeout=5) as conn:
                    await conn.fetchval("SELECT 1")
            except Exception as probe_error:  # noqa: BLE001 -- still down; keep waiting
                log.info("still waiting for the database", attempt=attempt, error=repr(probe_error))
                continue
            log.info("infrastructure back", group=self.group_id, attempt=attempt)
            return

    def forget(self, partitions: set[TopicPartition]) -> None:
        """Drop retry state of partitions this member no longer owns (their new owner starts afresh)."""
        for tp in partitions:
            self._suspect.pop(tp, None)
            self._paused_until.pop(tp, None)
        for key in [key for key in self._attempts if key[0] in partitions]:
            del self._attempts[key]

    def _resume_due(self, consumer: AIOKafkaConsumer) -> None:
        now = time.monotonic()
        for tp, until in list(self._paused_until.items()):
            if until <= now:
                del self._paused_until[tp]
                if tp in consumer.assignment():
                    consumer.resume(tp)

    def _report_lag(
        self, consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        owned = consumer.assignment()
        for tp in batch:
            if tp not in owned:
                continue
            end = consumer.highwater(tp)
            if end is not None:
                position = batch[tp][-1].offset + 1
                metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(
                    max(0, end - position)
                )


class _Forget(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Rebalance listener: revoked partitions take their retry state with them."""

    def __init__(self, owner: BatchConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self._owner.forget(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        del assigned  # nothing to prepare: positions come from the committed offsets


class _Undecodable(Exception):  # noqa: N818 -- a marker carrying the decoding error, not an error kind
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _context(item: _Item) -> contextlib.AbstractContextManager[None]:
    """Log context of one message: its ids when it could be read, its position otherwise."""
    if item.incoming is not None:
        return message_context(item.incoming.envelope)
    return structlog.contextvars.bound_contextvars(event_id=item.event_id)


def _body_type(value: bytes | None) -> str | None:
    """The body's `type` for messages without a `ce_type` header; None when it has none."""
    if not value:
        return None
    body = json.loads(value)
    return body.get("type") if isinstance(body, dict) else None


async def _start_when_reachable(client: Any, stopping: asyncio.Event, *, what: str) -> None:  # noqa: ANN401 -- any aiokafka client
    """Start an aiokafka client, waiting as long as it takes for the broker (a service may start first)."""
    attempt = 0
    while True:
        try:
            await client.start()
        except KafkaError as error:
            attempt += 1
            log.warning("Kafka not reachable yet", client=what, attempt=attempt, error=repr(error))
            if stopping.is_set():
                raise
            await asyncio.sleep(backoff.delay(attempt, cap=5))
        else:
            return
