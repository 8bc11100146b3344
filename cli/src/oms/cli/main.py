"""`oms`: run the demo, look after the local suite, and operate orders and stock from the command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from oms.cli import suite
from oms.devstack.errors import StackError
from oms.devstack.paths import StackPaths
from oms.devstack.stack import LocalStack

app = typer.Typer(
    help="The OMS suite: demo, local stack, orders and stock.", no_args_is_help=True, add_completion=False
)
stack_app = typer.Typer(help="Kafka, PostgreSQL and the five services on this machine.", no_args_is_help=True)
orders_app = typer.Typer(help="Orders: list, show, release a hold, cancel.", no_args_is_help=True)
stock_app = typer.Typer(help="Stock: show a SKU, adjust it.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(orders_app, name="orders")
app.add_typer(stock_app, name="stock")
console = Console()

StateDir = Annotated[
    Path | None,
    typer.Option("--state-dir", envvar="OMS_STACK_DIR", help="Folder of the local stack's state."),
]

# How the demo configures the services (environment variables each reads with its own prefix).
DEMO_SETTINGS = {
    "OMS_ORDER_FRAUD_MAX_ORDER_VALUE": json.dumps({"USD": "1500", "GBP": "1500", "EUR": "1500"}),
    "OMS_ORDER_FRAUD_BLOCKED_EMAILS": json.dumps(["fraud@example.com"]),
    "OMS_ORDER_BACKORDER_HOURS": json.dumps({"woo-us": 48}),
    "OMS_INVENTORY_REORDER_POINTS": json.dumps({"LAMP-BRASS": 10, "CHAIR-OAK": 5}),
}


def _paths(state_dir: Path | None) -> StackPaths:
    return StackPaths.from_env(state_dir)


def _infrastructure(paths: StackPaths, *, fresh: bool = False) -> tuple[str, str]:
    """The Kafka and PostgreSQL of OMS_KAFKA_BOOTSTRAP and OMS_DATABASE_URL when set, else the local stack."""
    kafka, database = os.environ.get("OMS_KAFKA_BOOTSTRAP"), os.environ.get("OMS_DATABASE_URL")
    if kafka and database:
        return kafka, database
    stack = LocalStack(paths, say=lambda line: console.print(f"  {line}"))
    if fresh and paths.state_file.exists():
        console.print(f"  the demo starts from empty data: deleting the previous run's ({paths.state_dir})")
        suite.stop(paths.state_dir, say=lambda line: console.print(f"  {line}"))
        stack.destroy()
    state = stack.start()
    return state.kafka.bootstrap, state.postgres.url


def _start_suite(paths: StackPaths, *, fresh: bool = False) -> tuple[suite.SuiteState, str]:
    kafka, database = _infrastructure(paths, fresh=fresh)
    prefix = os.environ.get("OMS_KAFKA_TOPIC_PREFIX", "")
    state = suite.start(
        paths.state_dir,
        kafka_bootstrap=kafka,
        database_url=database,
        settings=DEMO_SETTINGS,
        topic_prefix=prefix,
        say=lambda line: console.print(f"  {line}"),
    )
    took = suite.wait_ready(state, paths.state_dir)
    console.print(f"  all five services ready ({took:.1f} s)")
    return state, kafka


@app.command()
def demo(
    orders: Annotated[int, typer.Option(help="How many generated orders to send.")] = 3000,
    state_dir: StateDir = None,
) -> None:
    """Start everything, feed real and generated channel orders, report; the suite keeps running after."""
    from oms.cli.demo.run import run  # noqa: PLC0415 -- the demo's imports are only for the demo

    paths = _paths(state_dir)
    console.print("[bold]starting[/] Kafka, PostgreSQL and the five services")
    state, kafka = _start_suite(paths, fresh=True)
    report = asyncio.run(run(state, kafka, orders, console))
    console.print(report.text())
    page = paths.state_dir / "report.html"
    page.write_text(report.html(), encoding="utf-8")
    console.print(f"\nHTML report: {page}")
    console.print(
        "\nThe suite keeps running. Look around:\n"
        "  .venv/bin/oms orders list --status ON_HOLD      held orders and why\n"
        "  .venv/bin/oms orders show <order id>           one order with its timeline\n"
        "  .venv/bin/oms stock show LAMP-BRASS            a scarce SKU per warehouse\n"
        "  .venv/bin/oms stack status                      what runs where; logs: oms stack logs order\n"
        "Stop it all with: make stack-stop   (or .venv/bin/oms stack stop)"
    )
    if report.unexplained or report.oversold_units or report.dead_letters:
        raise typer.Exit(1)


@app.command()
def topics() -> None:
    """Create the suite's topics that are missing (OMS_KAFKA_*): the compose file's one-shot step."""
    from oms.shared.messaging.kafka import ensure_topics  # noqa: PLC0415 -- only this command needs Kafka
    from oms.shared.messaging.naming import TopicNames  # noqa: PLC0415
    from oms.shared.settings import KafkaSettings  # noqa: PLC0415

    settings = KafkaSettings()
    created = asyncio.run(ensure_topics(settings, TopicNames(settings.topic_prefix)))
    console.print(f"topics created: {len(created)}" + (f" ({', '.join(created)})" if created else ""))


@stack_app.command("start")
def stack_start(state_dir: StateDir = None) -> None:
    """Start Kafka, PostgreSQL and the five services (running ones are left alone)."""
    _start_suite(_paths(state_dir))


@stack_app.command("stop")
def stack_stop(state_dir: StateDir = None) -> None:
    """Stop the services gracefully, then Kafka and PostgreSQL (data kept)."""
    paths = _paths(state_dir)
    suite.stop(paths.state_dir, say=console.print)
    LocalStack(paths, say=console.print).stop()


@stack_app.command("destroy")
def stack_destroy(state_dir: StateDir = None) -> None:
    """Stop everything and delete its data and logs (the downloaded jars stay cached)."""
    paths = _paths(state_dir)
    suite.stop(paths.state_dir, say=console.print)
    LocalStack(paths, say=console.print).destroy()
    console.print(f"deleted {paths.state_dir}")


@stack_app.command("status")
def stack_status(state_dir: StateDir = None) -> None:
    """What runs, where, and whether it is ready."""
    paths = _paths(state_dir)
    for part in LocalStack(paths).status():
        console.print(f"{part.name:<11} {'healthy' if part.running else 'DOWN':<9} {part.endpoint}")
    for service, state in suite.status(paths.state_dir).items():
        console.print(f"{service:<11} {state}")


@stack_app.command("logs")
def stack_logs(
    part: Annotated[str, typer.Argument(help="A service (order, inventory, ...), kafka or postgres.")],
    state_dir: StateDir = None,
    follow: Annotated[bool, typer.Option("--follow", "-f")] = False,
) -> None:
    """The last lines of a service's (or Kafka's, PostgreSQL's) log."""
    paths = _paths(state_dir)
    files = {service: [paths.state_dir / "logs" / f"{service}.log"] for service in suite.SERVICES}
    files |= {
        "kafka": [paths.kafka_dir / "logs" / "server.log"],
        "postgres": [paths.postgres_dir / "postgres.log"],
    }
    if part not in files or not any(path.exists() for path in files[part]):
        raise typer.BadParameter(f"no log for {part!r} under {paths.state_dir}")
    argv = ["tail", "-n", "50", *(["-F"] if follow else []), *(str(p) for p in files[part] if p.exists())]
    subprocess.run(argv, check=False)  # noqa: S603 -- tail on our own log files


