"""What goes to a rejected topic (unreadable or schema-invalid input) and to the dead-letter topic."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from oms.shared.contracts.base import Contract

if TYPE_CHECKING:
    from collections.abc import Mapping


class Reason(Contract):
    field: str
    code: str
    message: str


class _Returned(Contract):
    """Where a message came from, why it was refused, and its original bytes and headers."""

    source_topic: str
    partition: int
    offset: int
    key: str | None
    received_at: datetime
    reasons: tuple[Reason, ...]
    original_base64: str
    original_headers: dict[str, str]


class Rejected(_Returned):
    """DESIGN.md §2: input that cannot be read or is not of the schema, returned to its sender."""

    type: Literal["Rejected"] = "Rejected"


class DeadLetter(_Returned):
    """The rejected shape plus who failed, how often and why (`oms.dlq.v1`); operators replay it."""

    type: Literal["DeadLetter"] = "DeadLetter"
    consumer_group: str
    attempts: int
    error: str


def reasons_from(error: Exception) -> tuple[Reason, ...]:
    """Field-level reasons: one per pydantic error (path, code, message), else one for the message."""
    if isinstance(error, ValidationError):
        return tuple(
            Reason(
                field=".".join(str(part) for part in detail["loc"]) or "$",
                code=detail["type"],
                message=detail["msg"],
            )
            for detail in error.errors(include_url=False)
        )
    if isinstance(error, UnicodeDecodeError):
        return (Reason(field="$", code="not_utf8", message=f"the body is not UTF-8 text: {error}"),)
    if isinstance(error, json.JSONDecodeError):
        return (Reason(field="$", code="invalid_json", message=f"the body is not JSON: {error}"),)
    if isinstance(error, ValueError):
        return (Reason(field="$", code="invalid_value", message=str(error)),)
    return (Reason(field="$", code=type(error).__name__, message=str(error)),)


def original(value: bytes | None, headers: Mapping[str, str]) -> dict[str, object]:
    """The original bytes and headers, exactly as they arrived."""
    return {
        "original_base64": base64.b64encode(value or b"").decode("ascii"),
        "original_headers": dict(headers),
    }
