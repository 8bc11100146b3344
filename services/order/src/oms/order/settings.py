"""Settings of the order service: `OMS_ORDER_*` plus the shared `OMS_KAFKA_*` and `OMS_DATABASE_*`."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from oms.order.domain.fraud import FraudRules
from oms.shared.settings import ServiceSettings


class OrderSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OMS_ORDER_", extra="ignore")

    http_port: int = Field(8081, ge=0, le=65535, description="Health, metrics, API; 0: any free port.")
    totals_tolerance: Decimal = Field(
        Decimal("0.01"), ge=0, description="Largest difference of totals accepted."
    )
    fraud_max_order_value: dict[str, Decimal] = Field(
        default_factory=dict, description='Hold orders above these totals, per currency: {"USD": "2000"}.'
    )
    fraud_hold_when_countries_differ: bool = Field(
        default=True, description="Hold when shipping and billing countries differ."
    )
    fraud_max_orders_per_email: int = Field(
        0, ge=0, description="Orders per e-mail in the window; 0: no limit."
    )
    fraud_max_orders_per_address: int = Field(
        0, ge=0, description="Orders per address in the window; 0: no limit."
    )
    fraud_velocity_window_hours: int = Field(24, ge=1)
    fraud_blocked_emails: list[str] = Field(default_factory=list, description='JSON list: ["a@b.example"].')
    fraud_blocked_postal_codes: list[str] = Field(
        default_factory=list, description="JSON list of postal codes."
    )
    channel_time_zones: dict[str, str] = Field(
        default_factory=dict,
        description='Channels sending times without an offset, and their zone: {"woo-eu": "Europe/Berlin"}.',
    )
    backorder_hours: dict[str, int] = Field(
        default_factory=dict,
        description='Channels whose orders wait for stock (not rejected), and for how long: {"woo-eu": 336}.',
    )
    stock_count_backorder_hours: int = Field(
        336, ge=1, description="How long a confirmed order whose units a stock count took waits for stock."
    )
    payment_wait_hours: int = Field(
        72, ge=1, description="How long an unpaid order waits before payment_expired."
    )
    api_tokens: list[SecretStr] = Field(
        default_factory=list,
        description="Bearer tokens of the operator API (JSON list); none: the API refuses all.",
    )
    webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Per channel, the platform\'s webhook signing secret: {"shopify-uk": "..."}.',
    )

    def fraud_rules(self) -> FraudRules:
        return FraudRules(
            max_order_value=dict(self.fraud_max_order_value),
            hold_when_countries_differ=self.fraud_hold_when_countries_differ,
            max_orders_per_email=self.fraud_max_orders_per_email,
            max_orders_per_address=self.fraud_max_orders_per_address,
            velocity_window_hours=self.fraud_velocity_window_hours,
            blocked_emails=frozenset(email.strip().lower() for email in self.fraud_blocked_emails),
            blocked_postal_codes=frozenset(code.strip().upper() for code in self.fraud_blocked_postal_codes),
        )
