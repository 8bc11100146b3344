"""The operator HTTP API: list and show orders with their timeline; release and cancel via commands."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from oms.order import repository as repo
from oms.order.domain.status import Status  # noqa: TC001 -- FastAPI reads annotations at run time
from oms.shared.contracts.orders import OrderCommand
from oms.shared.contracts.topics import ORDER_COMMANDS
from oms.shared.http import bearer_auth

if TYPE_CHECKING:
    import asyncpg

    from oms.order.settings import OrderSettings
    from oms.shared.runtime import ServiceRuntime


class OrderSummary(BaseModel):
    order_id: str
    channel: str
    external_id: str
    status: str
    reason_code: str | None
    reason_message: str | None
    version: int
    currency: str
    total: Decimal
    payment_status: str
    placed_at: datetime
    received_at: datetime
    changed_at: datetime


class TimelineEntry(BaseModel):
    version: int
    status: str
    previous_status: str | None
    reason_code: str | None
    reason_message: str | None
    at: datetime
    cause_event_id: str | None
    correlation_id: str | None


class OrderDetail(OrderSummary):
    lines: list[dict[str, Any]]
    payment_requests: list[dict[str, Any]]
    order: dict[str, Any] = Field(description="The order as the channel sent it (contract shape).")
    timeline: list[TimelineEntry]


class CommandRequest(BaseModel):
    requested_by: str = Field(min_length=1, description="Who asks (kept with the command).")
    reason: str | None = None


class CommandAccepted(BaseModel):
    command_id: str
    order_id: str
    type: str


def operator_api(settings: OrderSettings) -> APIRouter:
    authenticated = bearer_auth([token.get_secret_value() for token in settings.api_tokens])
    router = APIRouter(prefix="/orders", tags=["orders"], dependencies=[Depends(authenticated)])

    @router.get("", response_model=list[OrderSummary])
    async def list_orders(
        request: Request,
        *,
        status_: Annotated[Status | None, Query(alias="status")] = None,
        channel: str | None = None,
        received_from: datetime | None = None,
        received_to: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> list[dict[str, Any]]:
        """Orders, newest first, filtered by status, channel and time received."""
        filters = {
            "status": status_.value if status_ else None,
            "channel": channel,
            "received_from": received_from,
            "received_to": received_to,
        }
        async with _pool(request).acquire() as conn:
            return await repo.list_orders(conn, filters, limit, offset)

    @router.get("/summary")
    async def order_summary(request: Request) -> dict[str, Any]:
        """Orders by status and reason; placed-to-confirmed latency (p50/p95/p99 seconds) and span."""
        async with _pool(request).acquire() as conn:
            return await repo.summary(conn)

    @router.get("/{order_id}", response_model=OrderDetail)
    async def show_order(request: Request, order_id: str) -> dict[str, Any]:
        """One order with its lines and full timeline (status, time, cause, correlation)."""
        async with _pool(request).acquire() as conn:
            detail = await repo.order_detail(conn, order_id)
        if detail is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}")
        return detail

    @router.post("/{order_id}/release", status_code=status.HTTP_202_ACCEPTED, response_model=CommandAccepted)
    async def release(request: Request, order_id: str, body: CommandRequest) -> CommandAccepted:
        """Ask for a held order to be released (published on `oms.order.commands.v1`)."""
        return await _command(request, "ReleaseHold", order_id, body)

    @router.post("/{order_id}/cancel", status_code=status.HTTP_202_ACCEPTED, response_model=CommandAccepted)
    async def cancel(request: Request, order_id: str, body: CommandRequest) -> CommandAccepted:
        """Ask for an order to be cancelled before dispatch (published on `oms.order.commands.v1`)."""
        return await _command(request, "CancelOrder", order_id, body)

    return router


def catalogue_api(settings: OrderSettings) -> APIRouter:
    """What the order service knows of the catalogue (its projection of `oms.catalog.products.v1`)."""
    authenticated = bearer_auth([token.get_secret_value() for token in settings.api_tokens])
    router = APIRouter(prefix="/catalogue", tags=["catalogue"], dependencies=[Depends(authenticated)])

    @router.get("/{sku}")
    async def show_product(request: Request, sku: str) -> dict[str, Any]:
        async with _pool(request).acquire() as conn:
            row = await conn.fetchrow("SELECT sku, title, active FROM catalogue_products WHERE sku = $1", sku)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"{sku} is not in the catalogue")
        return dict(row)

    return router


async def _command(request: Request, kind: str, order_id: str, body: CommandRequest) -> CommandAccepted:
    runtime = _runtime(request)
    command = OrderCommand.model_validate(
        {
            "command_id": str(uuid.uuid4()),
            "type": kind,
            "order_id": order_id,
            "reason": body.reason,
            "requested_by": body.requested_by,
        }
    )
    await runtime.publish(ORDER_COMMANDS, command, key=order_id, event_id=command.command_id)
    return CommandAccepted(command_id=command.command_id, order_id=order_id, type=kind)


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    if runtime.pool is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service is still starting")
    return runtime


def _pool(request: Request) -> asyncpg.Pool[asyncpg.Record]:
    pool = _runtime(request).pool
    assert pool is not None  # noqa: S101 -- checked by _runtime
    return pool
