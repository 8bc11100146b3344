"""Shopify: an `orders/create` / `orders/updated` webhook body or a REST Admin Order (`{"order": ...}`)."""

from __future__ import annotations

from typing import Any

from oms.order.adapters.common import AdapterError, money, service_level, text, total

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
DELIVERY_HEADER = "X-Shopify-Webhook-Id"

# financial_status -> the contract's payment status ("paid" covers money taken, even if later refunded)
_PAYMENT = {
    "paid": "paid",
    "partially_refunded": "paid",
    "refunded": "paid",
    "authorized": "authorized",
    "pending": "pending",
    "partially_paid": "pending",
    "unpaid": "pending",
    "voided": "pending",
    "expired": "pending",
}


def to_channel_order(payload: dict[str, Any], channel: str) -> dict[str, Any]:
    """The inbound contract for a Shopify order; the result is validated by the contract model later.

    Shopify's `price` is the unit price; `total_line_items_price` is the sum of lines before discounts,
    so it is the contract's subtotal, and `total_discounts` its order-level discount. When taxes are
    included in prices, the contract's tax is 0 (it is inside the amounts already).
    """
    order = payload.get("order", payload)
    if not isinstance(order, dict) or "id" not in order or "line_items" not in order:
        raise AdapterError("not a Shopify order: no id or line_items")
    customer = order.get("customer") or {}
    shipping_lines = order.get("shipping_lines") or []
    taxes_included = bool(order.get("taxes_included"))
    shipping_address = order.get("shipping_address") or order.get("billing_address")
    if not shipping_address:
        raise AdapterError("shipping_address: the order has no address to ship to")
    status = str(order.get("financial_status") or "pending")
    return {
        "channel": channel,
        "external_id": str(order["id"]),
        "updated_at": order.get("updated_at"),
        "placed_at": order.get("created_at"),
        "currency": order.get("currency"),
        "customer": {
            "email": text(order.get("email")) or text(customer.get("email")),
            "name": _person(customer) or text(shipping_address.get("name")),
            "phone": text(order.get("phone")) or text(customer.get("phone")),
        },
        "shipping_address": _address(shipping_address),
        "billing_address": _address(order["billing_address"]) if order.get("billing_address") else None,
        "lines": [_line(line, taxes_included) for line in order["line_items"]],
        "shipping": {
            "service_level": service_level(
                *(f"{line.get('code')} {line.get('title')}" for line in shipping_lines)
            ),
            "price": total([line.get("price") for line in shipping_lines], "shipping_lines.price"),
        },
        "totals": {
            "subtotal": money(order.get("total_line_items_price"), "total_line_items_price"),
            "shipping": total([line.get("price") for line in shipping_lines], "shipping_lines.price"),
            "tax": 0 if taxes_included else money(order.get("total_tax"), "total_tax"),
            "discount": money(order.get("total_discounts"), "total_discounts"),
            "total": money(order.get("total_price"), "total_price"),
        },
        "payment": {
            "status": _PAYMENT.get(status, "pending"),
            "method": text(order.get("gateway")),
            "amount": money(order.get("total_price"), "total_price"),
        },
        "cancelled": order.get("cancelled_at") is not None,
        "tags": [tag.strip() for tag in str(order.get("tags") or "").split(",") if tag.strip()],
        "note": text(order.get("note")),
    }


def _person(customer: dict[str, Any]) -> str | None:
    return text(" ".join(filter(None, (text(customer.get("first_name")), text(customer.get("last_name"))))))


def _address(address: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": text(address.get("name")) or _person(address),
        "line1": text(address.get("address1")),
        "line2": text(address.get("address2")),
        "city": text(address.get("city")),
        "region": text(address.get("province_code")) or text(address.get("province")),
        "postal_code": text(address.get("zip")),
        "country_code": text(address.get("country_code")),
    }


def _line(line: dict[str, Any], taxes_included: bool) -> dict[str, Any]:  # noqa: FBT001 -- a fact of the order
    allocations = [allocation.get("amount") for allocation in line.get("discount_allocations") or []]
    discount = money(line.get("total_discount"), "line_items.total_discount") or total(
        allocations, "line_items.discount_allocations.amount"
    )
    taxes = [tax.get("price") for tax in line.get("tax_lines") or []]
    return {
        "sku": text(line.get("sku")),
        "channel_product_id": text(line.get("product_id")),
        "channel_variant_id": text(line.get("variant_id")),
        "quantity": line.get("quantity"),
        "unit_price": line.get("price"),
        "discount": discount or None,
        "tax": None if taxes_included or not taxes else total(taxes, "line_items.tax_lines.price"),
        "title": text(line.get("title")),
    }
