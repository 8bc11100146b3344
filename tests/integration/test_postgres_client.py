"""asyncpg against the real PostgreSQL: connect, own schema, transactions that commit or roll back."""

from __future__ import annotations

import asyncpg
import pytest

pytestmark = pytest.mark.postgres


async def test_connects_and_reports_a_server_version(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        version = conn.get_server_version()
        assert version.major >= 13
        assert await conn.fetchval("SELECT current_database()") == database_url.rsplit("/", 1)[1]
    finally:
        await conn.close()


async def test_a_committed_transaction_is_visible_and_a_failed_one_leaves_nothing(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE SCHEMA orders")
        await conn.execute("CREATE TABLE orders.seen (id text PRIMARY KEY, amount numeric NOT NULL)")
        async with conn.transaction():
            await conn.execute("INSERT INTO orders.seen VALUES ('a', 6.00)")

        async def insert_b_then_a_again() -> None:
            async with conn.transaction():
                await conn.execute("INSERT INTO orders.seen VALUES ('b', 1.50)")
                await conn.execute("INSERT INTO orders.seen VALUES ('a', 2.00)")

        with pytest.raises(asyncpg.UniqueViolationError):
            await insert_b_then_a_again()

        rows = await conn.fetch("SELECT id, amount::text FROM orders.seen ORDER BY id")
        assert [tuple(row) for row in rows] == [("a", "6.00")]
    finally:
        await conn.close()


async def test_each_test_gets_an_empty_database_of_its_own(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        schemas = await conn.fetch(
            "SELECT nspname FROM pg_namespace"
            " WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
        )
        assert [row["nspname"] for row in schemas] == ["public"]
    finally:
        await conn.close()
