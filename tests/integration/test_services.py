"""Each of the five services as its own process: starts, migrates, reports ready, stops on SIGTERM."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.integration.processes import ServiceProcess

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

SERVICES = ["order", "inventory", "fulfilment", "shipping", "notify"]


@pytest.mark.parametrize("service", SERVICES)
async def test_the_service_starts_reports_ready_and_stops_on_sigterm_within_seconds(
    service: str, kafka_bootstrap: str, database_url: str, topic_prefix: str, tmp_path: Path
) -> None:
    process = ServiceProcess.start(
        service,
        tmp_path,
        OMS_KAFKA_BOOTSTRAP=kafka_bootstrap,
        OMS_DATABASE_URL=database_url,
        OMS_KAFKA_TOPIC_PREFIX=topic_prefix,
        OMS_KAFKA_TOPIC_PARTITIONS="1",
    )
    try:
        await process.wait_for("/readyz", 200, seconds=60)
        status, body = process.get("/readyz")
        assert status == 200
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert checks.items() >= {"started": True, "database": True, "kafka": True}.items()
        assert all(checks.values())
        status, _ = process.get("/livez")
        assert status == 200

        code, took = await process.terminate(seconds=15)
    finally:
        process.kill()
    assert code == 0, process.output()
    assert took < 10, f"{service} took {took:.1f}s to stop"
    assert '"event": "service stopped"' in process.output()
