"""Settings of the order service: `OMS_ORDER_*` plus the shared `OMS_KAFKA_*` and `OMS_DATABASE_*`."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from oms.shared.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OMS_ORDER_", extra="ignore")
