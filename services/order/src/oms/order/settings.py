"""Settings of the order service: `OMS_ORDER_*` plus the shared `OMS_KAFKA_*` and `OMS_DATABASE_*`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from oms.shared.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OMS_ORDER_", extra="ignore")

    http_port: int = Field(8081, ge=0, le=65535, description="Health, metrics, API; 0: any free port.")