def _api(state_dir: Path | None, service: str) -> tuple[httpx.Client, suite.SuiteState]:
    state = suite.SuiteState.load(_paths(state_dir).state_dir)
    if service not in state.ports:
        raise typer.BadParameter(
            "the suite is not running here: start it with `oms stack start` or `oms demo`"
        )
    headers = {"Authorization": f"Bearer {state.api_token}"}
    return httpx.Client(base_url=state.url(service), headers=headers, timeout=30), state


def _show(response: httpx.Response) -> Any:  # noqa: ANN401 -- JSON
    if response.status_code >= httpx.codes.BAD_REQUEST:
        console.print(f"[red]{response.status_code}[/] {response.text}")
        raise typer.Exit(1)
    return response.json()


@orders_app.command("list")
def orders_list(
    status: Annotated[str | None, typer.Option(help="RECEIVED, ON_HOLD, CONFIRMED, ...")] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 20,
    state_dir: StateDir = None,
) -> None:
    """Orders, newest first."""
    client, _ = _api(state_dir, "order")
    params = {
        key: value for key, value in {"status": status, "channel": channel, "limit": limit}.items() if value
    }
    for order in _show(client.get("/orders", params=params)):
        reason = f" ({order['reason_code']}: {order['reason_message']})" if order["reason_code"] else ""
        console.print(
            f"{order['order_id']}  {order['channel']}:{order['external_id']}  {order['status']}{reason}"
        )


