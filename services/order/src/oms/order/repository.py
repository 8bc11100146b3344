"""SQL of the order service over one connection (the unit of work's)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from oms.order.domain.fraud import RecentOrders
from oms.order.domain.status import Status

if TYPE_CHECKING:
    from datetime import datetime

    from oms.shared.db.types import Connection


@dataclass(frozen=True)
class OrderRow:
    order_id: str
    channel: str
    external_id: str
    status: Status
    reason_code: str | None
    version: int
    source_updated_at: datetime | None
    payment_status: str
    stock_held: bool = False

    @classmethod
    def of(cls, record: Any) -> OrderRow:  # noqa: ANN401 -- an asyncpg record
        return cls(
            record["order_id"],
            record["channel"],
            record["external_id"],
            Status(record["status"]),
            record["reason_code"],
            record["version"],
            record["source_updated_at"],
            record["payment_status"],
            record["stock_held"],
        )


_ROW = (
    "order_id, channel, external_id, status, reason_code, version, source_updated_at, payment_status,"
    " stock_held"
)


async def insert_order(conn: Connection, values: dict[str, Any]) -> bool:
    """Insert a new order as RECEIVED (version 1); False when (channel, external id) exists already.

    ON CONFLICT DO NOTHING waits for a concurrent insert of the same key and then yields: one order.
    """
    inserted = await conn.fetchval(
        """
        INSERT INTO orders (order_id, source_updated_at, currency, total, payment_status, email_key,
                            address_key, data, channel, external_id, placed_at, received_at, changed_at,
                            status, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $12, 'RECEIVED', 1)
        ON CONFLICT (channel, external_id) DO NOTHING
        RETURNING true
        """,
        values["order_id"],
        *_channel_data(values),
        values["channel"],
        values["external_id"],
        values["placed_at"],
        values["at"],
    )
    return bool(inserted)


async def replace_data(conn: Connection, order_id: str, values: dict[str, Any]) -> None:
    """A newer version of the channel's order: its data replaces the stored data (status is not touched)."""
    await conn.execute(
        """
        UPDATE orders SET source_updated_at = $2, currency = $3, total = $4, payment_status = $5,
                          email_key = $6, address_key = $7, data = $8::jsonb
        WHERE order_id = $1
        """,
        order_id,
        *_channel_data(values),
    )


def _channel_data(values: dict[str, Any]) -> tuple[Any, ...]:
    """What a channel's (re)send sets, in the column order both statements use."""
    columns = ("source_updated_at", "currency", "total", "payment_status", "email_key", "address_key", "data")
    return tuple(values[column] for column in columns)


async def replace_lines(conn: Connection, order_id: str, lines: list[tuple[str, int, Any]]) -> None:
    await conn.execute("DELETE FROM order_lines WHERE order_id = $1", order_id)
    await conn.executemany(
        "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price) VALUES ($1, $2, $3, $4, $5)",
        [
            (order_id, number, sku, quantity, price)
            for number, (sku, quantity, price) in enumerate(lines, start=1)
        ],
    )


async def lock_by_key(conn: Connection, channel: str, external_id: str) -> OrderRow | None:
    row = await conn.fetchrow(
        f"SELECT {_ROW} FROM orders WHERE channel = $1 AND external_id = $2 FOR UPDATE",  # noqa: S608 -- fixed column list
        channel,
        external_id,
    )
    return OrderRow.of(row) if row else None


async def lock(conn: Connection, order_id: str) -> OrderRow | None:
    row = await conn.fetchrow(f"SELECT {_ROW} FROM orders WHERE order_id = $1 FOR UPDATE", order_id)  # noqa: S608 -- fixed column list
    return OrderRow.of(row) if row else None


async def set_status(
    conn: Connection, order: OrderRow, status: Status, reason: tuple[str, str] | None, at: datetime
) -> int:
    """Store the new status and its reason; returns the new version."""
    version = order.version + 1
    await conn.execute(
        """
        UPDATE orders SET status = $2, reason_code = $3, reason_message = $4, version = $5, changed_at = $6
        WHERE order_id = $1
        """,
        order.order_id,
        status.value,
        reason[0] if reason else None,
        reason[1] if reason else None,
        version,
        at,
    )
    return version


