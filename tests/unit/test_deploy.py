"""What can be checked of the containers without a Docker engine: compose, health checks, entry points."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from oms.devstack.procs import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["order", "inventory", "fulfilment", "shipping", "notify"]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def _entry_points() -> set[str]:
    names: set[str] = set()
    for pyproject in [*ROOT.glob("services/*/pyproject.toml"), ROOT / "cli" / "pyproject.toml"]:
        names.update(tomllib.loads(pyproject.read_text())["project"].get("scripts", {}))
    return names


def test_the_compose_file_runs_kafka_postgres_topic_creation_and_the_five_services(
    compose: dict[str, Any],
) -> None:
    assert set(compose["services"]) == {"kafka", "postgres", "topics", *SERVICES}


@pytest.mark.parametrize("name", ["kafka", "postgres", *SERVICES])
def test_every_long_running_container_has_a_health_check_and_a_restart_policy(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    assert service["healthcheck"]["test"]
    assert service["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_runs_its_entry_point_configured_by_environment_after_its_dependencies(
    compose: dict[str, Any], name: str
) -> None:
    service = compose["services"][name]
    environment = service["environment"]

    assert service["command"] == [f"oms-{name}"]
    assert service["command"][0] in _entry_points()
    assert environment["OMS_KAFKA_BOOTSTRAP"] == "kafka:29092"
    assert environment["OMS_DATABASE_URL"].startswith("postgresql://")
    assert environment[f"OMS_{name.upper()}_HTTP_PORT"] == 8080
    assert "8080/readyz" in " ".join(service["healthcheck"]["test"])
    assert service["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
        "topics": {"condition": "service_completed_successfully"},
    }


def test_topic_creation_is_a_one_shot_job_of_the_cli(compose: dict[str, Any]) -> None:
    topics = compose["services"]["topics"]
    assert topics["command"] == ["oms", "topics"]
    assert topics["restart"] == "no"
    assert "oms" in _entry_points()


def test_the_image_copies_what_exists_and_starts_an_entry_point() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    copied = [
        line.split()[1:-1]
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
    ]
    for sources in copied:
        for source in sources:
            assert (ROOT / source).exists(), source
    assert 'CMD ["oms-order"]' in dockerfile
    assert "8080/readyz" in dockerfile


def test_a_service_entry_point_starts_waits_for_its_database_and_stops_cleanly(tmp_path: Path) -> None:
    closed = free_port()
    env = {
        **os.environ,
        "OMS_DATABASE_URL": f"postgresql://oms@127.0.0.1:{closed}/oms",
        "OMS_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed}",
        "OMS_SHIPPING_HTTP_PORT": str(free_port()),
        "OMS_SHIPPING_HTTP_HOST": "127.0.0.1",
    }
    log = tmp_path / "shipping.log"
    with log.open("wb") as out:
        entry_point = Path(sys.executable).parent / "oms-shipping"
        process = subprocess.Popen([entry_point], env=env, stdout=out, stderr=out)  # noqa: S603 -- our own entry point
    try:
        deadline = time.monotonic() + 30
        while "waiting for infrastructure" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert "waiting for infrastructure" in log.read_text()
    assert code == 0


def test_the_kubernetes_manifests_run_each_service_with_probes_limits_and_configuration() -> None:
    documents = [doc for doc in yaml.safe_load_all((ROOT / "deploy" / "k8s" / "oms.yaml").read_text()) if doc]
    deployments = {doc["metadata"]["name"]: doc for doc in documents if doc["kind"] == "Deployment"}
    services = {doc["metadata"]["name"] for doc in documents if doc["kind"] == "Service"}

    assert set(deployments) == {f"oms-{name}" for name in SERVICES} == services
    for name in SERVICES:
        (container,) = deployments[f"oms-{name}"]["spec"]["template"]["spec"]["containers"]
        assert container["command"] == [f"oms-{name}"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert container["resources"]["limits"]["memory"] == "256Mi"
        assert {"name": f"OMS_{name.upper()}_HTTP_PORT", "value": "8080"} in container["env"]
        assert [ref for ref in container["envFrom"] if "secretRef" in ref]
    (job,) = [doc for doc in documents if doc["kind"] == "Job"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["oms", "topics"]
