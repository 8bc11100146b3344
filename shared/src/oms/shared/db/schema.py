"""A service's schema: created if missing, migrated with yoyo, then served by an asyncpg pool."""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg
from yoyo import get_backend, read_migrations

CORE_MIGRATIONS = Path(str(resources.files("oms.shared.db") / "migrations"))


def schema_for(service: str) -> str:
    """`oms_<service>`: avoids SQL keywords (`order`) and keeps the suite's schemas together."""
    return f"oms_{service}"


def _yoyo_url(url: str, schema: str) -> str:
    """The same server for yoyo (psycopg 3), with the service's schema first on the search path."""
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode({"schema": schema})]))
    return urlunsplit(parts._replace(scheme="postgresql+psycopg", query=query))


def _apply(url: str, schema: str, sources: list[Path]) -> list[str]:
    backend = get_backend(_yoyo_url(url, schema))
    try:
        migrations = read_migrations(*(str(source) for source in sources))
        with backend.lock():  # several instances starting at once: one migrates, the others wait
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
        return [migration.id for migration in pending]
    finally:
        backend.connection.close()


async def ensure_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    except asyncpg.UniqueViolationError:
        pass  # another instance created it at the same moment
    finally:
        await conn.close()


async def migrate(url: str, schema: str, sources: list[Path]) -> list[str]:
    """Create the schema and apply pending migrations (core first); returns the ids applied."""
    await ensure_schema(url, schema)
    return await asyncio.to_thread(_apply, url, schema, [CORE_MIGRATIONS, *sources])


async def create_pool(
    url: str, schema: str, *, application: str, min_size: int, max_size: int
) -> asyncpg.Pool[asyncpg.Record]:
    """A pool whose connections see the service's schema first (a startup parameter: survives RESET ALL)."""
    pool: asyncpg.Pool[asyncpg.Record] | None = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": schema, "application_name": application},
    )
    if pool is None:  # only when create_pool is told not to initialise, which it is not
        raise RuntimeError("asyncpg returned no pool")
    return pool


# The server probes an idle client after 30 s and drops it after three unanswered probes: a relay
# whose host vanished releases its advisory lock within about a minute, not the OS default of hours.
_KEEPALIVES = {"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3"}


async def connect(url: str, schema: str, *, application: str) -> asyncpg.Connection[Any]:
    """A dedicated connection (relay lock, LISTEN) outside the pool, with the same search path."""
    settings = {"search_path": schema, "application_name": application, **_KEEPALIVES}
    return await asyncpg.connect(url, server_settings=settings)
