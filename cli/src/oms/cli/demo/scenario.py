"""What the demo feeds the suite: a catalogue, warehouses and stock, and a stream of realistic orders.

Every order is generated with totals that add up, from four channels, and a known share of them
exercises one path of the saga: duplicates, an update before its create, late payments, fraud holds,
cancellations, stock-outs of scarce SKUs and backorders later filled by a stock receipt. The stream is
seeded, so two runs with the same size produce the same orders.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CHANNELS = {
    "shopify-us": ("USD", "US", "10001"),
    "woo-us": ("USD", "US", "94105"),
    "pos-leeds": ("GBP", "GB", "LS1 4AP"),
    "marketplace-de": ("EUR", "DE", "10115"),
}
BACKORDER_CHANNEL = "woo-us"  # this channel's customers wait for stock instead of being refunded

# sku -> (title, unit price, weight grams)
PLENTIFUL = {
    "MUG-STONE": ("Stoneware mug", "12.00", 450),
    "TEA-EARLGREY": ("Earl Grey, 250 g", "8.50", 280),
    "TOWEL-LINEN": ("Linen tea towel", "14.00", 120),
    "CANDLE-FIG": ("Fig candle", "24.00", 600),
    "BOWL-ASH": ("Ash serving bowl", "38.00", 900),
    "SPOON-BRASS": ("Brass spoon", "9.00", 60),
}
SCARCE = {
    "LAMP-BRASS": ("Brass desk lamp", "120.00", 2100),
    "CHAIR-OAK": ("Oak chair", "340.00", 7800),
}
# The SKUs of the two real sample orders, so they meet a catalogue that knows them.
REAL = {
    "IPOD2008GREEN": ("IPod Nano - 8gb", "199.00", 200),
    "IPOD2008RED": ("IPod Nano - 8gb", "199.00", 200),
    "IPOD2008BLACK": ("IPod Nano - 8gb", "199.00", 200),
    "WOO-SINGLE-1": ("Woo Single #1", "3.00", 100),
    "Bar3": ("Ship Your Idea", "12.00", 300),
}
WAREHOUSES = ("leeds", "york", "berlin")
SCARCE_UNITS = {"LAMP-BRASS": 40, "CHAIR-OAK": 12}
RESTOCK = {"LAMP-BRASS": 30}  # the receipt that fills backorders at the end


def products() -> list[dict[str, Any]]:
    listings = {"WOO-SINGLE-1": [{"channel": "woo-us", "product_id": "93"}]}
    return [
        {
            "sku": sku,
            "title": title,
            "weight_grams": weight,
            "dimensions_mm": {"length": 200, "width": 150, "height": 100},
            "channel_listings": listings.get(sku, []),
            "active": True,
        }
        for sku, (title, _, weight) in (PLENTIFUL | SCARCE | REAL).items()
    ]


def stock() -> list[dict[str, Any]]:
    """Receipts: plentiful SKUs in every warehouse, scarce ones in one, the real orders' SKUs in Leeds."""
    receipts = [
        {
            "reference": f"seed:{warehouse}:{sku}",
            "sku": sku,
            "location": warehouse,
            "delta": 100_000,
            "reason": "received",
        }
        for warehouse in WAREHOUSES
        for sku in PLENTIFUL
    ]
    receipts += [
        {
            "reference": f"seed:york:{sku}",
            "sku": sku,
            "location": "york",
            "delta": units,
            "reason": "received",
        }
        for sku, units in SCARCE_UNITS.items()
    ]
    receipts += [
        {"reference": f"seed:leeds:{sku}", "sku": sku, "location": "leeds", "delta": 50, "reason": "received"}
        for sku in REAL
    ]
    return receipts


def restock() -> list[dict[str, Any]]:
    return [
        {"reference": f"restock:{sku}", "sku": sku, "location": "york", "delta": units, "reason": "received"}
        for sku, units in RESTOCK.items()
    ]


