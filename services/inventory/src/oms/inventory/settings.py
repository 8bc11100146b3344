"""Settings of the inventory service: `OMS_INVENTORY_*` plus the shared `OMS_KAFKA_*` and `OMS_DATABASE_*`."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from oms.shared.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OMS_INVENTORY_", extra="ignore")

    http_port: int = Field(8082, ge=0, le=65535, description="Health, metrics, API; 0: any free port.")
    reservation_minutes: int = Field(30, ge=1, description="How long stock is held for an unpaid order.")
    reorder_points: dict[str, int] = Field(
        default_factory=dict, description='Reorder point per SKU, at every location: {"MUG": 20}.'
    )
    default_reorder_point: int = Field(0, ge=0, description="For SKUs not listed; 0: no suggestions.")
    reorder_window_days: int = Field(14, ge=1, description="Recent demand is measured over this many days.")
    reorder_cover_days: int = Field(14, ge=1, description="A suggestion covers this many days of demand.")
    api_tokens: list[SecretStr] = Field(
        default_factory=list,
        description="Bearer tokens of the stock API (JSON list); none: the API refuses all.",
    )
    default_location: str = Field(
        "main", min_length=1, description="Where an adjustment without a location goes."
    )
