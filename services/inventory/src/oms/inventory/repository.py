"""SQL of the inventory service over one connection (the unit of work's)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from oms.inventory.domain.allocation import Take
    from oms.shared.db.types import Connection


class StalePlanError(RuntimeError):
    """Free units changed between the plan and its conditional updates: plan again."""


async def lock_stock(conn: Connection, skus: Iterable[str]) -> None:
    """Row locks on every stock row of these SKUs, in one fixed order (location, SKU): no deadlocks."""
    await conn.execute(
        "SELECT 1 FROM stock WHERE sku = ANY($1::text[]) ORDER BY location, sku FOR UPDATE", sorted(set(skus))
    )


async def reserved_skus(conn: Connection, order_ids: list[str]) -> list[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT sku FROM reservation_lines WHERE order_id = ANY($1::text[])", order_ids
    )
    return [row["sku"] for row in rows]


async def free_units(conn: Connection, skus: list[str]) -> dict[tuple[str, str], int]:
    rows = await conn.fetch(
        "SELECT location, sku, on_hand - reserved AS free FROM stock WHERE sku = ANY($1::text[])", skus
    )
    return {(row["location"], row["sku"]): row["free"] for row in rows}


async def reservation_status(conn: Connection, order_id: str) -> str | None:
    status: str | None = await conn.fetchval(
        "SELECT status FROM reservations WHERE order_id = $1 FOR UPDATE", order_id
    )
    return status


async def reserve(conn: Connection, order_id: str, takes: list[Take], at: datetime) -> None:
    """Apply a plan: conditional updates (free units must still be there), lines, ledger, reservation."""
    locations, skus, quantities = (
        [t.location for t in takes],
        [t.sku for t in takes],
        [t.quantity for t in takes],
    )
    updated = await conn.fetch(
        """
        UPDATE stock AS s SET reserved = s.reserved + t.quantity
        FROM unnest($1::text[], $2::text[], $3::int[]) AS t(location, sku, quantity)
        WHERE s.location = t.location AND s.sku = t.sku AND s.on_hand - s.reserved >= t.quantity
        RETURNING s.location
        """,
        locations,
        skus,
        quantities,
    )
    if len(updated) != len(takes):
        raise StalePlanError(order_id)
    await conn.execute(
        """
        INSERT INTO reservations (order_id, status, created_at) VALUES ($1, 'active', $2)
        ON CONFLICT (order_id) DO UPDATE
            SET status = 'active', created_at = $2, released_at = NULL, seq = nextval('reservations_seq_seq')
        """,
        order_id,
        at,
    )
    await conn.execute("DELETE FROM reservation_lines WHERE order_id = $1", order_id)
    await conn.execute(
        """
        INSERT INTO reservation_lines (order_id, location, sku, quantity)
        SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[])
        """,
        order_id,
        locations,
        skus,
        quantities,
    )
    await _ledger(conn, at, locations, skus, [0] * len(takes), quantities, kind="reserve", order_id=order_id)


async def record_failure(conn: Connection, order_id: str, at: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO reservations (order_id, status, created_at) VALUES ($1, 'failed', $2)
        ON CONFLICT (order_id) DO UPDATE SET status = 'failed'
        """,
        order_id,
        at,
    )


async def release(conn: Connection, order_id: str, at: datetime, kind: str) -> list[str]:
    """Give back an active reservation's units; returns the SKUs touched (none if nothing was held)."""
    released = await conn.fetchval(
        """
        UPDATE reservations SET status = 'released', released_at = $2
        WHERE order_id = $1 AND status = 'active' RETURNING true
        """,
        order_id,
        at,
    )
    if not released:
        return []
    # Read after the update (not in its RETURNING): a reservation re-made by a transaction the update
    # waited for has new lines, and only a fresh read sees them.
    rows = await conn.fetch(
        "SELECT location, sku, quantity FROM reservation_lines WHERE order_id = $1", order_id
    )
    held = [(row["location"], row["sku"], row["quantity"]) for row in rows]
    await conn.execute(
        """
        UPDATE stock AS s SET reserved = s.reserved - t.quantity
        FROM unnest($1::text[], $2::text[], $3::int[]) AS t(location, sku, quantity)
        WHERE s.location = t.location AND s.sku = t.sku
        """,
        [h[0] for h in held],
        [h[1] for h in held],
        [h[2] for h in held],
    )
    locations, skus = [h[0] for h in held], [h[1] for h in held]
    reserved = [-h[2] for h in held]
    await _ledger(conn, at, locations, skus, [0] * len(held), reserved, kind=kind, order_id=order_id)
    return sorted(set(skus))