# What share of the stream (in percent) takes each path of the saga.
MIX = [
    ("normal", 81),
    ("scarce", 8),
    ("pending", 3),
    ("duplicate", 3),
    ("fraud", 2),
    ("cancel", 2),
    ("update_first", 1),
]


@dataclass
class Stream:
    """The generated orders, in the order to send them, and what each special case is."""

    sends: list[dict[str, Any]] = field(default_factory=list)
    later: list[dict[str, Any]] = field(default_factory=list)  # late payments and cancellations
    kinds: dict[str, str] = field(default_factory=dict)  # "{channel}:{external_id}" -> kind

    @property
    def orders(self) -> int:
        return len(self.kinds)


def stream(size: int, seed: int = 2026) -> Stream:
    rng = random.Random(seed)  # noqa: S311 -- reproducible demo data, not security
    result = Stream()
    for number in range(size):
        channel = list(CHANNELS)[number % len(CHANNELS)]
        kind = rng.choices([name for name, _ in MIX], weights=[weight for _, weight in MIX])[0]
        order = _order(rng, channel, f"D{number:06d}", kind)
        key = f"{channel}:{order['external_id']}"
        result.kinds[key] = kind
        if kind == "duplicate":
            result.sends += [order, order]
        elif kind == "update_first":
            newer = order | {"updated_at": "2026-12-03T10:05:00Z", "note": "gift wrap, please"}
            result.sends += [newer, order]
        elif kind == "pending":
            result.sends.append(order)
            if number % 2 == 0:  # half of them pay later
                paid = order | {
                    "updated_at": "2026-12-03T10:30:00Z",
                    "payment": order["payment"] | {"status": "paid"},
                }
                result.later.append(paid)
        elif kind == "cancel":
            result.sends.append(order)
            result.later.append(order | {"updated_at": "2026-12-03T10:20:00Z", "cancelled": True})
        else:
            result.sends.append(order)
    return result


def _order(rng: random.Random, channel: str, external_id: str, kind: str) -> dict[str, Any]:
    currency, country, postcode = CHANNELS[channel]
    skus = rng.sample(sorted(PLENTIFUL), rng.randint(1, 3))
    lines = [{"sku": sku, "quantity": rng.randint(1, 3), "unit_price": PLENTIFUL[sku][1]} for sku in skus]
    if kind == "scarce":
        sku = rng.choice(sorted(SCARCE))
        lines = [{"sku": sku, "quantity": 1, "unit_price": SCARCE[sku][1]}]
    if kind == "fraud" and rng.choice([True, False]):
        lines = [
            {"sku": "CHAIR-OAK", "quantity": 5, "unit_price": SCARCE["CHAIR-OAK"][1]}
        ]  # far over the limit
    subtotal = sum(
        (Decimal(str(line["unit_price"])) * int(str(line["quantity"])) for line in lines), Decimal(0)
    )
    shipping = Decimal("4.95")
    total = subtotal + shipping
    email = "fraud@example.com" if kind == "fraud" else f"customer{rng.randint(1, 10**6)}@example.com"
    address = {
        "name": "Demo Customer",
        "line1": f"{rng.randint(1, 200)} Market Street",
        "city": "Demo City",
        "postal_code": postcode,
        "country_code": country,
    }
    return {
        "channel": channel,
        "external_id": external_id,
        "updated_at": "2026-12-03T10:00:00Z",
        "placed_at": "2026-12-03T10:00:00Z",
        "currency": currency,
        "customer": {"email": email, "name": "Demo Customer"},
        "shipping_address": address,
        "billing_address": address,
        "lines": lines,
        "shipping": {
            "service_level": rng.choice(["standard", "standard", "express", "next_day"]),
            "price": str(shipping),
        },
        "totals": {
            "subtotal": str(subtotal),
            "shipping": str(shipping),
            "tax": "0",
            "discount": "0",
            "total": str(total),
        },
        "payment": {
            "status": "pending" if kind == "pending" else rng.choice(["paid", "authorized"]),
            "method": "card",
            "amount": str(total),
        },
    }
