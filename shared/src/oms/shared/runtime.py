"""The life of a service process: wait for infrastructure, migrate, subscribe, serve, then stop in order."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from oms.shared import backoff
from oms.shared import logging as oms_logging
from oms.shared.clock import Clock, SystemClock
from oms.shared.db import schema as db
from oms.shared.http import HttpServer, Readiness, create_app
from oms.shared.messaging import inbox
from oms.shared.messaging.consumer import BatchConsumer
from oms.shared.messaging.errors import is_infrastructure_error
from oms.shared.messaging.kafka import ensure_topics, idempotent_producer
from oms.shared.messaging.naming import TopicNames
from oms.shared.messaging.relay import OutboxRelay
from oms.shared.messaging.timers import TimerHandler, TimerPoller
from oms.shared.messaging.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
    from pathlib import Path

    import asyncpg
    from aiokafka import AIOKafkaProducer
    from fastapi import APIRouter
    from pydantic import BaseModel

    from oms.shared.contracts.envelope import Envelope
    from oms.shared.contracts.topics import Topic
    from oms.shared.messaging.subscription import Handler, Subscription
    from oms.shared.settings import ServiceSettings

log = oms_logging.get_logger(__name__)


@dataclass
class ServiceDefinition:
    """What makes one service: its name, migrations, subscriptions, timers and HTTP routes."""

    name: str
    migrations: Sequence[Path] = ()
    subscriptions: Sequence[Subscription] = ()
    timers: Mapping[str, TimerHandler] = field(default_factory=dict)
    routers: Sequence[APIRouter] = ()
    # Called with every fresh message of a batch before the handlers, in the same transaction.
    before_batch: Handler | None = None


class ServiceRuntime:
    """Runs a service until SIGTERM (or `stop()`); outages at start-up are waited out, not fatal."""

    def __init__(
        self, definition: ServiceDefinition, settings: ServiceSettings, clock: Clock | None = None
    ) -> None:
        self.definition = definition
        self.settings = settings
        self.clock = clock or SystemClock()
        self.schema = db.schema_for(definition.name)
        self.names = TopicNames(settings.kafka.topic_prefix)
        self.readiness = Readiness()
        self.pool: asyncpg.Pool[asyncpg.Record] | None = None
        self.producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.consumer: BatchConsumer | None = None
        self.timers: TimerPoller | None = None
        self.http: HttpServer | None = None
        self._stopping = asyncio.Event()
        self._relay_stopping = asyncio.Event()
        self.failed = False

    async def publish(
        self, topic: Topic, event: BaseModel, *, key: str | None, event_id: str | None = None
    ) -> Envelope:
        """Publish one event through the outbox from outside a handler (an API request): durable on return."""
        async with self._transaction() as uow:
            return uow.publish(topic, event, key=key, event_id=event_id)

    async def stage(self, topic: Topic, key: str | None, payload: bytes, headers: dict[str, str]) -> None:
        """Publish raw bytes through the outbox (a rejected webhook body, kept exactly as it came)."""
        async with self._transaction() as uow:
            uow.stage(topic, key, payload, headers)

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work in its own transaction; its staged rows are written before it commits."""
        if self.pool is None:
            raise RuntimeError("the service is not started")
        async with self.pool.acquire() as conn, conn.transaction():
            uow = UnitOfWork(
                conn, source=self.definition.name, schema=self.schema, names=self.names, clock=self.clock
            )
            yield uow
            await uow.flush()

    @property
    def url(self) -> str:
        return self.settings.database.url.get_secret_value()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self.stop)
        app = create_app(self.definition.name, self.readiness, list(self.definition.routers))
        app.state.runtime = self  # routes reach the pool, topic names and clock through the request
        self.http = HttpServer(app, self.settings.http_host, self.settings.http_port)
        self.http.start()
        log.info(
            "service starting", http_port=self.http.port, schema=self.schema, topic_prefix=self.names.prefix
        )
        tasks: list[asyncio.Task[None]] = []
        try:
            if await self._prepare():
                tasks = self._start_workers()
                self.readiness.started = True
                log.info("service ready", http_port=self.http.port)
                await self._stopping.wait()
        finally:
            await self._shutdown(tasks)

    async def _prepare(self) -> bool:
        """Database, migrations, topics, producer; each waited for. False when stopped meanwhile."""
        applied = await self._until_up(
            "PostgreSQL", lambda: db.migrate(self.url, self.schema, list(self.definition.migrations))
        )
        if applied is None:
            return False
        log.info("migrations applied", applied=applied)
        self.pool = await self._until_up("PostgreSQL", self._create_pool)
        if self.pool is None:
            return False
        self.readiness.add("database", self._database_answers)
        if await self._until_up("Kafka", lambda: ensure_topics(self.settings.kafka, self.names)) is None:
            return False
        self.producer = idempotent_producer(self.settings.kafka, client_id=f"oms-{self.definition.name}")
        if await self._until_up("Kafka", self.producer.start) is None:
            return False
        self.readiness.add("kafka", self._kafka_answers)
        return True

    def _start_workers(self) -> list[asyncio.Task[None]]:
        assert self.pool is not None  # noqa: S101 -- _prepare succeeded
        assert self.producer is not None  # noqa: S101
        s = self.settings
        self.relay = OutboxRelay(
            service=self.definition.name,
            database_url=self.url,
            schema=self.schema,
            producer=self.producer,
            batch_max=s.relay_batch_max,
            poll_seconds=s.relay_poll_seconds,
        )
        tasks = [self._watched(self.relay.run(self._relay_stopping), "relay")]
        if self.definition.subscriptions:
            self.consumer = BatchConsumer(
                service=self.definition.name,
                group_id=self.names.group(self.definition.name),
                subscriptions=self.definition.subscriptions,
                pool=self.pool,
                kafka=s.kafka,
                names=self.names,
                schema=self.schema,
                clock=self.clock,
                batch_max=s.consumer_batch_max,
                max_attempts=s.consumer_max_attempts,
                before_batch=self.definition.before_batch,
            )
            tasks.append(self._watched(self.consumer.run(self._stopping), "consumer"))
            self.readiness.add("consumer", self._consumer_running)
        self.timers = TimerPoller(
            service=self.definition.name,
            pool=self.pool,
            handlers=self.definition.timers,
            schema=self.schema,
            names=self.names,
            clock=self.clock,
            poll_seconds=s.timer_poll_seconds,
        )
        tasks.append(self._watched(self.timers.run(self._stopping), "timers"))
        tasks.append(self._watched(self._housekeeping(), "housekeeping"))
        return tasks

    async def _housekeeping(self) -> None:
        """Forget inbox ids older than any redelivery can be, hourly (on every instance: it is idempotent)."""
        assert self.pool is not None  # noqa: S101 -- started after the pool exists
        while not self._stopping.is_set():
            try:
                async with self.pool.acquire() as conn:
                    forgotten = await inbox.prune(conn, self.settings.inbox_retention_days)
                if forgotten:
                    log.info("inbox pruned", forgotten=forgotten)
            except Exception as error:
                if not is_infrastructure_error(error):
                    raise
                log.warning("inbox pruning waits for the database", error=repr(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 3600)

    def _watched(self, work: Awaitable[None], name: str) -> asyncio.Task[None]:
        """A worker whose unexpected end stops the service (its orchestrator restarts it), never silently."""

        async def guarded() -> None:
            await work

        task = asyncio.create_task(guarded(), name=name)

        def ended(done: asyncio.Task[None]) -> None:
            if done.cancelled() or self._stopping.is_set():
                return
            self.failed = True
            log.error(
                "worker ended unexpectedly; stopping the service", worker=name, error=repr(done.exception())
            )
            self.stop()

        task.add_done_callback(ended)
        return task

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        """Stop in order: workers finish and commit, the relay publishes what they wrote, then close.

        Consumers and timers finish their transaction and commit; then the relay drains the outbox;
        then the producer flushes; then connections close.
        """
        self._stopping.set()
        self.readiness.started = False
        deadline = asyncio.get_running_loop().time() + self.settings.shutdown_timeout_seconds

        def left(share: float = 1.0) -> float:
            return max(0.5, (deadline - asyncio.get_running_loop().time()) * share)

        workers = [task for task in tasks if task.get_name() != "relay"]
        await _finish(workers, left(0.5))  # half the time for the work in flight, the rest to publish it
        self._relay_stopping.set()
        await _finish([task for task in tasks if task.get_name() == "relay"], left(0.8))
        if self.producer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.producer.stop(), left(0.7))
        if self.pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pool.close(), left())
        if self.http is not None:
            await self.http.stop()
        log.info("service stopped")

    async def _until_up(self, what: str, action: Callable[[], Awaitable[Any]]) -> Any:  # noqa: ANN401 -- the action's own result
        """Run an action, retrying with back-off while `what` is unreachable; None if stopped first."""
        attempt = 0
        while not self._stopping.is_set():
            try:
                result = await action()
            except Exception as error:
                if not is_infrastructure_error(error) and not _is_kafka_unreachable(error):
                    raise
                attempt += 1
                log.warning("waiting for infrastructure", what=what, attempt=attempt, error=repr(error))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff.delay(attempt, cap=5))
            else:
                return result if result is not None else True
        return None

    async def _create_pool(self) -> asyncpg.Pool[asyncpg.Record]:
        return await db.create_pool(
            self.url,
            self.schema,
            application=f"oms-{self.definition.name}",
            min_size=self.settings.database.pool_min,
            max_size=self.settings.database.pool_max,
        )

    async def _database_answers(self) -> bool:
        assert self.pool is not None  # noqa: S101 -- added after the pool exists
        async with self.pool.acquire(timeout=2) as conn:
            return bool(await conn.fetchval("SELECT 1"))

    async def _kafka_answers(self) -> bool:
        assert self.producer is not None  # noqa: S101 -- added after the producer exists
        await self.producer.client.fetch_all_metadata()
        return True

    async def _consumer_running(self) -> bool:
        return self.consumer is not None and self.consumer.running


def _is_kafka_unreachable(error: BaseException) -> bool:
    from aiokafka.errors import KafkaError  # noqa: PLC0415 -- kept next to its only use

    return isinstance(error, KafkaError)


async def _finish(tasks: list[asyncio.Task[None]], seconds: float) -> None:
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        task.cancel()
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("worker ended with an error", worker=task.get_name(), error=repr(task.exception()))


def main(definition: ServiceDefinition, settings: ServiceSettings) -> None:
    """Entry point of a service process: `python -m oms.<service>`."""
    oms_logging.configure(definition.name, settings.log_level)
    runtime = ServiceRuntime(definition, settings)
    asyncio.run(runtime.run())
    if runtime.failed:
        raise SystemExit(1)
