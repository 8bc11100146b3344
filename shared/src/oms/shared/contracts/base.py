"""Building blocks of every contract model: frozen, tolerant of unknown fields, exact money, exact ids."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer


class Contract(BaseModel):
    """A message shape: immutable, and unknown fields are ignored so producers can add fields."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def _exact_decimal(value: object) -> object:
    """Money from a string, an int or a Decimal; a float is read from its shortest repr, never its binary."""
    if isinstance(value, bool):
        raise ValueError("a money amount cannot be a boolean")  # noqa: TRY004 -- pydantic turns ValueError into a field error
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str | int):
        try:
            value = Decimal(str(value).strip())
        except InvalidOperation as error:
            raise ValueError(f"not a decimal amount: {value!r}") from error
    return value


def _finite(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("a money amount must be a finite number")
    return value


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must be zero or more")
    return value


# Money travels as a decimal string ("6.00") and is held as Decimal; JSON numbers are accepted on input.
Money = Annotated[
    Decimal,
    BeforeValidator(_exact_decimal),
    AfterValidator(_finite),
    PlainSerializer(lambda amount: format(amount, "f"), return_type=str, when_used="json"),
]
NonNegativeMoney = Annotated[Money, AfterValidator(_non_negative)]


def _id_text(value: object) -> object:
    """Ids keep every digit: a JSON integer (Shopify's exceed 2^53) becomes its exact decimal text."""
    if isinstance(value, bool):
        raise ValueError("an id cannot be a boolean")  # noqa: TRY004 -- pydantic turns ValueError into a field error
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and not value.strip():
        raise ValueError("an id cannot be empty")
    return value


Id = Annotated[str, BeforeValidator(_id_text)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a time needs an offset or Z (RFC 3339)")
    return value


# RFC 3339 times; a time without an offset is rejected, never guessed.
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]

ModelT = TypeVar("ModelT", bound=BaseModel)


def loads_exact(raw: bytes | str) -> Any:  # noqa: ANN401 -- JSON is any value
    """Parse JSON with every number exact: decimals as Decimal, integers as int (never through float)."""
    return json.loads(raw, parse_float=Decimal)


def decode_exact(model: type[ModelT], raw: bytes | str) -> ModelT:
    """Validate JSON into a model with exact numbers (pydantic's own JSON parser reads decimals as floats)."""
    return model.model_validate(loads_exact(raw))
