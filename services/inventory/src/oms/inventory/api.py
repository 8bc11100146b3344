"""The stock API: what is on hand, reserved and available per SKU and location; adjustments by hand."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from oms.shared.contracts.inventory import AdjustmentReason, StockAdjustment
from oms.shared.contracts.topics import INVENTORY_ADJUSTMENTS
from oms.shared.http import bearer_auth

if TYPE_CHECKING:
    import asyncpg

    from oms.inventory.settings import InventorySettings
    from oms.shared.runtime import ServiceRuntime


class AdjustmentRequest(BaseModel):
    sku: str = Field(min_length=1)
    location: str | None = None
    bin: str | None = None
    delta: int | None = None
    set: int | None = Field(None, ge=0)
    reason: AdjustmentReason
    reference: str | None = Field(None, description="Idempotency key; one is made up when missing.")


def stock_api(settings: InventorySettings) -> APIRouter:
    authenticated = bearer_auth([token.get_secret_value() for token in settings.api_tokens])
    router = APIRouter(prefix="/stock", tags=["stock"], dependencies=[Depends(authenticated)])

    @router.get("")
    async def list_stock(
        request: Request,
        location: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        """Stock rows by location and SKU, with what is available."""
        async with _pool(request).acquire() as conn:
            rows = await conn.fetch(
                """
                SELECT location, sku, on_hand, reserved, on_hand - reserved AS available, bin
                FROM stock WHERE ($1::text IS NULL OR location = $1)
                ORDER BY location, sku LIMIT $2 OFFSET $3
                """,
                location,
                limit,
                offset,
            )
        return [dict(row) for row in rows]

    @router.get("/{sku}")
    async def show_sku(request: Request, sku: str) -> dict[str, Any]:
        """One SKU: totals and per location."""
        async with _pool(request).acquire() as conn:
            rows = await conn.fetch(
                "SELECT location, on_hand, reserved, bin FROM stock WHERE sku = $1 ORDER BY location", sku
            )
        if not rows:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no stock of {sku} anywhere")
        locations = [dict(row) | {"available": row["on_hand"] - row["reserved"]} for row in rows]
        on_hand, reserved = sum(row["on_hand"] for row in rows), sum(row["reserved"] for row in rows)
        return {
            "sku": sku,
            "on_hand": on_hand,
            "reserved": reserved,
            "available": on_hand - reserved,
            "locations": locations,
        }

    @router.get("/reservations/{order_id}")
    async def show_reservation(request: Request, order_id: str) -> dict[str, Any]:
        """An order's reservation: its status and where its units are held."""
        async with _pool(request).acquire() as conn:
            reservation = await conn.fetchrow(
                "SELECT order_id, status, created_at, released_at FROM reservations WHERE order_id = $1",
                order_id,
            )
            lines = await conn.fetch(
                "SELECT location, sku, quantity FROM reservation_lines WHERE order_id = $1"
                " ORDER BY location, sku",
                order_id,
            )
            waiting = await conn.fetchval("SELECT status FROM backorders WHERE order_id = $1", order_id)
        if reservation is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no reservation for order {order_id}")
        return dict(reservation) | {"lines": [dict(line) for line in lines], "backorder": waiting}

    @router.post("/adjustments", status_code=status.HTTP_202_ACCEPTED)
    async def adjust(request: Request, body: AdjustmentRequest) -> dict[str, str]:
        """Publish an adjustment on `oms.inventory.adjustments.v1` (applied once per reference)."""
        values = body.model_dump(exclude_none=True) | {"reference": body.reference or f"api:{uuid.uuid4()}"}
        try:
            adjustment = StockAdjustment.model_validate(values)
        except ValueError as error:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(error)) from error
        runtime = _runtime(request)
        await runtime.publish(
            INVENTORY_ADJUSTMENTS, adjustment, key=adjustment.sku, event_id=adjustment.reference
        )
        return {"status": "accepted", "reference": adjustment.reference}

    return router


def _pool(request: Request) -> asyncpg.Pool[asyncpg.Record]:
    pool = _runtime(request).pool
    assert pool is not None  # noqa: S101 -- checked by _runtime
    return pool


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    if runtime.pool is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service is still starting")
    return runtime
