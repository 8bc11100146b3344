"""Which failures are outages to wait out (never dead-lettered) and which are the message's own fault."""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, NodeNotReadyError

# SQLSTATE classes meaning "the server is unavailable or shutting down", not "this statement is wrong":
# 08 connection exception, 53 insufficient resources, 57P0x admin/crash shutdown or cannot connect now,
# 40001/40P01 serialization failure and deadlock (retry as-is).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40001", "40P01")

_KAFKA_TRANSIENT = (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError)


def is_infrastructure_error(error: BaseException) -> bool:
    """True when the database or the broker is away (or busy): wait and retry, never blame the message."""
    if isinstance(error, OSError | TimeoutError | ConnectionError | asyncpg.InterfaceError):
        return True
    if isinstance(error, asyncpg.PostgresError):
        state = getattr(error, "sqlstate", "") or ""
        return state.startswith(_TRANSIENT_SQLSTATE_PREFIXES)
    if isinstance(error, _KAFKA_TRANSIENT):
        return True
    if isinstance(error, KafkaError) and getattr(error, "retriable", False):
        return True
    cause = error.__cause__ or error.__context__
    return cause is not None and cause is not error and is_infrastructure_error(cause)
