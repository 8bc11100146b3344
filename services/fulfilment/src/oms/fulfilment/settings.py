"""Settings of the fulfilment service: `OMS_FULFILMENT_*`, the shared `OMS_KAFKA_*`, `OMS_DATABASE_*`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from oms.shared.settings import ServiceSettings


class FulfilmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OMS_FULFILMENT_", extra="ignore")

    http_port: int = Field(8083, ge=0, le=65535, description="Health, metrics, API; 0: any free port.")