async def add_timeline(conn: Connection, entry: dict[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO order_timeline (order_id, version, status, previous_status, reason_code, reason_message,
                                    at, cause_event_id, correlation_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        entry["order_id"],
        entry["version"],
        entry["status"],
        entry["previous_status"],
        entry["reason_code"],
        entry["reason_message"],
        entry["at"],
        entry["cause_event_id"],
        entry["correlation_id"],
    )


async def park(
    conn: Connection,
    order_id: str,
    current: str | None,
    target: str,
    cause: str,
    *,
    cause_event_id: str | None,
    at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO parked_transitions (order_id, from_status, to_status, cause, cause_event_id, at)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        order_id,
        current,
        target,
        cause,
        cause_event_id,
        at,
    )


async def recent_orders(
    conn: Connection, email_key: str, address_key: str, since: datetime, order_id: str
) -> RecentOrders:
    row = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE email_key = $1) AS same_email,
               count(*) FILTER (WHERE address_key = $2) AS same_address
        FROM orders
        WHERE (email_key = $1 OR address_key = $2) AND placed_at >= $3 AND order_id <> $4
        """,
        email_key,
        address_key,
        since,
        order_id,
    )
    return (
        RecentOrders(same_email=row["same_email"], same_address=row["same_address"])
        if row
        else RecentOrders()
    )


async def active_skus(conn: Connection, skus: list[str]) -> set[str]:
    rows = await conn.fetch("SELECT sku FROM catalogue_products WHERE sku = ANY($1::text[]) AND active", skus)
    return {row["sku"] for row in rows}


async def listings(conn: Connection, channel: str) -> dict[tuple[str, str], str]:
    """(product id, variant id) -> SKU for one channel; '' stands for an id the listing does not name."""
    rows = await conn.fetch(
        "SELECT product_id, variant_id, sku FROM channel_listings WHERE channel = $1", channel
    )
    return {(row["product_id"], row["variant_id"]): row["sku"] for row in rows}


async def upsert_product(
    conn: Connection, product: dict[str, Any], listings: list[tuple[str, str, str]]
) -> None:
    await conn.execute(
        """
        INSERT INTO catalogue_products (sku, title, active, updated_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (sku) DO UPDATE
            SET title = excluded.title, active = excluded.active, updated_at = excluded.updated_at
        """,
        product["sku"],
        product["title"],
        product["active"],
        product["at"],
    )
    await conn.execute("DELETE FROM channel_listings WHERE sku = $1", product["sku"])
    await conn.executemany(
        """
        INSERT INTO channel_listings (channel, product_id, variant_id, sku) VALUES ($1, $2, $3, $4)
        ON CONFLICT (channel, product_id, variant_id) DO UPDATE SET sku = excluded.sku
        """,
        [(channel, product_id, variant_id, product["sku"]) for channel, product_id, variant_id in listings],
    )


async def record_command(conn: Connection, command: dict[str, Any]) -> bool:
    """Remember a command by its id; False when it was seen before (it acts once)."""
    recorded = await conn.fetchval(
        """
        INSERT INTO order_commands (command_id, order_id, type, requested_by, outcome, at)
        VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (command_id) DO NOTHING RETURNING true
        """,
        command["command_id"],
        command["order_id"],
        command["type"],
        command["requested_by"],
        command["at"],
    )
    return bool(recorded)


async def set_stock_held(conn: Connection, order_id: str, *, held: bool) -> None:
    await conn.execute("UPDATE orders SET stock_held = $2 WHERE order_id = $1", order_id, held)


async def placed_lines(conn: Connection, order_id: str) -> list[tuple[str, int, Any]]:
    rows = await conn.fetch(
        "SELECT sku, quantity, unit_price FROM order_lines WHERE order_id = $1 ORDER BY line_no", order_id
    )
    return [(row["sku"], row["quantity"], row["unit_price"]) for row in rows]


async def payment_facts(conn: Connection, order_id: str) -> dict[str, Any]:
    """What a payment request needs: the amount, its currency and the order's lines."""
    order = await conn.fetchrow("SELECT total, currency FROM orders WHERE order_id = $1", order_id)
    lines = await conn.fetch(
        "SELECT sku, quantity, unit_price FROM order_lines WHERE order_id = $1 ORDER BY line_no", order_id
    )
    if order is None:
        raise LookupError(f"no order {order_id}")
    return {
        "total": order["total"],
        "currency": order["currency"],
        "lines": [(line["sku"], line["quantity"], line["unit_price"]) for line in lines],
    }


async def record_payment_request(conn: Connection, request: dict[str, Any]) -> bool:
    """Keep a payment request; False when one with this idempotency key was sent before."""
    recorded = await conn.fetchval(
        """
        INSERT INTO payment_requests (request_id, order_id, type, amount, currency, reason, at)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (request_id) DO NOTHING RETURNING true
        """,
        request["request_id"],
        request["order_id"],
        request["type"],
        request["amount"],
        request["currency"],
        request["reason"],
        request["at"],
    )
    return bool(recorded)


async def set_command_outcome(conn: Connection, command_id: str, outcome: str) -> None:
    await conn.execute("UPDATE order_commands SET outcome = $2 WHERE command_id = $1", command_id, outcome)


_SUMMARY = """order_id, channel, external_id, status, reason_code, reason_message, version, currency, total,
payment_status, placed_at, received_at, changed_at"""


async def list_orders(
    conn: Connection, filters: dict[str, Any], limit: int, offset: int
) -> list[dict[str, Any]]:
    """Orders newest first, by status, channel and time received (each filter optional)."""
    rows = await conn.fetch(
        f"""
        SELECT {_SUMMARY} FROM orders
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR channel = $2)
          AND ($3::timestamptz IS NULL OR received_at >= $3) AND ($4::timestamptz IS NULL OR received_at < $4)
        ORDER BY received_at DESC, order_id LIMIT $5 OFFSET $6
        """,  # noqa: S608 -- a fixed column list; every value is a parameter
        filters.get("status"),
        filters.get("channel"),
        filters.get("received_from"),
        filters.get("received_to"),
        limit,
        offset,
    )
    return [dict(row) for row in rows]


async def order_detail(conn: Connection, order_id: str) -> dict[str, Any] | None:
    """One order: its summary, the channel's order as received, its lines and its timeline."""
    query = f"SELECT {_SUMMARY}, data::text AS data FROM orders WHERE order_id = $1"  # noqa: S608 -- fixed columns
    row = await conn.fetchrow(query, order_id)
    if row is None:
        return None
    lines = await conn.fetch(
        "SELECT line_no, sku, quantity, unit_price::text AS unit_price FROM order_lines"
        " WHERE order_id = $1 ORDER BY line_no",
        order_id,
    )
    timeline = await conn.fetch(
        """
        SELECT version, status, previous_status, reason_code, reason_message, at, cause_event_id,
               correlation_id
        FROM order_timeline WHERE order_id = $1 ORDER BY version
        """,
        order_id,
    )
    payments = await conn.fetch(
        "SELECT request_id, type, amount::text, currency, reason, at FROM payment_requests"
        " WHERE order_id = $1 ORDER BY at",
        order_id,
    )
    detail = dict(row)
    detail["payment_requests"] = [dict(payment) for payment in payments]
    detail["order"] = json.loads(detail.pop("data"))
    detail["lines"] = [dict(line) for line in lines]
    detail["timeline"] = [dict(entry) for entry in timeline]
    return detail


async def summary(conn: Connection) -> dict[str, Any]:
    """Orders by status and reason, and how fast orders went from received to confirmed."""
    counts = await conn.fetch(
        "SELECT status, reason_code, count(*)::int AS orders FROM orders GROUP BY 1, 2 ORDER BY 1, 2"
    )
    timing = await conn.fetchrow(
        """
        WITH confirmed AS (
            SELECT o.received_at, min(t.at) AS confirmed_at,
                   extract(epoch FROM min(t.at) - o.received_at) AS seconds
            FROM orders o JOIN order_timeline t ON t.order_id = o.order_id AND t.status = 'CONFIRMED'
            GROUP BY o.order_id, o.received_at
        )
        SELECT count(*)::int AS confirmed,
               min(received_at) AS first_received, max(confirmed_at) AS last_confirmed,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds) AS p95,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY seconds) AS p99
        FROM confirmed
        """
    )
    filled = await conn.fetchval(
        """
        SELECT count(DISTINCT order_id)::int FROM order_timeline
        WHERE status = 'CONFIRMED' AND previous_status = 'BACKORDERED'
        """
    )
    return {
        "by_status": [dict(row) for row in counts],
        "confirmation": dict(timing) if timing else {},
        "backorders_filled": filled,
    }
