"""Apache Kafka (KRaft, one node) on the JDK from Maven Central's jars: fetch, format, start, probe, stop."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from aiokafka.admin import AIOKafkaAdminClient

from oms.devstack import procs, system
from oms.devstack.errors import StackError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

_POM = resources.files("oms.devstack") / "kafka_runtime" / "pom.xml"
_MAIN_CLASS = "kafka.Kafka"
_STORAGE_TOOL = "kafka.tools.StorageTool"
_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"

# Kafka's own start scripts use these GC settings; the heap is smaller because a test broker holds little.
_JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
]

_LOG4J2 = """\
# Written by oms-stack. WARN and above, plus the broker's start and stop lines.
status = error
name = oms-kafka
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
logger.raft.name = kafka.server.KafkaRaftServer
logger.raft.level = INFO
logger.raft.additivity = false
logger.raft.appenderRef.file.ref = FILE
"""


def kafka_version() -> str:
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", _POM.read_text(encoding="utf-8"))
    if match is None:
        raise StackError(f"no <kafka.version> in {_POM}")
    return match.group(1)


def ensure_runtime(cache_dir: Path, say: Callable[[str], None] = print) -> Path:
    """The folder of Kafka's runtime jars, fetched once by Maven into the cache."""
    pom_text = _POM.read_bytes()
    digest = hashlib.sha256(pom_text).hexdigest()[:12]
    home = cache_dir / "kafka" / f"{kafka_version()}-{digest}"
    libs = home / "libs"
    if (home / ".complete").is_file():
        return libs
    system.ensure_packages([system.JAVA, system.MAVEN], say=say)
    say(f"fetching Apache Kafka {kafka_version()} jars from Maven Central into {home} (once)")
    partial = home / "libs.partial"
    shutil.rmtree(partial, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_bytes(pom_text)
    argv = ["mvn", "-q", "-B", "-f", str(home / "pom.xml"), _DEPENDENCY_PLUGIN]
    argv += ["-DincludeScope=runtime", f"-DoutputDirectory={partial}"]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not any(partial.glob("kafka_2.13-*.jar")):
        raise StackError(f"Maven could not fetch Kafka's jars:\n{(result.stdout + result.stderr)[-3000:]}")
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    (home / ".complete").write_text(kafka_version(), encoding="utf-8")
    return libs


def new_cluster_id() -> str:
    """A KRaft cluster id as `StorageTool random-uuid` makes it, without starting a JVM for it."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):  # Kafka refuses ids that look like command-line flags
            return cluster_id


@dataclass(frozen=True)
class KafkaLayout:
    """The files of one broker instance below its folder in the stack's state."""

    home: Path

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def config_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def log4j_file(self) -> Path:
        return self.home / "log4j2.properties"

    @property
    def console_log(self) -> Path:
        return self.logs_dir / "kafka.out"

    @property
    def server_log(self) -> Path:
        return self.logs_dir / "server.log"


def server_properties(data_dir: Path, port: int, controller_port: int) -> str:
    """A single-node KRaft broker+controller on 127.0.0.1 with the internal topics at replication 1."""
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.bootstrap.servers": f"127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "log.dirs": str(data_dir),
        # The suite creates every topic it uses with explicit partitions; auto-creation would hide a bug.
        "auto.create.topics.enable": "false",
        "num.partitions": "3",
        # Without this every consumer-group join waits 3 s for more members.
        "group.initial.rebalance.delay.ms": "0",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
    }
    lines = ["# Written by oms-stack at every start (ports may change); edits are overwritten."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def _java(libs: Path, layout: KafkaLayout, heap: str, main: str, *args: str) -> list[str]:
    java = shutil.which("java") or "java"
    return [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        *_JVM_FLAGS,
        f"-Dkafka.logs.dir={layout.logs_dir}",
        f"-Dlog4j2.configurationFile={layout.log4j_file}",
        "-cp",
        f"{libs}/*",
        main,
        *args,
    ]


def start(libs: Path, layout: KafkaLayout, port: int, controller_port: int, heap: str) -> int:
    """Write the configuration, format storage on first use, start the broker; returns its pid."""
    layout.logs_dir.mkdir(parents=True, exist_ok=True)
    layout.config_file.write_text(server_properties(layout.data_dir, port, controller_port), encoding="utf-8")
    layout.log4j_file.write_text(_LOG4J2, encoding="utf-8")
    if not (layout.data_dir / "meta.properties").is_file():
        fmt = _java(libs, layout, "256m", _STORAGE_TOOL, "format", "--standalone")
        fmt += ["-t", new_cluster_id(), "-c", str(layout.config_file)]
        result = subprocess.run(fmt, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed:\n{result.stdout}{result.stderr}")
    argv = _java(libs, layout, heap, _MAIN_CLASS, str(layout.config_file))
    return procs.spawn_detached(argv, layout.console_log, env=dict(os.environ))


def is_ours(pid: int, layout: KafkaLayout) -> bool:
    """The pid is alive and is the broker of this layout (not a reused pid of something else)."""
    cmdline = procs.process_cmdline(pid)
    return procs.pid_is_alive(pid) and _MAIN_CLASS in cmdline and str(layout.config_file) in cmdline


async def _answers(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await admin.start()
        await admin.list_topics()
    except Exception:  # noqa: BLE001 -- any failure means "not ready yet"; the caller keeps polling
        return False
    finally:
        await admin.close()
    return True


def answers(bootstrap: str) -> bool:
    """The broker accepts a client connection and serves metadata (not merely an open port)."""
    return asyncio.run(_answers(bootstrap))


def wait_ready(bootstrap: str, pid: int, layout: KafkaLayout, timeout: float) -> float:
    """Poll until the broker serves metadata; fail fast, with its log, if the process died."""

    def ready() -> bool:
        if not procs.pid_is_alive(pid):
            raise StackError(
                f"Kafka exited during start-up; last lines of {layout.console_log} and "
                f"{layout.server_log}:\n{procs.tail(layout.console_log)}\n{procs.tail(layout.server_log)}"
            )
        return procs.port_accepts(int(bootstrap.rsplit(":", 1)[1])) and answers(bootstrap)

    return procs.wait_until(ready, timeout=timeout, interval=0.5, what=f"Kafka at {bootstrap}")
