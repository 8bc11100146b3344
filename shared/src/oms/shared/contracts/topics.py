"""Every topic the suite uses: DESIGN.md §2's contract topics (fixed names) and the internal-topic rule."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Flow(enum.Enum):
    INBOUND = "from outside systems into the OMS"
    OUTBOUND = "from the OMS to outside systems"
    INTERNAL = "between the OMS services"


@dataclass(frozen=True)
class Topic:
    name: str
    flow: Flow
    key: str
    summary: str
    compacted: bool = False

    @property
    def rejected(self) -> Topic | None:
        """Where unreadable or schema-invalid input of an inbound topic goes (`.rejected` before `.v1`)."""
        if self.flow is not Flow.INBOUND:
            return None
        stem, version = self.name.rsplit(".", 1)
        return Topic(
            f"{stem}.rejected.{version}",
            Flow.OUTBOUND,
            key="as input",
            summary=f"input of {self.name} that could not be read or is not of its schema, with reasons",
        )


CATALOG_PRODUCTS = Topic(
    "oms.catalog.products.v1", Flow.INBOUND, "SKU", "product master data from the PIM/ERP", compacted=True
)
CHANNEL_ORDERS = Topic(
    "oms.channel.orders.v1", Flow.INBOUND, "{channel}:{external_id}", "orders, new or updated"
)
INVENTORY_ADJUSTMENTS = Topic(
    "oms.inventory.adjustments.v1",
    Flow.INBOUND,
    "SKU",
    "stock received, counted, damaged, lost, found, returned",
)
CARRIER_TRACKING = Topic(
    "oms.carrier.tracking.v1", Flow.INBOUND, "tracking number", "carriers' tracking events"
)
RETURN_REQUESTS = Topic("oms.returns.requests.v1", Flow.INBOUND, "order id", "return requests")
ORDER_COMMANDS = Topic(
    "oms.order.commands.v1", Flow.INBOUND, "order id", "operator commands: release, cancel"
)

ORDER_STATUS = Topic("oms.order.status.v1", Flow.OUTBOUND, "order id", "every change of an order's status")
STOCK_LEVELS = Topic(
    "oms.stock.levels.v1", Flow.OUTBOUND, "SKU", "stock per SKU and location, versioned", compacted=True
)
INVENTORY_REORDER = Topic("oms.inventory.reorder.v1", Flow.OUTBOUND, "SKU", "reorder suggestions")
SHIPMENTS = Topic("oms.shipments.v1", Flow.OUTBOUND, "order id", "parcels booked, moving, delivered")
PAYMENTS = Topic("oms.payments.v1", Flow.OUTBOUND, "order id", "capture, refund and void requests")
DEAD_LETTERS = Topic(
    "oms.dlq.v1",
    Flow.OUTBOUND,
    "as input",
    "internal messages that kept failing while infrastructure was healthy",
)

SERVICES = ("order", "inventory", "fulfilment", "shipping", "notify")


def internal(service: str) -> Topic:
    """`oms.<service>.events.v1`: what one service tells the others, keyed by order id."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
    return Topic(f"oms.{service}.events.v1", Flow.INTERNAL, "order id", f"events of the {service} service")


INBOUND = (
    CATALOG_PRODUCTS,
    CHANNEL_ORDERS,
    INVENTORY_ADJUSTMENTS,
    CARRIER_TRACKING,
    RETURN_REQUESTS,
    ORDER_COMMANDS,
)
OUTBOUND = (ORDER_STATUS, STOCK_LEVELS, INVENTORY_REORDER, SHIPMENTS, PAYMENTS, DEAD_LETTERS)


def all_topics() -> tuple[Topic, ...]:
    """Every topic the suite creates at start-up: inbound, their rejected topics, outbound, internal."""
    rejected = tuple(topic.rejected for topic in INBOUND if topic.rejected is not None)
    return INBOUND + rejected + OUTBOUND + tuple(internal(service) for service in SERVICES)
