"""Channel webhooks: verify the platform's HMAC signature, adapt the order, publish it to the intake topic.

Accepted input is written to the outbox before the platform gets its 2xx, so nothing acknowledged can
be lost. A signed body that is not an order of the contract goes to `oms.channel.orders.rejected.v1`
with its reasons and the original bytes (2xx as well: the platform retrying it would not fix it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import ValidationError

from oms.order.adapters import shopify, woocommerce
from oms.order.adapters.common import AdapterError, signature_matches
from oms.shared.contracts.base import loads_exact
from oms.shared.contracts.channel_orders import ChannelOrder
from oms.shared.contracts.envelope import Envelope
from oms.shared.contracts.rejections import Rejected, original, reasons_from
from oms.shared.contracts.topics import CHANNEL_ORDERS
from oms.shared.logging import get_logger

if TYPE_CHECKING:
    from oms.order.settings import OrderSettings
    from oms.shared.runtime import ServiceRuntime

log = get_logger(__name__)

Adapter = Callable[[dict[str, Any], str], dict[str, Any]]


def webhook_receiver(settings: OrderSettings) -> APIRouter:
    secrets = {channel: secret.get_secret_value() for channel, secret in settings.webhook_secrets.items()}
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])

    @router.post("/shopify/{channel}", status_code=status.HTTP_202_ACCEPTED)
    async def shopify_order(request: Request, channel: str) -> dict[str, str]:
        """Shopify `orders/create`, `orders/updated`, `orders/cancelled` (signed: X-Shopify-Hmac-Sha256)."""
        return await _receive(request, channel, secrets, shopify.to_channel_order, shopify)

    @router.post("/woocommerce/{channel}", status_code=status.HTTP_202_ACCEPTED)
    async def woocommerce_order(request: Request, channel: str) -> dict[str, str]:
        """WooCommerce `order.created`, `order.updated` (signed: X-WC-Webhook-Signature)."""
        return await _receive(request, channel, secrets, woocommerce.to_channel_order, woocommerce)

    return router


async def _receive(
    request: Request,
    channel: str,
    secrets: dict[str, str],
    adapt: Adapter,
    platform: Any,  # noqa: ANN401 -- the adapter module
) -> dict[str, str]:
    body = await request.body()
    secret = secrets.get(channel)
    if secret is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"no webhook secret is configured for channel {channel}"
        )
    if not signature_matches(secret, body, request.headers.get(platform.SIGNATURE_HEADER)):
        log.warning("webhook with a bad signature refused", channel=channel)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "the signature does not match this channel's secret"
        )
    runtime: ServiceRuntime = request.app.state.runtime
    if runtime.pool is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service is still starting")
    delivery = request.headers.get(platform.DELIVERY_HEADER)
    try:
        order = ChannelOrder.model_validate(adapt(loads_exact(body), channel))
    except (ValueError, ValidationError, AdapterError) as error:
        await _reject(runtime, channel, body, dict(request.headers), error)
        return {"status": "rejected", "reason": str(error)[:500]}
    event_id = f"{channel}:delivery:{delivery}" if delivery else None
    envelope = await runtime.publish(CHANNEL_ORDERS, order, key=order.key, event_id=event_id)
    return {"status": "accepted", "event_id": envelope.event_id, "key": order.key}


async def _reject(
    runtime: ServiceRuntime, channel: str, body: bytes, headers: dict[str, str], error: Exception
) -> None:
    assert CHANNEL_ORDERS.rejected is not None  # noqa: S101 -- an inbound topic has one
    rejected = Rejected.model_validate(
        {
            "source_topic": f"webhook:{channel}",
            "partition": -1,
            "offset": -1,
            "key": None,
            "received_at": datetime.now(UTC),
            "reasons": reasons_from(error),
            **original(
                body, {name: value for name, value in headers.items() if "signature" not in name.lower()}
            ),
        }
    )
    envelope = Envelope.new("Rejected", source=runtime.definition.name)
    await runtime.stage(
        CHANNEL_ORDERS.rejected, None, rejected.model_dump_json().encode(), envelope.to_headers()
    )
    log.info("webhook body rejected", channel=channel, reasons=len(rejected.reasons))
