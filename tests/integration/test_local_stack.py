"""The local stack itself: a second start finds the first, other folders get other ports, stop cleans up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from oms.devstack import kafka, postgres, procs
from oms.devstack.paths import StackPaths
from oms.devstack.stack import LocalStack

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def make_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], LocalStack]]:
    """Stacks in temporary folders of their own; every one is destroyed after the test."""
    made: list[LocalStack] = []

    def factory() -> LocalStack:
        state_dir = tmp_path_factory.mktemp("stack")
        state_dir.chmod(0o755)  # the database server runs as an unprivileged user
        stack = LocalStack(StackPaths.from_env(state_dir), say=lambda _: None)
        made.append(stack)
        return stack

    yield factory
    for stack in made:
        stack.destroy()


def _processes_under(folder: Path) -> list[int]:
    """Pids of live processes whose command line names the folder (Kafka's config, PostgreSQL's data)."""
    pids = [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]
    found = [pid for pid in pids if str(folder) in procs.process_cmdline(pid)]
    return [pid for pid in found if pid != os.getpid() and procs.pid_is_alive(pid)]


def _postgres_pid(stack: LocalStack) -> int | None:
    return postgres.running_pid(postgres.PostgresLayout.of(stack.paths.postgres_dir))


def test_starting_twice_finds_the_running_stack_and_changes_nothing(
    make_stack: Callable[[], LocalStack],
) -> None:
    stack = make_stack()
    first = stack.start()
    first_pg_pid = _postgres_pid(stack)
    second = stack.start()

    assert (second.kafka.pid, second.kafka.port) == (first.kafka.pid, first.kafka.port)
    assert second.postgres.port == first.postgres.port
    assert _postgres_pid(stack) == first_pg_pid
    assert all(part.running for part in stack.status())


def test_a_stack_in_another_folder_gets_other_ports(make_stack: Callable[[], LocalStack]) -> None:
    one, two = make_stack().start(), make_stack().start()

    ports_one = {one.kafka.port, one.kafka.controller_port, one.postgres.port}
    ports_two = {two.kafka.port, two.kafka.controller_port, two.postgres.port}
    assert ports_one.isdisjoint(ports_two)
    assert kafka.answers(one.kafka.bootstrap)
    assert kafka.answers(two.kafka.bootstrap)


def test_stop_leaves_no_process_behind_and_start_brings_the_same_ports_back(
    make_stack: Callable[[], LocalStack],
) -> None:
    stack = make_stack()
    before = stack.start()
    assert _processes_under(stack.paths.state_dir)

    stack.stop()
    assert _processes_under(stack.paths.state_dir) == []
    assert [part.running for part in stack.status()] == [False, False]

    after = stack.start()
    assert (after.kafka.port, after.postgres.port) == (before.kafka.port, before.postgres.port)
    assert all(part.running for part in stack.status())


def test_a_killed_broker_restarts_on_its_port_with_its_data(make_stack: Callable[[], LocalStack]) -> None:
    stack = make_stack()
    before = stack.start(with_postgres=False)
    meta = (stack.paths.kafka_dir / "data" / "meta.properties").read_text()

    stack.kill_kafka()
    assert not procs.pid_is_alive(before.kafka.pid or 0)

    after = stack.start(with_postgres=False)
    assert after.kafka.pid != before.kafka.pid
    assert after.kafka.port == before.kafka.port
    assert (stack.paths.kafka_dir / "data" / "meta.properties").read_text() == meta
