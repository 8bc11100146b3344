"""The five services as processes of their own beside the local stack: start, wait ready, stop."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import httpx

from oms.devstack import procs
from oms.devstack.errors import StackError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

SERVICES = ("order", "inventory", "fulfilment", "shipping", "notify")


@dataclass
class SuiteState:
    """`services.json` in the stack's folder: ports, pids and the credentials the CLI uses."""

    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    api_token: str = ""
    webhook_secrets: dict[str, str] = field(default_factory=dict)
    topic_prefix: str = ""
    kafka_bootstrap: str = ""

    @classmethod
    def load(cls, state_dir: Path) -> SuiteState:
        try:
            return cls(**json.loads((state_dir / "services.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return cls()

    def save(self, state_dir: Path) -> None:
        path = state_dir / "services.json"
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        path.chmod(0o600)  # it holds the API token and webhook secrets

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"


def _environment(
    service: str, state: SuiteState, shared: dict[str, str], extra: dict[str, str]
) -> dict[str, str]:
    prefix = f"OMS_{service.upper()}_"
    env = {
        **os.environ,
        **shared,
        f"{prefix}HTTP_PORT": str(state.ports[service]),
        f"{prefix}HTTP_HOST": "127.0.0.1",
    }
    env[f"{prefix}API_TOKENS"] = json.dumps([state.api_token])
    return env | {key: value for key, value in extra.items() if key.startswith(prefix)}


def start(
    state_dir: Path,
    *,
    kafka_bootstrap: str,
    database_url: str,
    settings: dict[str, str],
    topic_prefix: str = "",
    say: Callable[[str], None] = print,
) -> SuiteState:
    """Start every service not running yet (each `python -m oms.<service>`), logs in `logs/`."""
    state = SuiteState.load(state_dir)
    state.api_token = state.api_token or secrets.token_urlsafe(24)
    state.webhook_secrets = state.webhook_secrets or {
        channel: secrets.token_urlsafe(24) for channel in ("shopify-us", "woo-us")
    }
    state.topic_prefix = topic_prefix
    state.kafka_bootstrap = kafka_bootstrap
    shared = {
        "OMS_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "OMS_DATABASE_URL": database_url,
        "OMS_KAFKA_TOPIC_PREFIX": topic_prefix,
        "OMS_ORDER_WEBHOOK_SECRETS": json.dumps(state.webhook_secrets),
    }
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        pid = state.pids.get(service)
        if pid and procs.pid_is_alive(pid) and f"oms.{service}" in procs.process_cmdline(pid):
            continue
        state.ports[service] = procs.pick_port(state.ports.get(service))
        argv = [sys.executable, "-m", f"oms.{service}"]
        state.pids[service] = procs.spawn_detached(
            argv, logs / f"{service}.log", _environment(service, state, shared, settings)
        )
        say(f"{service} service starting on port {state.ports[service]} (log: {logs / f'{service}.log'})")
    state.save(state_dir)
    return state


def wait_ready(state: SuiteState, state_dir: Path, timeout: float = 120) -> float:
    """Wait until every service answers /readyz with 200; fail with the log of one that died."""
    started = time.monotonic()
    for service in SERVICES:

        def ready(service: str = service) -> bool:
            if not procs.pid_is_alive(state.pids[service]):
                log = procs.tail(state_dir / "logs" / f"{service}.log", 30)
                raise StackError(f"the {service} service exited during start-up:\n{log}")
            try:
                return httpx.get(f"{state.url(service)}/readyz", timeout=3).status_code == httpx.codes.OK
            except httpx.HTTPError:
                return False

        procs.wait_until(ready, timeout=timeout, interval=0.3, what=f"the {service} service to be ready")
    return time.monotonic() - started


def status(state_dir: Path) -> dict[str, str]:
    state = SuiteState.load(state_dir)
    result = {}
    for service in SERVICES:
        pid = state.pids.get(service)
        if not pid or not procs.pid_is_alive(pid):
            result[service] = "stopped"
            continue
        try:
            ready = httpx.get(f"{state.url(service)}/readyz", timeout=3).status_code == httpx.codes.OK
        except httpx.HTTPError:
            ready = False
        result[service] = f"{'ready' if ready else 'starting'} on {state.url(service)} (pid {pid})"
    return result


def stop(state_dir: Path, say: Callable[[str], None] = print) -> None:
    """SIGTERM each service (a graceful shutdown: in-flight work committed, outbox drained)."""
    state = SuiteState.load(state_dir)
    for service, pid in state.pids.items():
        if procs.pid_is_alive(pid) and f"oms.{service}" in procs.process_cmdline(pid):
            procs.terminate(pid, timeout=30)
            say(f"{service} service stopped")
    state.pids = {}
    if state_dir.is_dir():
        state.save(state_dir)
