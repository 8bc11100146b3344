"""Pure parts of the local stack: broker configuration, cluster ids, ports and the state file."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from oms.devstack import kafka, procs
from oms.devstack.stack import StackState

if TYPE_CHECKING:
    from pathlib import Path


def _properties(text: str) -> dict[str, str]:
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    return {key: value for key, _, value in (line.partition("=") for line in lines)}


def test_broker_configuration_is_a_single_kraft_node_on_the_given_ports(tmp_path: Path) -> None:
    props = _properties(kafka.server_properties(tmp_path / "data", 19092, 19093))

    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:19093"
    assert props["log.dirs"] == str(tmp_path / "data")
    assert props["auto.create.topics.enable"] == "false"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    for internal in ("offsets.topic", "transaction.state.log", "share.coordinator.state.topic"):
        assert props[f"{internal}.replication.factor"] == "1"


def test_cluster_ids_look_like_kafkas_own_and_never_start_with_a_dash() -> None:
    ids = {kafka.new_cluster_id() for _ in range(500)}

    assert len(ids) == 500
    assert all(len(cluster_id) == 22 and not cluster_id.startswith("-") for cluster_id in ids)


def test_a_wanted_port_is_kept_when_free_and_replaced_when_taken() -> None:
    free = procs.free_port()
    assert procs.pick_port(free) == free

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        assert procs.port_accepts(taken)
        assert procs.pick_port(taken) != taken


def test_the_state_file_round_trips_and_a_missing_one_means_nothing_started(tmp_path: Path) -> None:
    assert StackState.load(tmp_path / "absent.json") == StackState()

    state = StackState()
    state.kafka.port, state.kafka.controller_port, state.kafka.pid = 19092, 19093, 4242
    state.postgres.port = 15432
    state.save(tmp_path / "stack.json")

    loaded = StackState.load(tmp_path / "stack.json")
    assert loaded == state
    assert loaded.kafka.bootstrap == "127.0.0.1:19092"
    assert loaded.postgres.url == "postgresql://oms@127.0.0.1:15432/oms"