async def first_time(conn: Connection, reference: str, at: datetime) -> bool:
    """Record an adjustment's reference; False when it was applied before."""
    recorded = await conn.fetchval(
        "INSERT INTO adjustments_applied (reference, at) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        reference,
        at,
    )
    return bool(recorded)


async def adjust(conn: Connection, adjustment: dict[str, Any], at: datetime) -> None:
    """Apply a delta or a count to one location's stock; the location and row are created on first use."""
    location, sku = adjustment["location"], adjustment["sku"]
    await conn.execute(
        "INSERT INTO locations (code, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", location, at
    )
    await conn.execute(
        "INSERT INTO stock (location, sku, bin) VALUES ($1, $2, $3) ON CONFLICT (location, sku) DO NOTHING",
        location,
        sku,
        adjustment.get("bin"),
    )
    on_hand = await conn.fetchval(
        "SELECT on_hand FROM stock WHERE location = $1 AND sku = $2 FOR UPDATE", location, sku
    )
    target = adjustment["set"] if adjustment.get("set") is not None else on_hand + adjustment["delta"]
    change = max(target, 0) - on_hand
    # A count below what is reserved fails the table's CHECK (reserved <= on_hand): the adjustment is
    # retried and dead-lettered rather than letting available go negative.
    await conn.execute(
        "UPDATE stock SET on_hand = on_hand + $3, bin = COALESCE($4, bin) WHERE location = $1 AND sku = $2",
        location,
        sku,
        change,
        adjustment.get("bin"),
    )
    reason, reference = adjustment["reason"], adjustment["reference"]
    await _ledger(conn, at, [location], [sku], [change], [0], kind=reason, order_id=None, reference=reference)


async def levels(conn: Connection, skus: list[str]) -> dict[str, list[tuple[str, int, int]]]:
    rows = await conn.fetch(
        "SELECT sku, location, on_hand, reserved FROM stock WHERE sku = ANY($1::text[])"
        " ORDER BY sku, location",
        skus,
    )
    found: dict[str, list[tuple[str, int, int]]] = {}
    for row in rows:
        found.setdefault(row["sku"], []).append((row["location"], row["on_hand"], row["reserved"]))
    return found


async def next_versions(conn: Connection, skus: list[str]) -> dict[str, int]:
    rows = await conn.fetch(
        """
        INSERT INTO sku_levels (sku, version) SELECT unnest($1::text[]), 1
        ON CONFLICT (sku) DO UPDATE SET version = sku_levels.version + 1
        RETURNING sku, version
        """,
        skus,
    )
    return {row["sku"]: row["version"] for row in rows}


async def _ledger(  # noqa: PLR0917 -- the ledger's columns, one per argument
    conn: Connection,
    at: datetime,
    locations: list[str],
    skus: list[str],
    on_hand: list[int],
    reserved: list[int],
    *,
    kind: str,
    order_id: str | None,
    reference: str | None = None,
) -> None:
    await conn.execute(
        """
        INSERT INTO movements (at, location, sku, on_hand_delta, reserved_delta, kind, reference, order_id)
        SELECT $1, t.location, t.sku, t.on_hand, t.reserved, $6, $7, $8
        FROM unnest($2::text[], $3::text[], $4::int[], $5::int[]) AS t(location, sku, on_hand, reserved)
        """,
        at,
        locations,
        skus,
        on_hand,
        reserved,
        kind,
        reference,
        order_id,
    )


