"""The channel adapters on the real Shopify and WooCommerce payloads (../shared/samples) and their traps."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oms.order.adapters import shopify, woocommerce
from oms.order.adapters.common import AdapterError, base64_hmac_sha256, signature_matches
from oms.shared.contracts.base import loads_exact
from oms.shared.contracts.channel_orders import ChannelOrder

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "channels"


def _sample(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = loads_exact((SAMPLES / name).read_bytes())
    return payload


def test_the_real_shopify_order_becomes_a_valid_channel_order() -> None:
    order = ChannelOrder.model_validate(
        shopify.to_channel_order(_sample("shopify_rest_order.json"), "shopify-us")
    )

    assert (order.channel, order.external_id, order.currency) == ("shopify-us", "450789469", "USD")
    assert order.placed_at.isoformat() == "2008-01-10T11:00:00-05:00"
    assert [line.sku for line in order.lines] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert [line.unit_price for line in order.lines] == [Decimal("199.00")] * 3
    assert order.totals.subtotal == Decimal("398.00")  # the fixture states 398 for three lines of 199
    assert order.totals.total == Decimal("409.94")
    assert order.payment.status == "authorized"
    assert order.shipping_address.country_code == "US"
    assert order.shipping_address.region == "KY"
    assert order.cancelled is False


def test_the_real_woocommerce_order_becomes_a_valid_channel_order_in_utc() -> None:
    order = ChannelOrder.model_validate(
        woocommerce.to_channel_order(_sample("woocommerce_order_v3.json"), "woo-us")
    )

    assert order.external_id == "727"
    assert (
        order.placed_at.isoformat() == "2017-03-22T19:28:02+00:00"
    )  # date_created_gmt, not the shop's local time
    assert [(line.sku, line.channel_product_id, line.channel_variant_id) for line in order.lines] == [
        (None, "93", None),  # the empty SKU: to be mapped through the catalogue's listings
        ("Bar3", "22", "23"),
    ]
    assert [line.unit_price for line in order.lines] == [Decimal("3.00"), Decimal("12.00")]
    assert order.totals.subtotal == Decimal("18.00")
    assert order.totals.total == Decimal("29.35")
    assert order.payment.status == "paid"


def test_shopify_ids_above_two_to_the_53_keep_every_digit() -> None:
    payload = _sample("shopify_rest_order.json")
    raw = json.dumps(payload, default=str).replace("450789469", "820982911946154508")
    order = ChannelOrder.model_validate(shopify.to_channel_order(loads_exact(raw), "shopify-us"))

    assert order.external_id == "820982911946154508"


def test_shopify_tags_are_a_comma_separated_string_and_cancellation_is_a_time() -> None:
    payload = _sample("shopify_rest_order.json")
    payload["order"] |= {"tags": "vip, gift ,,", "cancelled_at": "2008-01-11T09:00:00-05:00"}
    order = ChannelOrder.model_validate(shopify.to_channel_order(payload, "shopify-us"))

    assert order.tags == ["vip", "gift"]
    assert order.cancelled is True


def test_a_payload_that_is_not_an_order_is_refused_with_the_reason() -> None:
    with pytest.raises(AdapterError, match="not a Shopify order"):
        shopify.to_channel_order({"product": {}}, "shopify-us")
    with pytest.raises(AdapterError, match="not a WooCommerce order"):
        woocommerce.to_channel_order({"id": 1}, "woo-us")


def test_webhook_signatures_are_base64_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"id": 1}'
    signature = base64_hmac_sha256("s3cret", body)

    assert signature_matches("s3cret", body, signature)
    assert not signature_matches("s3cret", body + b" ", signature)
    assert not signature_matches("other", body, signature)
    assert not signature_matches("s3cret", body, None)


def test_a_channel_with_a_configured_zone_gets_it_on_times_without_an_offset_and_only_there() -> None:
    from oms.order.time_zones import zone_applier  # noqa: PLC0415 -- the unit under test

    apply = zone_applier({"woo-eu": "Europe/Berlin"})
    local = {
        "channel": "woo-eu",
        "placed_at": "2026-12-01T10:00:00",
        "updated_at": "2026-12-01T11:00:00+00:00",
    }

    assert apply(local) == {
        "channel": "woo-eu",
        "placed_at": "2026-12-01T10:00:00+01:00",
        "updated_at": "2026-12-01T11:00:00+00:00",
    }
    other = {"channel": "web-uk", "placed_at": "2026-12-01T10:00:00"}
    assert apply(other) == other  # no zone configured: left alone, and rejected by the contract
