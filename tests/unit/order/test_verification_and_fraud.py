"""Business checks of channel orders: totals, SKUs, addresses, and each fraud rule."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from oms.order.domain import fraud, verification
from oms.order.domain.fraud import FraudRules, RecentOrders
from oms.order.domain.status import HoldReason
from oms.shared.contracts.channel_orders import ChannelOrder

BASE: dict[str, Any] = {
    "channel": "web-uk",
    "external_id": "1001",
    "placed_at": "2026-12-01T10:00:00Z",
    "currency": "GBP",
    "customer": {"email": "Buyer@Example.com", "name": "Test Buyer"},
    "shipping_address": {
        "name": "Test Buyer",
        "line1": "1 Example Street",
        "city": "Leeds",
        "postal_code": "LS1 1AA",
        "country_code": "GB",
    },
    "billing_address": {
        "name": "Test Buyer",
        "line1": "1 Example Street",
        "city": "Leeds",
        "postal_code": "LS1 1AA",
        "country_code": "GB",
    },
    "lines": [
        {"sku": "MUG", "quantity": 2, "unit_price": "6.00", "discount": "1.00"},
        {"sku": "TEA", "quantity": 1, "unit_price": "4.50"},
    ],
    "shipping": {"service_level": "standard", "price": "3.95"},
    "totals": {"subtotal": "15.50", "shipping": "3.95", "tax": "0.00", "discount": "2.00", "total": "17.45"},
    "payment": {"status": "paid", "amount": "17.45"},
}


def order(**changes: Any) -> ChannelOrder:  # noqa: ANN401 -- any field of the contract
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        target: Any = data
        *parents, leaf = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[leaf] = value
    return ChannelOrder.model_validate(data)


TOLERANCE = Decimal("0.01")


def test_an_order_that_adds_up_passes_every_check() -> None:
    checked = order()
    assert verification.check_totals(checked, TOLERANCE) == []
    assert verification.check_address(checked.shipping_address) == []
    assert fraud.evaluate(checked, FraudRules(), RecentOrders()) == []


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"totals__subtotal": "16.50"}, "subtotal is 16.50 but the order adds up to 15.50"),
        ({"totals__total": "18.45"}, "total is 18.45"),
        (
            {"totals__shipping": "4.95", "totals__total": "18.45", "payment__amount": "18.45"},
            "shipping is 4.95",
        ),
        ({"payment__amount": "10.00"}, "payment amount is 10.00"),
    ],
)
def test_totals_that_do_not_add_up_hold_the_order(changes: dict[str, str], mentions: str) -> None:
    holds = verification.check_totals(order(**changes), TOLERANCE)

    assert {hold.code for hold in holds} == {HoldReason.TOTALS_MISMATCH}
    assert any(mentions in hold.message for hold in holds)


def test_a_difference_within_the_tolerance_passes_and_a_pending_payment_amount_is_not_checked() -> None:
    assert verification.check_totals(order(totals__total="17.46", payment__amount="17.46"), TOLERANCE) == []
    assert verification.check_totals(order(payment__status="pending", payment__amount="0"), TOLERANCE) == []


def test_unknown_and_unmapped_skus_hold_the_order() -> None:
    checked = order(lines__1__sku=None, lines__1__channel_product_id="93")
    lines = verification.resolve_lines(checked, lambda _channel, _line: None)

    holds = verification.check_skus(lines, {"MUG"}.__contains__)
    assert [hold.code for hold in holds] == [HoldReason.UNKNOWN_SKU]
    assert "line 2 has no SKU" in holds[0].message

    mapped = verification.resolve_lines(
        checked, lambda _channel, line: "TEA" if line.channel_product_id == "93" else None
    )
    assert verification.check_skus(mapped, {"MUG", "TEA"}.__contains__) == []
    assert "not in the catalogue" in verification.check_skus(mapped, {"MUG"}.__contains__)[0].message


@pytest.mark.parametrize(
    ("country", "postal_code", "held"),
    [
        ("GB", "LS1 1AA", False),
        ("GB", None, True),
        ("GB", "  ", True),
        ("HK", None, False),
        ("ZZ", "1", True),
    ],
)
def test_an_undeliverable_address_holds_the_order(country: str, postal_code: str | None, held: bool) -> None:  # noqa: FBT001 -- a parameter
    checked = order(shipping_address__country_code=country, shipping_address__postal_code=postal_code)

    holds = verification.check_address(checked.shipping_address)
    assert [hold.code for hold in holds] == ([HoldReason.ADDRESS_INVALID] if held else [])


def _fraud(checked: ChannelOrder, rules: FraudRules, recent: RecentOrders | None = None) -> list[str]:
    holds = fraud.evaluate(checked, rules, recent or RecentOrders())
    assert {hold.code for hold in holds} <= {HoldReason.FRAUD_REVIEW}
    return [hold.message for hold in holds]


def test_fraud_rule_order_value_over_the_threshold_of_its_currency() -> None:
    rules = FraudRules(max_order_value={"GBP": Decimal(15)}, hold_when_countries_differ=False)
    assert _fraud(order(), rules) == ["order value 17.45 GBP is over 15"]
    assert _fraud(order(), FraudRules(max_order_value={"USD": Decimal(15)})) == []


def test_fraud_rule_shipping_country_differs_from_billing_country() -> None:
    checked = order(billing_address__country_code="FR", billing_address__postal_code="75001")
    assert _fraud(checked, FraudRules()) == ["ships to GB, billed in FR"]
    assert _fraud(checked, FraudRules(hold_when_countries_differ=False)) == []


def test_fraud_rule_too_many_orders_from_one_email_or_to_one_address() -> None:
    rules = FraudRules(max_orders_per_email=3, max_orders_per_address=5)
    assert _fraud(order(), rules, RecentOrders(same_email=2, same_address=4)) == []
    assert _fraud(order(), rules, RecentOrders(same_email=3)) == ["4 orders from one e-mail in 24 h"]
    assert _fraud(order(), rules, RecentOrders(same_address=5)) == ["6 orders to one address in 24 h"]


def test_fraud_rule_block_list_of_emails_and_postal_codes() -> None:
    assert _fraud(order(), FraudRules(blocked_emails=frozenset({"buyer@example.com"}))) == [
        "the e-mail is on the block list"
    ]
    assert _fraud(order(), FraudRules(blocked_postal_codes=frozenset({"LS1 1AA"}))) == [
        "the shipping postal code is on the block list"
    ]


def test_addresses_typed_differently_have_one_fingerprint() -> None:
    one = order().shipping_address
    other = order(
        shipping_address__line1=" 1  example street ", shipping_address__city="LEEDS"
    ).shipping_address
    assert fraud.address_fingerprint(one) == fraud.address_fingerprint(other)
