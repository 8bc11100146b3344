"""Wiring of the inventory service: its migrations, subscriptions, timers and routes on the shared runtime."""

from __future__ import annotations

from oms.inventory.settings import InventorySettings
from oms.shared import runtime
from oms.shared.runtime import ServiceDefinition

# Subscriptions, timers and tables arrive with the service's business logic (see its README).
DEFINITION = ServiceDefinition(name="inventory")


def main() -> None:
    runtime.main(DEFINITION, InventorySettings())
