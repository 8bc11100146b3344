"""Settings of the notify service: `OMS_NOTIFY_*` plus the shared `OMS_KAFKA_*` and `OMS_DATABASE_*`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from oms.shared.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OMS_NOTIFY_", extra="ignore")

    http_port: int = Field(8085, ge=0, le=65535, description="Health, metrics, API; 0: any free port.")