@orders_app.command("show")
def orders_show(order_id: str, state_dir: StateDir = None) -> None:
    """One order and its timeline (status, time, cause, correlation)."""
    client, _ = _api(state_dir, "order")
    order = _show(client.get(f"/orders/{order_id}"))
    console.print(
        f"{order['channel']}:{order['external_id']}  {order['status']}  {order['total']} {order['currency']}"
    )
    for line in order["lines"]:
        console.print(f"  {line['quantity']} x {line['sku']} at {line['unit_price']}")
    for entry in order["timeline"]:
        reason = f" ({entry['reason_code']}: {entry['reason_message']})" if entry["reason_code"] else ""
        console.print(f"  v{entry['version']} {entry['at']} {entry['status']}{reason}")


@orders_app.command("release")
def orders_release(
    order_id: str, by: Annotated[str, typer.Option(help="Who releases it.")], state_dir: StateDir = None
) -> None:
    """Release a held order after review (a command on oms.order.commands.v1)."""
    client, _ = _api(state_dir, "order")
    console.print(_show(client.post(f"/orders/{order_id}/release", json={"requested_by": by})))


@orders_app.command("cancel")
def orders_cancel(
    order_id: str,
    by: Annotated[str, typer.Option(help="Who cancels it.")],
    reason: Annotated[str | None, typer.Option()] = None,
    state_dir: StateDir = None,
) -> None:
    """Cancel an order before dispatch (stock released, payment refunded or voided)."""
    client, _ = _api(state_dir, "order")
    console.print(
        _show(client.post(f"/orders/{order_id}/cancel", json={"requested_by": by, "reason": reason}))
    )


@stock_app.command("show")
def stock_show(sku: str, state_dir: StateDir = None) -> None:
    """On hand, reserved and available of a SKU, per warehouse."""
    client, _ = _api(state_dir, "inventory")
    level = _show(client.get(f"/stock/{sku}"))
    console.print(
        f"{sku}: on hand {level['on_hand']}, reserved {level['reserved']}, available {level['available']}"
    )
    for place in level["locations"]:
        console.print(
            f"  {place['location']:<10} {place['on_hand']:>8} {place['reserved']:>8} {place['available']:>8}"
        )


@stock_app.command("adjust")
def stock_adjust(
    sku: str,
    reason: Annotated[str, typer.Option(help="received, count, damaged, lost, found, returned")],
    delta: Annotated[int | None, typer.Option(help="Change on hand by this much.")] = None,
    set_to: Annotated[int | None, typer.Option("--set", help="Counted: on hand is this.")] = None,
    location: Annotated[str | None, typer.Option()] = None,
    state_dir: StateDir = None,
) -> None:
    """Adjust stock (published on oms.inventory.adjustments.v1, applied once)."""
    client, _ = _api(state_dir, "inventory")
    body = {"sku": sku, "reason": reason, "delta": delta, "set": set_to, "location": location}
    console.print(
        _show(client.post("/stock/adjustments", json={k: v for k, v in body.items() if v is not None}))
    )


def main() -> None:
    try:
        app()
    except StackError as error:
        console.print(f"[red]oms:[/] {error}")
        raise SystemExit(2) from error
