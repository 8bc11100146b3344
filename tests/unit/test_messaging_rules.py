"""Pure rules of the messaging core: which failures are outages, back-off, rejection reasons, unit of work."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, UnknownTopicOrPartitionError
from pydantic import ValidationError

from oms.shared import backoff
from oms.shared.contracts.base import Contract, Id
from oms.shared.contracts.rejections import reasons_from
from oms.shared.messaging.errors import is_infrastructure_error


class Named(Contract):
    name: str
    id: Id


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(),
        OSError("network is unreachable"),
        TimeoutError(),
        asyncpg.exceptions.ConnectionDoesNotExistError(),
        asyncpg.exceptions.AdminShutdownError(),
        asyncpg.exceptions.CannotConnectNowError(),
        asyncpg.exceptions.TooManyConnectionsError(),
        asyncpg.exceptions.DeadlockDetectedError(),
        asyncpg.exceptions.SerializationError(),
        asyncpg.exceptions.InternalClientError("cannot switch to state 15; another operation is in progress"),
        KafkaConnectionError(),
        UnknownTopicOrPartitionError(),  # Kafka calls it retriable: metadata catching up after creation
    ],
)
def test_outages_and_contention_are_infrastructure_errors(error: Exception) -> None:
    assert is_infrastructure_error(error)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("bug"),
        KeyError("sku"),
        ValueError("bad"),
        asyncpg.exceptions.UniqueViolationError(),
        asyncpg.exceptions.UndefinedTableError(),
        asyncpg.exceptions.CheckViolationError(),
        asyncpg.exceptions.DataError("value out of int32 range"),
        asyncpg.exceptions.InterfaceError("another operation is in progress"),
        FileNotFoundError(2, "No such file or directory"),
    ],
)
def test_bugs_and_bad_data_are_the_messages_own_failures(error: Exception) -> None:
    assert not is_infrastructure_error(error)


def _save_while_the_connection_resets() -> None:
    try:
        raise ConnectionResetError
    except ConnectionResetError as inner:
        raise RuntimeError("could not save") from inner


def test_an_outage_wrapped_by_a_handler_is_still_an_outage() -> None:
    with pytest.raises(RuntimeError) as raised:
        _save_while_the_connection_resets()
    assert is_infrastructure_error(raised.value)


def _fail_while_handling_a_timeout() -> None:
    try:
        raise TimeoutError
    except TimeoutError:
        raise KeyError("sku") from None


def test_an_error_raised_while_handling_an_outage_is_not_an_outage_unless_caused_by_it() -> None:
    with pytest.raises(KeyError) as raised:
        _fail_while_handling_a_timeout()
    assert not is_infrastructure_error(raised.value)


def test_back_off_grows_is_capped_and_jittered() -> None:
    delays = [backoff.delay(attempt, base=0.2, cap=5) for attempt in range(1, 12)]

    assert 0.1 <= delays[0] <= 0.2
    assert all(delay <= 5 for delay in delays)
    assert delays[-1] >= 2.5
    assert len({backoff.delay(3) for _ in range(20)}) > 1


def test_rejection_reasons_name_each_field_and_code() -> None:
    with pytest.raises(ValidationError) as raised:
        Named.model_validate({"id": ""})

    reasons = {(reason.field, reason.code) for reason in reasons_from(raised.value)}
    assert reasons == {("name", "missing"), ("id", "value_error")}


def test_rejection_reasons_explain_unreadable_bytes() -> None:
    with pytest.raises(json.JSONDecodeError) as not_json:
        json.loads(b"{oops")
    with pytest.raises(UnicodeDecodeError) as not_text:
        b"\xff\xfe".decode()

    assert [reason.code for reason in reasons_from(not_json.value)] == ["invalid_json"]
    assert [reason.code for reason in reasons_from(not_text.value)] == ["not_utf8"]


async def test_readiness_can_be_asked_while_start_up_adds_checks() -> None:
    from oms.shared.http import Readiness  # noqa: PLC0415 -- the unit under test

    readiness = Readiness()

    async def slow() -> bool:
        readiness.add("kafka", fast)  # start-up goes on while a probe is waiting on a check
        await asyncio.sleep(0)
        return True

    async def fast() -> bool:
        return True

    readiness.add("database", slow)
    assert await readiness.report() == {"started": False, "database": True}
    assert await readiness.report() == {"started": False, "database": True, "kafka": True}
