"""Wiring of the shipping service: its migrations, subscriptions, timers and routes on the shared runtime."""

from __future__ import annotations

from oms.shared import runtime
from oms.shared.runtime import ServiceDefinition
from oms.shipping.settings import ShippingSettings

# Subscriptions, timers and tables arrive with the service's business logic (see its README).
DEFINITION = ServiceDefinition(name="shipping")


def main() -> None:
    runtime.main(DEFINITION, ShippingSettings())
