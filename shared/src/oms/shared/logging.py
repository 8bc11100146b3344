"""structlog JSON logs for every service; stdlib loggers (aiokafka, asyncpg, uvicorn) routed through it."""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import TYPE_CHECKING, Any

import structlog

if TYPE_CHECKING:
    from collections.abc import Iterator

    from structlog.types import EventDict, Processor, WrappedLogger

    from oms.shared.contracts.envelope import Envelope

# Keys that carry personal data in this domain; a log line never shows their values.
_PERSONAL = frozenset(
    {
        "email",
        "name",
        "phone",
        "address",
        "line1",
        "line2",
        "city",
        "postal_code",
        "customer",
        "shipping_address",
    }
)


def _redact_personal_data(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    for key in _PERSONAL.intersection(event):
        event[key] = "[redacted]"
    return event


def configure(service: str, level: str = "INFO") -> None:
    """One JSON object per line on stdout, with the service's name and any bound message context."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact_personal_data,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries are chatty at INFO (every connection, every rebalance step): warnings are what operators need.
    for noisy in ("aiokafka", "asyncpg", "uvicorn.access", "yoyo"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


@contextlib.contextmanager
def message_context(envelope: Envelope) -> Iterator[None]:
    """Bind one message's event id, order id and correlation id to every log line written meanwhile."""
    with structlog.contextvars.bound_contextvars(
        event_id=envelope.event_id, order_id=envelope.order_id, correlation_id=envelope.correlation_id
    ):
        yield


def get_logger(name: str) -> Any:  # noqa: ANN401 -- structlog's bound logger is dynamically typed
    return structlog.stdlib.get_logger(name)
