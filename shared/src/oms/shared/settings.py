"""Configuration from the environment: shared Kafka and database settings, a base for each service."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """`OMS_KAFKA_*`: one broker for every service; SASL/SSL when the cluster asks for it."""

    model_config = SettingsConfigDict(env_prefix="OMS_KAFKA_", extra="ignore")

    bootstrap: str = Field("127.0.0.1:9092", description="Comma-separated host:port list of brokers.")
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = Field(None, description="Never logged.")
    ssl_cafile: str | None = Field(None, description="CA bundle to verify the brokers (SSL, SASL_SSL).")
    ssl_certfile: str | None = Field(None, description="Client certificate for mutual TLS.")
    ssl_keyfile: str | None = Field(None, description="Client key for mutual TLS.")
    topic_prefix: str = Field(
        "", description="Prepended to every topic name (test isolation); empty in production."
    )
    topic_partitions: int = Field(12, ge=1, description="Partitions of topics this suite creates.")
    topic_replication: int = Field(1, ge=1, description="Replication factor of topics this suite creates.")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for every aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        if self.security_protocol in ("SSL", "SASL_SSL"):
            from aiokafka.helpers import create_ssl_context  # noqa: PLC0415 -- only for TLS clusters

            options["ssl_context"] = create_ssl_context(
                cafile=self.ssl_cafile, certfile=self.ssl_certfile, keyfile=self.ssl_keyfile
            )
        return options


class DatabaseSettings(BaseSettings):
    """`OMS_DATABASE_*`: one PostgreSQL; each service keeps its tables in a schema of its own."""

    model_config = SettingsConfigDict(env_prefix="OMS_DATABASE_", extra="ignore")

    url: SecretStr = Field(
        SecretStr("postgresql://oms@127.0.0.1:5432/oms"),
        description="postgresql://user:password@host:port/database; never logged (it may hold a password).",
    )
    pool_min: int = Field(2, ge=1)
    pool_max: int = Field(10, ge=1)


class ServiceSettings(BaseSettings):
    """What every service reads under its own prefix (`OMS_ORDER_`, `OMS_INVENTORY_`, ...)."""

    model_config = SettingsConfigDict(extra="ignore")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)

    http_host: str = Field("0.0.0.0", description="Address of the health, metrics and API server.")  # noqa: S104 -- containers serve probes on every interface
    http_port: int = Field(
        8080, ge=0, le=65535, description="0 picks any free port (several instances on one host)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    consumer_batch_max: int = Field(500, ge=1, description="Most messages handled in one transaction.")
    consumer_max_attempts: int = Field(
        5, ge=1, description="Tries before a failing message is dead-lettered."
    )
    relay_batch_max: int = Field(1000, ge=1, description="Most outbox rows published per round.")
    relay_poll_seconds: float = Field(1.0, gt=0, description="Outbox poll when no notification arrives.")
    timer_poll_seconds: float = Field(1.0, gt=0, description="How often due timers are looked for.")
    shutdown_timeout_seconds: float = Field(
        20.0, gt=0, description="Longest graceful shutdown, all steps together."
    )
    inbox_retention_days: int = Field(7, ge=1, description="How long handled event ids are remembered.")
