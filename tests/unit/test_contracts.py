"""Contract building blocks: exact money and ids, times with offsets, envelopes and their headers, topics."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from oms.shared import asyncapi
from oms.shared.contracts.base import AwareDatetime, Contract, Id, Money, NonNegativeMoney, decode_exact
from oms.shared.contracts.envelope import Envelope, decode_headers
from oms.shared.contracts.rejections import reasons_from
from oms.shared.contracts.topics import (
    CHANNEL_ORDERS,
    DEAD_LETTERS,
    ORDER_STATUS,
    STOCK_LEVELS,
    Flow,
    all_topics,
    internal,
)


class Line(Contract):
    order_id: Id
    price: Money
    discount: NonNegativeMoney = Decimal(0)
    at: AwareDatetime | None = None


def test_money_in_json_numbers_is_read_exactly_and_written_as_a_string() -> None:
    line = decode_exact(Line, b'{"order_id": "1", "price": 12345678901234567.89}')

    assert line.price == Decimal("12345678901234567.89")
    assert json.loads(line.model_dump_json())["price"] == "12345678901234567.89"


def test_money_as_a_string_keeps_its_minor_units() -> None:
    assert json.loads(Line(order_id="1", price="6.00").model_dump_json())["price"] == "6.00"  # type: ignore[arg-type]
    assert json.loads(Line(order_id="1", price="1500").model_dump_json())["price"] == "1500"  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ['"abc"', "true", '"NaN"', '"Infinity"'])
def test_money_that_is_not_a_finite_decimal_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        decode_exact(Line, f'{{"order_id": "1", "price": {bad}}}')


def test_a_negative_amount_is_refused_where_the_contract_says_non_negative() -> None:
    with pytest.raises(ValidationError) as raised:
        decode_exact(Line, '{"order_id": "1", "price": "1", "discount": -0.5}')
    assert [(reason.field, reason.code) for reason in reasons_from(raised.value)] == [
        ("discount", "value_error")
    ]


def test_ids_above_two_to_the_53_keep_every_digit() -> None:
    line = decode_exact(Line, b'{"order_id": 820982911946154508, "price": "1"}')

    assert line.order_id == "820982911946154508"


def test_a_time_without_an_offset_is_refused_and_one_with_an_offset_is_kept() -> None:
    with pytest.raises(ValidationError):
        decode_exact(Line, '{"order_id": "1", "price": "1", "at": "2026-12-03T10:00:00"}')
    line = decode_exact(Line, '{"order_id": "1", "price": "1", "at": "2026-12-03T10:00:00+01:00"}')
    assert line.at == datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_unknown_fields_are_ignored_and_models_are_frozen() -> None:
    line = decode_exact(Line, '{"order_id": "1", "price": "1", "colour": "red"}')

    assert not hasattr(line, "colour")
    with pytest.raises(ValidationError):
        line.price = Decimal(2)  # type: ignore[misc]


def test_an_envelope_joins_its_causes_correlation_and_round_trips_through_headers() -> None:
    cause = Envelope.new("OrderPlaced", source="order", order_id="o-1")
    effect = Envelope.new("StockReserved", source="inventory", cause=cause)

    assert effect.correlation_id == cause.correlation_id == cause.event_id
    assert effect.causation_id == cause.event_id
    assert effect.order_id == "o-1"
    raw = [(name, value.encode()) for name, value in effect.to_headers().items()]
    again = Envelope.from_headers(
        decode_headers(raw), fallback_id="x", fallback_type="x", received_at=datetime.now(UTC)
    )
    assert again == effect


def test_a_message_without_headers_gets_a_stable_id_from_its_position() -> None:
    received = datetime(2026, 12, 3, tzinfo=UTC)
    envelope = Envelope.from_headers(
        {}, fallback_id="t:0:42", fallback_type="ChannelOrder", received_at=received
    )

    assert (envelope.event_id, envelope.correlation_id, envelope.occurred_at) == (
        "t:0:42",
        "t:0:42",
        received,
    )


def test_the_registry_has_every_contract_topic_with_its_rejected_topic_and_compaction() -> None:
    names = {topic.name for topic in all_topics()}

    assert {
        "oms.catalog.products.v1",
        "oms.channel.orders.v1",
        "oms.inventory.adjustments.v1",
        "oms.carrier.tracking.v1",
        "oms.returns.requests.v1",
        "oms.order.commands.v1",
        "oms.catalog.products.rejected.v1",
        "oms.channel.orders.rejected.v1",
        "oms.inventory.adjustments.rejected.v1",
        "oms.carrier.tracking.rejected.v1",
        "oms.returns.requests.rejected.v1",
        "oms.order.commands.rejected.v1",
        "oms.order.status.v1",
        "oms.stock.levels.v1",
        "oms.inventory.reorder.v1",
        "oms.shipments.v1",
        "oms.payments.v1",
        "oms.dlq.v1",
    } <= names
    assert {topic.name for topic in all_topics() if topic.compacted} == {
        "oms.catalog.products.v1",
        STOCK_LEVELS.name,
    }
    assert CHANNEL_ORDERS.rejected is not None
    assert CHANNEL_ORDERS.rejected.name == "oms.channel.orders.rejected.v1"
    assert ORDER_STATUS.rejected is None
    assert DEAD_LETTERS.flow is Flow.OUTBOUND


def test_internal_topics_follow_the_rule_and_unknown_services_are_refused() -> None:
    assert internal("inventory").name == "oms.inventory.events.v1"
    with pytest.raises(ValueError, match="unknown service"):
        internal("billing")


def test_the_checked_in_asyncapi_document_is_the_one_the_code_generates() -> None:
    checked_in = json.loads((Path(__file__).parents[2] / "docs" / "asyncapi.json").read_text())

    assert checked_in == asyncapi.document(), "run `make asyncapi` and commit docs/asyncapi.json"
    assert set(checked_in["channels"]) == {topic.name for topic in all_topics()}
