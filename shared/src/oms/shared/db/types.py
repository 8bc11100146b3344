"""The connection type handlers receive: a plain asyncpg connection or one borrowed from a pool."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
