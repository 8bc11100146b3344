"""Which failures are outages to wait out (never dead-lettered) and which are the message's own fault."""

from __future__ import annotations

import errno

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError, NodeNotReadyError

# SQLSTATE classes meaning "the server is unavailable or shutting down", not "this statement is wrong":
# 08 connection exception, 53 insufficient resources, 57P0x admin/crash shutdown or cannot connect now,
# 40001/40P01 serialization failure and deadlock (retry as-is).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53", "57P", "40001", "40P01")

_KAFKA_TRANSIENT = (KafkaConnectionError, KafkaTimeoutError, NodeNotReadyError)


# OS errors that mean "the network or the peer is away", not "this file is missing".
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EPIPE,
        errno.ETIMEDOUT,
    }
)


def is_infrastructure_error(error: BaseException) -> bool:  # noqa: PLR0911 -- one return per kind of failure reads best
    """True when the database or the broker is away (or busy): wait and retry, never blame the message.

    Only an explicit cause (`raise ... from`) is followed: an error raised while handling another one
    is the handler's own.
    """
    if isinstance(error, TimeoutError | ConnectionError):
        return True
    if isinstance(error, OSError):
        return error.errno in _NETWORK_ERRNOS or error.errno is None
    if isinstance(error, asyncpg.InternalClientError):
        return True  # the protocol state of a connection torn down under an operation
    if isinstance(error, asyncpg.InterfaceError):
        # Client-side errors (a value out of range, "another operation is in progress") are bugs or
        # bad data; only a lost or closed connection is an outage.
        return isinstance(error, asyncpg.ConnectionDoesNotExistError) or "closed" in str(error)
    if isinstance(error, asyncpg.PostgresError):
        state = getattr(error, "sqlstate", "") or ""
        return state.startswith(_TRANSIENT_SQLSTATE_PREFIXES)
    if isinstance(error, _KAFKA_TRANSIENT):
        return True
    if isinstance(error, KafkaError) and getattr(error, "retriable", False):
        return True
    cause = error.__cause__
    return cause is not None and cause is not error and is_infrastructure_error(cause)
