"""WooCommerce: a REST API v3 order (also the body of its `order.created` / `order.updated` webhooks)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from oms.order.adapters.common import AdapterError, money, service_level, text

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
DELIVERY_HEADER = "X-WC-Webhook-Delivery-ID"

# status -> (payment status, cancelled)
_STATUS = {
    "pending": ("pending", False),
    "on-hold": ("pending", False),  # awaiting a bank transfer or cheque
    "failed": ("pending", False),
    "processing": ("paid", False),
    "completed": ("paid", False),
    "refunded": ("paid", False),
    "cancelled": ("pending", True),
}


def to_channel_order(payload: dict[str, Any], channel: str) -> dict[str, Any]:
    """The inbound contract for a WooCommerce order.

    Times: `date_created` is the shop's local time without an offset; `date_created_gmt` is UTC by its
    name, also without an offset, so it is the one used (with Z). Line `price` is a JSON number after
    discounts, so the unit price is `subtotal / quantity` (strings, exact) and the line discount is
    `subtotal - total`. Coupons are already inside the line totals: the order-level discount is 0.
    """
    if "id" not in payload or "line_items" not in payload:
        raise AdapterError("not a WooCommerce order: no id or line_items")
    billing = payload.get("billing") or {}
    shipping = payload.get("shipping") or {}
    shipping_lines = payload.get("shipping_lines") or []
    status, cancelled = _STATUS.get(str(payload.get("status")), ("pending", False))
    lines = [_line(line) for line in payload["line_items"]]
    return {
        "channel": channel,
        "external_id": str(payload["id"]),
        "updated_at": _utc(payload.get("date_modified_gmt")),
        "placed_at": _utc(payload.get("date_created_gmt")),
        "currency": payload.get("currency"),
        "customer": {
            "email": text(billing.get("email")),
            "name": _person(billing),
            "phone": text(billing.get("phone")),
        },
        "shipping_address": _address(shipping if shipping.get("address_1") else billing),
        "billing_address": _address(billing) if billing.get("address_1") else None,
        "lines": lines,
        "shipping": {
            "service_level": service_level(
                *(f"{ln.get('method_id')} {ln.get('method_title')}" for ln in shipping_lines)
            ),
            "price": money(payload.get("shipping_total"), "shipping_total"),
        },
        "totals": {
            "subtotal": sum(
                (line["unit_price"] * line["quantity"] - (line["discount"] or 0) for line in lines),
                Decimal(0),
            ),
            "shipping": money(payload.get("shipping_total"), "shipping_total"),
            "tax": money(payload.get("total_tax"), "total_tax"),
            "discount": 0,
            "total": money(payload.get("total"), "total"),
        },
        "payment": {
            "status": status,
            "method": text(payload.get("payment_method")),
            "amount": money(payload.get("total"), "total"),
        },
        "cancelled": cancelled,
        "tags": None,
        "note": text(payload.get("customer_note")),
    }


def _utc(value: Any) -> str | None:  # noqa: ANN401 -- untyped JSON
    """A `*_gmt` time: UTC by its name, written without an offset; given its Z here."""
    stamp = text(value)
    if stamp is None:
        return None
    return stamp if stamp.endswith("Z") or "+" in stamp[10:] else f"{stamp}Z"


def _person(party: dict[str, Any]) -> str | None:
    return text(" ".join(filter(None, (text(party.get("first_name")), text(party.get("last_name"))))))


def _address(party: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": _person(party) or text(party.get("company")),
        "line1": text(party.get("address_1")),
        "line2": text(party.get("address_2")),
        "city": text(party.get("city")),
        "region": text(party.get("state")),
        "postal_code": text(party.get("postcode")),
        "country_code": text(party.get("country")),
    }


def _line(line: dict[str, Any]) -> dict[str, Any]:
    quantity = line.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise AdapterError(f"line_items.quantity: {quantity!r} is not a whole number")
    subtotal = money(line.get("subtotal"), "line_items.subtotal")
    line_total = money(line.get("total"), "line_items.total")
    variation = line.get("variation_id")
    return {
        "sku": text(line.get("sku")),
        "channel_product_id": text(line.get("product_id")),
        "channel_variant_id": text(variation) if variation not in (None, 0, "0") else None,
        "quantity": quantity,
        "unit_price": subtotal / quantity if quantity > 0 else subtotal,
        "discount": (subtotal - line_total) if subtotal > line_total else None,
        "tax": money(line.get("total_tax"), "line_items.total_tax"),
        "title": text(line.get("name")),
    }
