"""`oms.catalog.products.v1` (compacted, keyed by SKU): the product master each service projects."""

from __future__ import annotations

from oms.shared.contracts.base import Contract, Id
from oms.shared.contracts.channel_orders import NonEmpty


class Dimensions(Contract):
    length: int
    width: int
    height: int


class ChannelListing(Contract):
    """How one channel names the product: a line without a SKU is mapped through these ids."""

    channel: NonEmpty
    product_id: Id | None = None
    variant_id: Id | None = None


class Product(Contract):
    sku: NonEmpty
    title: str
    weight_grams: int
    dimensions_mm: Dimensions
    channel_listings: list[ChannelListing] | None = None
    active: bool = True
