"""One local stack (a Kafka broker and a PostgreSQL cluster) kept in a state folder: start, status, stop."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from oms.devstack import kafka, postgres, procs
from oms.devstack.errors import StackError
from oms.devstack.paths import StackPaths

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

KAFKA_READY_TIMEOUT = float(os.environ.get("OMS_STACK_KAFKA_TIMEOUT", "90"))


@dataclass
class KafkaState:
    port: int = 0
    controller_port: int = 0
    pid: int | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class PostgresState:
    port: int = 0

    @property
    def url(self) -> str:
        return postgres.admin_url(self.port)


@dataclass
class StackState:
    """What `stack.json` records so that later commands (and restarts) find the same ports."""

    kafka: KafkaState = field(default_factory=KafkaState)
    postgres: PostgresState = field(default_factory=PostgresState)

    @classmethod
    def load(cls, path: Path) -> StackState:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls(
            kafka=KafkaState(**raw.get("kafka", {})), postgres=PostgresState(**raw.get("postgres", {}))
        )

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.replace(path)


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    running: bool
    endpoint: str
    detail: str


def _wanted_port(variable: str, remembered: int) -> int:
    """An explicitly configured port first, then the one used last time (clients keep working)."""
    return int(os.environ.get(variable, "0")) or remembered


class LocalStack:
    """Kafka and PostgreSQL for one state folder. Commands on the same folder are serialised by a lock."""

    def __init__(self, paths: StackPaths | None = None, say: Callable[[str], None] = print) -> None:
        self.paths = paths or StackPaths.from_env()
        self.say = say
        self.kafka_layout = kafka.KafkaLayout(self.paths.kafka_dir)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[StackState]:
        self.paths.state_dir.mkdir(parents=True, exist_ok=True)
        with self.paths.lock_file.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = StackState.load(self.paths.state_file)
            try:
                yield state
            finally:
                state.save(self.paths.state_file)

    # ------------------------------------------------------------------ install
    def install(self, *, with_kafka: bool = True, with_postgres: bool = True) -> None:
        """Everything that needs the network or root, done once: packages, then Kafka's jars."""
        if with_postgres:
            postgres.ensure_installed(self.say)
        if with_kafka:
            kafka.ensure_runtime(self.paths.cache_dir, self.say)

    # ------------------------------------------------------------------ start
    def start(self, *, with_kafka: bool = True, with_postgres: bool = True) -> StackState:
        with self._locked() as state:
            if with_postgres:
                self._start_postgres(state)
            if with_kafka:
                self._start_kafka(state)
            return state

    def _start_kafka(self, state: StackState) -> None:
        ks = state.kafka
        if ks.pid is not None and kafka.is_ours(ks.pid, self.kafka_layout):
            kafka.wait_ready(ks.bootstrap, ks.pid, self.kafka_layout, KAFKA_READY_TIMEOUT)
            self.say(f"Kafka is already running at {ks.bootstrap} (pid {ks.pid})")
            return
        libs = kafka.ensure_runtime(self.paths.cache_dir, self.say)
        ks.port = procs.pick_port(_wanted_port("OMS_STACK_KAFKA_PORT", ks.port))
        ks.controller_port = procs.pick_port(ks.controller_port)
        while ks.controller_port == ks.port:
            ks.controller_port = procs.free_port()
        heap = os.environ.get("OMS_STACK_KAFKA_HEAP", "512m")
        started = time.monotonic()
        ks.pid = kafka.start(libs, self.kafka_layout, ks.port, ks.controller_port, heap)
        self.say(
            f"Kafka {kafka.kafka_version()} starting (pid {ks.pid}); logs in {self.kafka_layout.logs_dir}"
        )
        kafka.wait_ready(ks.bootstrap, ks.pid, self.kafka_layout, KAFKA_READY_TIMEOUT)
        self.say(f"Kafka ready at {ks.bootstrap} after {time.monotonic() - started:.1f}s")

    def _start_postgres(self, state: StackState) -> None:
        bin_dir = postgres.ensure_installed(self.say)
        layout = postgres.prepare_home(self.paths.postgres_dir)
        pg = state.postgres
        if (pid := postgres.running_pid(layout)) is not None:
            self.say(f"PostgreSQL is already running at 127.0.0.1:{pg.port} (pid {pid})")
            return
        started = time.monotonic()
        postgres.init_cluster(bin_dir, layout)
        pg.port = procs.pick_port(_wanted_port("OMS_STACK_POSTGRES_PORT", pg.port))
        postgres.start(bin_dir, layout, pg.port)
        postgres.ensure_database(pg.port)
        self.say(
            f"PostgreSQL {bin_dir.parent.name} ready at 127.0.0.1:{pg.port} after "
            f"{time.monotonic() - started:.1f}s; log: {layout.log_file}"
        )

    # ------------------------------------------------------------------ status
    def status(self) -> list[ComponentStatus]:
        state = StackState.load(self.paths.state_file)
        ks, pg = state.kafka, state.postgres
        kafka_up = (
            ks.pid is not None and kafka.is_ours(ks.pid, self.kafka_layout) and kafka.answers(ks.bootstrap)
        )
        pg_layout = postgres.PostgresLayout.of(self.paths.postgres_dir)
        pg_pid = postgres.running_pid(pg_layout)
        pg_up = pg_pid is not None and postgres.answers(pg.url)
        return [
            ComponentStatus(
                "kafka", kafka_up, ks.bootstrap, f"pid {ks.pid}, logs {self.kafka_layout.logs_dir}"
            ),
            ComponentStatus("postgres", pg_up, pg.url, f"pid {pg_pid}, log {pg_layout.log_file}"),
        ]

    # ------------------------------------------------------------------ stop
    def stop(self, *, with_kafka: bool = True, with_postgres: bool = True) -> None:
        with self._locked() as state:
            if with_kafka and state.kafka.pid is not None:
                if kafka.is_ours(state.kafka.pid, self.kafka_layout):
                    procs.terminate(state.kafka.pid, timeout=30)
                    self.say(f"Kafka stopped (pid {state.kafka.pid})")
                state.kafka.pid = None
            if with_postgres:
                self._stop_postgres()

    def _stop_postgres(self) -> None:
        layout = postgres.PostgresLayout.of(self.paths.postgres_dir)
        bin_dir = postgres.find_bin_dir()
        if bin_dir is not None and postgres.running_pid(layout) is not None:
            postgres.stop(bin_dir, layout)
            self.say("PostgreSQL stopped")

    def kill_kafka(self) -> None:
        """SIGKILL the broker as a crash would (fault tests); `start` brings it back on the same ports."""
        with self._locked() as state:
            if state.kafka.pid is not None and kafka.is_ours(state.kafka.pid, self.kafka_layout):
                procs.kill_now(state.kafka.pid)
            state.kafka.pid = None

    def destroy(self) -> None:
        """Stop everything and delete the state folder (data and logs); the jar cache stays."""
        self.stop()
        target = self.paths.postgres_dir
        if target.is_symlink():
            shutil.rmtree(target.resolve(), ignore_errors=True)
        shutil.rmtree(self.paths.state_dir, ignore_errors=True)
        if self.paths.state_dir.exists():
            raise StackError(f"could not remove {self.paths.state_dir}")
