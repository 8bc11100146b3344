"""Wiring of the fulfilment service: migrations, subscriptions, timers and routes on the shared runtime."""

from __future__ import annotations

from oms.fulfilment.settings import FulfilmentSettings
from oms.shared import runtime
from oms.shared.runtime import ServiceDefinition

# Subscriptions, timers and tables arrive with the service's business logic (see its README).
DEFINITION = ServiceDefinition(name="fulfilment")


def main() -> None:
    runtime.main(DEFINITION, FulfilmentSettings())
