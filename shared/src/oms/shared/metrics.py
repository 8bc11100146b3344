"""Prometheus metrics every service exports on /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_HANDLED = Counter(
    "oms_messages_handled_total", "Messages whose effects committed", ["service", "topic"]
)
MESSAGES_DUPLICATE = Counter(
    "oms_messages_duplicate_total", "Messages already handled (inbox hit), skipped", ["service", "topic"]
)
MESSAGES_FAILED = Counter(
    "oms_messages_failed_total",
    "Handler failures while infrastructure was healthy (each try)",
    ["service", "topic"],
)
MESSAGES_REJECTED = Counter(
    "oms_messages_rejected_total", "Inbound messages sent to their rejected topic", ["service", "topic"]
)
MESSAGES_DEAD_LETTERED = Counter(
    "oms_messages_dead_lettered_total", "Messages sent to oms.dlq.v1 after their tries", ["service", "topic"]
)
INFRASTRUCTURE_OUTAGES = Counter(
    "oms_infrastructure_waits_total", "Times a handler waited out a Kafka or PostgreSQL outage", ["service"]
)
BATCH_SECONDS = Histogram(
    "oms_handler_batch_seconds",
    "Time to handle one batch in one transaction",
    ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BATCH_SIZE = Histogram(
    "oms_handler_batch_size",
    "Messages per handled batch",
    ["service"],
    buckets=(1, 5, 10, 50, 100, 250, 500, 1000),
)
CONSUMER_LAG = Gauge(
    "oms_consumer_lag", "Messages behind the partition's end", ["service", "topic", "partition"]
)
OUTBOX_BACKLOG = Gauge("oms_outbox_backlog", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "oms_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"]
)
OUTBOX_PUBLISHED = Counter("oms_outbox_published_total", "Outbox rows published to Kafka", ["service"])
OUTBOX_PARKED = Counter(
    "oms_outbox_parked_total", "Outbox rows the broker refused for good, kept in outbox_parked", ["service"]
)
RELAY_ACTIVE = Gauge("oms_outbox_relay_active", "1 while this instance holds the relay lock", ["service"])
TIMERS_FIRED = Counter(
    "oms_timers_fired_total", "Durable timers whose handler committed", ["service", "kind"]
)
TIMERS_FAILED = Counter(
    "oms_timers_failed_total", "Durable timer handler failures (retried)", ["service", "kind"]
)
