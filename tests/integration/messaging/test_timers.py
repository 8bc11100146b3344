"""Durable timers on real PostgreSQL: they survive restarts, fire once across instances, retry failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from oms.shared.clock import ManualClock
from oms.shared.db import schema as db
from oms.shared.messaging.naming import TopicNames
from oms.shared.messaging.timers import Timer, TimerHandler, TimerPoller
from oms.shared.messaging.unit_of_work import UnitOfWork
from oms.shared.runtime import ServiceDefinition
from tests.integration.messaging.support import MIGRATIONS, effects, running, schema, settings_for

if TYPE_CHECKING:
    import asyncpg

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SERVICE = "fulfilment"


async def _remember(uow: UnitOfWork, timer: Timer) -> None:
    await uow.conn.execute(
        "INSERT INTO effects (event_id, label) VALUES ($1, $2)", f"timer:{timer.key}", timer.payload["label"]
    )


def _with_timers() -> ServiceDefinition:
    return ServiceDefinition(name=SERVICE, migrations=[MIGRATIONS], timers={"remember": _remember})


async def _schedule(database_url: str, clock: ManualClock, keys: list[str], due_in: timedelta) -> None:
    await db.migrate(database_url, schema(SERVICE), [MIGRATIONS])
    conn = await db.connect(database_url, schema(SERVICE), application="test")
    try:
        async with conn.transaction():
            uow = UnitOfWork(conn, source=SERVICE, schema=schema(SERVICE), names=TopicNames(), clock=clock)
            for key in keys:
                await uow.schedule("remember", key, clock.now() + due_in, {"label": key})
    finally:
        await conn.close()


async def test_a_timer_due_while_the_service_was_down_fires_once_after_its_restart(
    kafka_bootstrap: str, database_url: str, topic_prefix: str
) -> None:
    clock = ManualClock()
    settings = settings_for(kafka_bootstrap, database_url, topic_prefix)
    await _schedule(database_url, clock, ["expiry-1"], due_in=timedelta(minutes=15))

    async with running(_with_timers(), settings, clock):
        await asyncio.sleep(0.5)
        assert await effects(database_url, schema(SERVICE)) == []  # not due yet

    clock.advance(timedelta(minutes=16))  # the service was down when it fell due
    async with running(_with_timers(), settings, clock):
        async with asyncio.timeout(10):
            while not await effects(database_url, schema(SERVICE)):
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # several more polls: it must not fire again

    assert [row["label"] for row in await effects(database_url, schema(SERVICE))] == ["expiry-1"]


async def test_due_timers_fire_once_with_two_instances_polling_at_once(database_url: str) -> None:
    clock = ManualClock()
    keys = [f"t{n}" for n in range(60)]
    await _schedule(database_url, clock, keys, due_in=timedelta(seconds=-1))
    pool = await db.create_pool(database_url, schema(SERVICE), application="test", min_size=2, max_size=4)
    try:
        pollers = [_poller(pool, _remember, clock, batch_max=7) for _ in range(2)]
        per_instance = [0, 0]
        while sum(per_instance) < len(keys):
            taken = await asyncio.gather(*(poller.fire_due() for poller in pollers))
            per_instance = [total + count for total, count in zip(per_instance, taken, strict=True)]
    finally:
        await pool.close()

    rows = await effects(database_url, schema(SERVICE))
    assert sorted(row["label"] for row in rows) == sorted(keys)  # each once: 60 rows, 60 distinct
    assert sum(per_instance) == len(keys)
    assert min(per_instance) > 0  # both instances fired some


async def test_a_failing_timer_is_retried_later_and_does_not_hold_up_the_others(database_url: str) -> None:
    clock = ManualClock()
    failures = {"flaky": 1}

    async def sometimes_fails(uow: UnitOfWork, timer: Timer) -> None:
        if failures.get(timer.key, 0) > 0:
            failures[timer.key] -= 1
            await uow.conn.execute("INSERT INTO effects (event_id, label) VALUES ('undone', 'undone')")
            raise RuntimeError("compensation failed")
        await _remember(uow, timer)

    await _schedule(database_url, clock, ["flaky", "steady"], due_in=timedelta(seconds=-1))
    pool = await db.create_pool(database_url, schema(SERVICE), application="test", min_size=1, max_size=2)
    try:
        poller = _poller(pool, sometimes_fails, clock)
        assert await poller.fire_due() == 2
        assert [row["label"] for row in await effects(database_url, schema(SERVICE))] == ["steady"]
        assert await poller.fire_due() == 0  # postponed, with back-off
        row = await _timer_row(pool, "flaky")
        assert row["attempts"] == 1
        assert "compensation failed" in row["last_error"]

        clock.advance(timedelta(minutes=10))
        assert await poller.fire_due() == 1
    finally:
        await pool.close()
    assert sorted(row["label"] for row in await effects(database_url, schema(SERVICE))) == ["flaky", "steady"]


async def test_a_timer_handler_may_schedule_its_own_follow_up(database_url: str) -> None:
    clock = ManualClock()

    async def follow_up(uow: UnitOfWork, timer: Timer) -> None:
        await _remember(uow, timer)
        if timer.payload["label"] == "first":
            await uow.schedule("remember", timer.key, clock.now() + timedelta(minutes=5), {"label": "second"})

    await _schedule(database_url, clock, ["first"], due_in=timedelta(seconds=-1))
    pool = await db.create_pool(database_url, schema(SERVICE), application="test", min_size=1, max_size=2)
    try:
        poller = _poller(pool, follow_up, clock)
        assert await poller.fire_due() == 1
        assert await poller.fire_due() == 0  # the follow-up is due in five minutes
        clock.advance(timedelta(minutes=6))
        assert await poller.fire_due() == 1
    finally:
        await pool.close()
    assert [row["label"] for row in await effects(database_url, schema(SERVICE))] == ["first", "second"]


def _poller(
    pool: asyncpg.Pool[asyncpg.Record], handler: TimerHandler, clock: ManualClock, batch_max: int = 200
) -> TimerPoller:
    return TimerPoller(
        service=SERVICE,
        pool=pool,
        handlers={"remember": handler},
        schema=schema(SERVICE),
        names=TopicNames(),
        clock=clock,
        poll_seconds=0.05,
        batch_max=batch_max,
    )


async def _timer_row(pool: asyncpg.Pool[asyncpg.Record], key: str) -> dict[str, Any]:
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT attempts, last_error FROM timers WHERE key = $1", key)
    assert row is not None
    return dict(row)