async def stock_row(conn: Connection, location: str, sku: str) -> tuple[int, int] | None:
    row = await conn.fetchrow(
        "SELECT on_hand, reserved FROM stock WHERE location = $1 AND sku = $2 FOR UPDATE", location, sku
    )
    return (row["on_hand"], row["reserved"]) if row else None


async def newest_holding(conn: Connection, location: str, sku: str) -> list[tuple[str, int]]:
    """Active reservations with units of this SKU at this location, newest first: (order id, units)."""
    rows = await conn.fetch(
        """
        SELECT r.order_id, l.quantity FROM reservations r JOIN reservation_lines l USING (order_id)
        WHERE r.status = 'active' AND l.location = $1 AND l.sku = $2
        ORDER BY r.seq DESC
        """,
        location,
        sku,
    )
    return [(row["order_id"], row["quantity"]) for row in rows]


async def reservation_demand(conn: Connection, order_id: str) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT sku, sum(quantity)::int AS quantity FROM reservation_lines WHERE order_id = $1 GROUP BY sku",
        order_id,
    )
    return {row["sku"]: row["quantity"] for row in rows}


async def waitlist(
    conn: Connection, order_id: str, lines: dict[str, int], payment_status: str, at: datetime
) -> None:
    await conn.execute(
        """
        INSERT INTO backorders (order_id, lines, payment_status, created_at, status)
        VALUES ($1, $2::jsonb, $3, $4, 'waiting')
        ON CONFLICT (order_id) DO UPDATE SET lines = excluded.lines, status = 'waiting'
        """,
        order_id,
        json.dumps(lines),
        payment_status,
        at,
    )


async def waiting_for(conn: Connection, skus: list[str]) -> list[tuple[str, dict[str, int], str]]:
    """Backorders that want any of these SKUs, oldest first: (order id, demand, payment status)."""
    rows = await conn.fetch(
        """
        SELECT order_id, lines::text AS lines, payment_status FROM backorders
        WHERE status = 'waiting' AND lines ?| $1::text[]
        ORDER BY created_at, order_id FOR UPDATE
        """,
        skus,
    )
    return [(row["order_id"], json.loads(row["lines"]), row["payment_status"]) for row in rows]


async def set_backorder(conn: Connection, order_id: str, status: str) -> None:
    await conn.execute(
        "UPDATE backorders SET status = $2 WHERE order_id = $1 AND status = 'waiting'", order_id, status
    )


async def waiting_skus(conn: Connection, skus: list[str]) -> list[str]:
    """Every SKU of the backorders that want any of these SKUs (to lock them with the batch)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT jsonb_object_keys(lines) AS sku FROM backorders
        WHERE status = 'waiting' AND lines ?| $1::text[]
        """,
        skus,
    )
    return [row["sku"] for row in rows]


async def reserved_per_day(conn: Connection, location: str, sku: str, since: datetime, days: int) -> float:
    """Units reserved per day at this location over the window (recent demand)."""
    units = await conn.fetchval(
        """
        SELECT coalesce(sum(reserved_delta), 0) FROM movements
        WHERE location = $1 AND sku = $2 AND kind = 'reserve' AND at >= $3
        """,
        location,
        sku,
        since,
    )
    return float(units) / days


async def alert_once(conn: Connection, location: str, sku: str, *, low: bool) -> bool:
    """True when a low level is new (no alert open); an alert closes when the level recovers."""
    if not low:
        await conn.execute("DELETE FROM reorder_alerts WHERE location = $1 AND sku = $2", location, sku)
        return False
    opened = await conn.fetchval(
        "INSERT INTO reorder_alerts (location, sku) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
        location,
        sku,
    )
    return bool(opened)


async def skus_held_with(conn: Connection, skus: list[str]) -> list[str]:
    """Every SKU of the active reservations that hold any of these SKUs (a count may move them)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT other.sku FROM reservation_lines held
        JOIN reservations r ON r.order_id = held.order_id AND r.status = 'active'
        JOIN reservation_lines other ON other.order_id = held.order_id
        WHERE held.sku = ANY($1::text[])
        """,
        skus,
    )
    return [row["sku"] for row in rows]
