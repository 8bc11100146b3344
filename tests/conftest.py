"""Fixtures for every test: one real Kafka and PostgreSQL per session, own topics and database per test."""

from __future__ import annotations

import sys
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from oms.devstack import providers
from oms.devstack.errors import StackError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

_chosen: list[str] = []


def _say(line: str) -> None:
    print(f"[test infrastructure] {line}", file=sys.__stderr__, flush=True)  # shown while pytest captures


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[providers.Infrastructure]:
    """A real broker and database for the session; the run fails loudly (never skips) without them."""
    try:
        with providers.provide(say=_say) as infra:
            _chosen.append(f"Kafka from {infra.kafka_source}, PostgreSQL from {infra.database_source}")
            yield infra
    except StackError as error:
        pytest.fail(f"no real Kafka and PostgreSQL for the tests: {error}", pytrace=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _chosen:
        terminalreporter.write_line(f"test infrastructure: {line}")


@pytest.fixture
def kafka_bootstrap(infrastructure: providers.Infrastructure) -> str:
    return infrastructure.kafka_bootstrap


@pytest.fixture
def topic_prefix() -> str:
    """A prefix of the test's own, so its topics and groups never meet another test's."""
    return f"test-{uuid.uuid4().hex[:12]}."


@pytest.fixture
async def kafka_admin(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    yield admin
    await admin.close()


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture
async def database_url(infrastructure: providers.Infrastructure) -> AsyncIterator[str]:
    """A database of the test's own, created empty and dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(infrastructure.database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _with_database(infrastructure.database_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
