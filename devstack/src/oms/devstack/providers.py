"""Where tests get a real Kafka and PostgreSQL: the environment, else Docker, else the local stack."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from oms.devstack.errors import StackError
from oms.devstack.paths import StackPaths
from oms.devstack.stack import LocalStack

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# Images used only where a Docker engine answers (never on this project's CI machines).
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"
POSTGRES_IMAGE = "postgres:15"


@dataclass(frozen=True)
class Infrastructure:
    """Endpoints of a real broker and database, and where each came from (for the test report)."""

    kafka_bootstrap: str
    database_url: str
    kafka_source: str
    database_source: str
    local_stack: LocalStack | None = None


def docker_answers() -> bool:
    """A Docker engine answers a ping (on DOCKER_HOST, else the default socket)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not _unix_socket_accepts(host.removeprefix("unix://")):
        return False  # checked first: docker-py leaks its socket when the connect fails
    try:
        import docker  # noqa: PLC0415 -- testcontainers' dependency, imported only when probing

        client = docker.from_env(timeout=3)
    except Exception:  # noqa: BLE001 -- no engine, no permission, bad DOCKER_HOST: all mean "no Docker"
        return False
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 -- same as above
        return False
    finally:
        client.close()


def _unix_socket_accepts(path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        return sock.connect_ex(path) == 0


@contextlib.contextmanager
def provide(say: Callable[[str], None] = print) -> Iterator[Infrastructure]:
    """Yield a reachable Kafka and PostgreSQL for a test session; raise StackError if none can be had."""
    kafka_bootstrap = os.environ.get("OMS_KAFKA_BOOTSTRAP", "")
    database_url = os.environ.get("OMS_DATABASE_URL", "")
    sources = {"kafka": "OMS_KAFKA_BOOTSTRAP", "postgres": "OMS_DATABASE_URL"}
    with contextlib.ExitStack() as cleanup:
        missing = [
            name for name, value in (("kafka", kafka_bootstrap), ("postgres", database_url)) if not value
        ]
        local: LocalStack | None = None
        if missing and docker_answers():
            found = _containers(cleanup, missing)
            kafka_bootstrap = found.get("kafka", kafka_bootstrap)
            database_url = found.get("postgres", database_url)
            sources.update(dict.fromkeys(missing, "testcontainers"))
        elif missing:
            local = _local_stack(cleanup, missing, say)
            state = local.start(with_kafka="kafka" in missing, with_postgres="postgres" in missing)
            kafka_bootstrap = kafka_bootstrap or state.kafka.bootstrap
            database_url = database_url or state.postgres.url
            sources.update(dict.fromkeys(missing, f"local stack in {local.paths.state_dir}"))
        yield Infrastructure(kafka_bootstrap, database_url, sources["kafka"], sources["postgres"], local)


def _local_stack(cleanup: contextlib.ExitStack, parts: list[str], say: Callable[[str], None]) -> LocalStack:
    """A stack of the session's own, in a temporary folder: a developer's running stack is never touched."""
    state_dir = Path(tempfile.mkdtemp(prefix="oms-test-stack-"))
    stack = LocalStack(StackPaths.from_env(state_dir), say=say)
    cleanup.callback(stack.destroy)
    if "postgres" in parts and os.geteuid() == 0:
        state_dir.chmod(0o755)  # the server runs as the postgres user and must reach its folder
    return stack


def _containers(cleanup: contextlib.ExitStack, parts: list[str]) -> dict[str, str]:
    try:
        from testcontainers.community.kafka import KafkaContainer  # noqa: PLC0415 -- only with Docker
        from testcontainers.community.postgres import PostgresContainer  # noqa: PLC0415
    except ImportError as error:
        raise StackError(f"Docker answers but testcontainers is not installed: {error}") from error
    found: dict[str, str] = {}
    if "kafka" in parts:
        broker = cleanup.enter_context(KafkaContainer(KAFKA_IMAGE).with_kraft())
        found["kafka"] = broker.get_bootstrap_server()
    if "postgres" in parts:
        database = cleanup.enter_context(PostgresContainer(POSTGRES_IMAGE, driver=None))
        found["postgres"] = database.get_connection_url()
    return found
