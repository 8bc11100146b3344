"""What every adapter needs: exact money sums, empty-to-None, HMAC signatures, a clear adapter error."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any


class AdapterError(ValueError):
    """The payload is not an order this adapter can read; the message says which field and why."""


def text(value: Any) -> str | None:  # noqa: ANN401 -- platform payloads are untyped JSON
    """A string with surrounding space removed; None for null or empty."""
    if value is None:
        return None
    cleaned = str(value).strip()
    return cleaned or None


def money(value: Any, field: str) -> Decimal:  # noqa: ANN401 -- platform payloads are untyped JSON
    """An amount from a string or an exact JSON number (payloads are parsed with Decimal, never float)."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool | float):
        raise AdapterError(f"{field}: {value!r} is not an exact amount")
    try:
        return Decimal(str(value))
    except ArithmeticError as error:
        raise AdapterError(f"{field}: {value!r} is not an amount") from error


def total(values: list[Any], field: str) -> Decimal:
    return sum((money(value, field) for value in values), Decimal(0))


def service_level(*names: Any) -> str:  # noqa: ANN401 -- platform payloads are untyped JSON
    """The service level a shipping method's names suggest: next day, express, else standard."""
    words = " ".join(str(name or "").lower().replace("_", " ").replace("-", " ") for name in names)
    if any(marker in words for marker in ("next day", "nextday", "overnight", "same day")):
        return "next_day"
    if any(marker in words for marker in ("express", "priority", "expedited")):
        return "express"
    return "standard"


def base64_hmac_sha256(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_matches(secret: str, body: bytes, signature: str | None) -> bool:
    """Shopify and WooCommerce both sign the raw body: base64(HMAC-SHA256(body, secret)); constant time."""
    if not signature or not secret:
        return False
    return hmac.compare_digest(base64_hmac_sha256(secret, body), signature.strip())
