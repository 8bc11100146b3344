"""`oms`: run the demo, look after the local suite, and operate orders and stock from the command line."""

from __future__ import annotations

import asyncio
import json
import logging
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
    "OMS_INVENTORY_DEFAULT_LOCATION": "leeds",
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
        raise typer.BadParameter(f"no log for {part!r} under {paths.state_dir}; one of: {', '.join(files)}")
    argv = ["tail", "-n", "50", *(["-F"] if follow else []), *(str(p) for p in files[part] if p.exists())]
    subprocess.run(argv, check=False)  # noqa: S603 -- tail on our own log files


def _api(state_dir: Path | None, service: str) -> httpx.Client:
    """A client of one service's API with the suite's token (close it: use it in a `with`)."""
    state = suite.SuiteState.load(_paths(state_dir).state_dir)
    if service not in state.ports:
        raise typer.BadParameter(
            "the suite is not running here: start it with `oms stack start` or `oms demo`"
        )
    headers = {"Authorization": f"Bearer {state.api_token}"}
    return httpx.Client(base_url=state.url(service), headers=headers, timeout=30)


def _show(response: httpx.Response) -> Any:  # noqa: ANN401 -- JSON
    if response.status_code >= httpx.codes.BAD_REQUEST:
        detail = response.json().get("detail", response.text) if response.content else response.reason_phrase
        if isinstance(detail, list):  # validation errors: one line per field
            detail = "; ".join(
                f"{'.'.join(str(p) for p in d.get('loc', [])[1:])}: {d.get('msg')}" for d in detail
            )
        console.print(f"[red]error {response.status_code}:[/] {detail}")
        raise typer.Exit(1)
    return response.json()


def _order_id(reference: str) -> str:
    """An order id, or `channel:external_id` as channels and reports name orders."""
    from oms.shared.contracts.orders import order_id_for  # noqa: PLC0415 -- only here

    if ":" in reference:
        channel, external_id = reference.split(":", 1)
        return order_id_for(channel, external_id)
    return reference


@orders_app.command("list")
def orders_list(
    status: Annotated[str | None, typer.Option(help="RECEIVED, ON_HOLD, CONFIRMED, ...")] = None,
    channel: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many (newest first).")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first (for the next page).")] = 0,
    state_dir: StateDir = None,
) -> None:
    """Orders, newest first, with their hold or rejection reasons."""
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    params |= {
        key: value for key, value in {"status": (status or "").upper(), "channel": channel}.items() if value
    }
    with _api(state_dir, "order") as client:
        orders = _show(client.get("/orders", params=params))
    for order in orders:
        reason = f" ({order['reason_code']}: {order['reason_message']})" if order["reason_code"] else ""
        console.print(
            f"{order['order_id']}  {order['channel']}:{order['external_id']}  {order['status']}{reason}"
        )
    more = f"; the next page: --offset {offset + limit}" if len(orders) == limit else ""
    console.print(f"{len(orders)} order(s) shown{more}")


@orders_app.command("show")
def orders_show(
    order: Annotated[str, typer.Argument(help="An order id, or channel:external_id.")],
    state_dir: StateDir = None,
) -> None:
    """One order: its lines, timeline (status, time, reason), payment requests and reservation."""
    order_id = _order_id(order)
    with _api(state_dir, "order") as client:
        detail = _show(client.get(f"/orders/{order_id}"))
    console.print(f"{order_id}  {detail['channel']}:{detail['external_id']}  {detail['status']}")
    console.print(f"  total {detail['total']} {detail['currency']}, payment {detail['payment_status']}")
    # Placed orders have resolved lines; a held one shows the lines as the channel sent them.
    lines = detail["lines"] or [
        {"quantity": line["quantity"], "sku": line.get("sku") or f"(no SKU: {line.get('title')})", **line}
        for line in detail["order"]["lines"]
    ]
    for line in lines:
        console.print(f"  {line['quantity']} x {line['sku']} at {line['unit_price']}")
    for entry in detail["timeline"]:
        reason = f" ({entry['reason_code']}: {entry['reason_message']})" if entry["reason_code"] else ""
        console.print(f"  v{entry['version']} {entry['at']} {entry['status']}{reason}")
    for payment in detail["payment_requests"]:
        console.print(
            f"  payment: {payment['type']} {payment['amount']} {payment['currency']} ({payment['reason']})"
        )
    with _api(state_dir, "inventory") as inventory:
        reservation = inventory.get(f"/stock/reservations/{order_id}")
    if reservation.status_code == httpx.codes.OK:
        held = reservation.json()
        places = ", ".join(
            f"{line['quantity']} x {line['sku']} at {line['location']}" for line in held["lines"]
        )
        where = f" ({places})" if places and held["status"] == "active" else ""
        backorder = f", waiting for stock ({held['backorder']})" if held["backorder"] else ""
        console.print(f"  reservation: {held['status']}{where}{backorder}")


@orders_app.command("release")
def orders_release(
    order_id: str, by: Annotated[str, typer.Option(help="Who releases it.")], state_dir: StateDir = None
) -> None:
    """Release a held order after review (a command on oms.order.commands.v1)."""
    with _api(state_dir, "order") as client:
        accepted = _show(client.post(f"/orders/{_order_id(order_id)}/release", json={"requested_by": by}))
    console.print(
        f"release requested (command {accepted['command_id']}); `oms orders show` tells the outcome"
    )


@orders_app.command("cancel")
def orders_cancel(
    order_id: str,
    by: Annotated[str, typer.Option(help="Who cancels it.")],
    reason: Annotated[str | None, typer.Option()] = None,
    state_dir: StateDir = None,
) -> None:
    """Cancel an order before dispatch (stock released, payment refunded or voided)."""
    body = {"requested_by": by, "reason": reason}
    with _api(state_dir, "order") as client:
        accepted = _show(client.post(f"/orders/{_order_id(order_id)}/cancel", json=body))
    console.print(
        f"cancellation requested (command {accepted['command_id']}); `oms orders show` tells the outcome"
    )


@stock_app.command("show")
def stock_show(sku: str, state_dir: StateDir = None) -> None:
    """On hand, reserved and available of a SKU, per warehouse."""
    with _api(state_dir, "inventory") as client:
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
    location: Annotated[
        str | None, typer.Option(help="Warehouse; default: the inventory service's default location.")
    ] = None,
    state_dir: StateDir = None,
) -> None:
    """Adjust stock (published on oms.inventory.adjustments.v1, applied once)."""
    body = {"sku": sku, "reason": reason, "delta": delta, "set": set_to, "location": location}
    with _api(state_dir, "inventory") as client:
        answer = _show(
            client.post("/stock/adjustments", json={k: v for k, v in body.items() if v is not None})
        )
    console.print(answer)


dead_letters_app = typer.Typer(
    help="Dead letters and rejected messages: inspect, replay.", no_args_is_help=True
)
app.add_typer(dead_letters_app, name="dead-letters")


def _returned(state_dir: Path | None) -> list[dict[str, Any]]:
    from oms.cli.demo.feed import Feed  # noqa: PLC0415 -- Kafka only for these commands
    from oms.shared.contracts.topics import DEAD_LETTERS, INBOUND  # noqa: PLC0415

    state = suite.SuiteState.load(_paths(state_dir).state_dir)
    if not state.kafka_bootstrap:
        raise typer.BadParameter(
            "the suite is not running here: start it with `oms stack start` or `oms demo`"
        )

    async def read() -> list[dict[str, Any]]:
        feed = Feed(state.kafka_bootstrap, state)
        try:
            names = [DEAD_LETTERS.name, *(topic.rejected.name for topic in INBOUND if topic.rejected)]
            return [message for name in names for message in await feed.count_topic(name)]
        finally:
            await feed.close()

    return asyncio.run(read())


@dead_letters_app.command("list")
def dead_letters_list(state_dir: StateDir = None) -> None:
    """Every dead letter and rejected message: where it came from, why, and how it began."""
    messages = _returned(state_dir)
    for message in messages:
        reasons = "; ".join(f"{r['field']}: {r['message']}" for r in message["reasons"])
        attempts = (
            f", {message['attempts']} tries by {message['consumer_group']}"
            if message["type"] == "DeadLetter"
            else ""
        )
        origin = f"{message['source_topic']}:{message['partition']}:{message['offset']}"
        console.print(f"{message['type']} {origin}{attempts}")
        console.print(f"  {reasons}")
    console.print(f"{len(messages)} message(s)")


@dead_letters_app.command("replay")
def dead_letters_replay(
    source: Annotated[str, typer.Argument(help="topic:partition:offset, as `list` shows it.")],
    state_dir: StateDir = None,
) -> None:
    """Publish a dead letter's original bytes to its topic again, under a new event id (after a fix)."""
    import base64  # noqa: PLC0415 -- only here
    import uuid  # noqa: PLC0415

    from aiokafka import AIOKafkaProducer  # noqa: PLC0415

    topic, partition, offset = source.rsplit(":", 2)
    found = [
        m for m in _returned(state_dir)
        if (m["source_topic"], str(m["partition"]), str(m["offset"])) == (topic, partition, offset)
    ]  # fmt: skip
    if not found:
        raise typer.BadParameter(f"no dead letter or rejected message from {source}")
    message = found[-1]
    if message["source_topic"].startswith("webhook:"):
        raise typer.BadParameter(
            "a rejected webhook body has no topic to go back to: the platform must resend it"
        )
    headers = dict(message["original_headers"])
    if "ce_id" in headers:  # the consumer's inbox remembers the old id: the replay is a new event
        headers["ce_id"] = f"{headers['ce_id']}:replay:{uuid.uuid4().hex[:8]}"
    state = suite.SuiteState.load(_paths(state_dir).state_dir)

    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=state.kafka_bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            key = message["key"].encode() if message["key"] else None
            value = base64.b64decode(message["original_base64"])
            await producer.send_and_wait(
                topic, value, key=key, headers=[(k, v.encode()) for k, v in headers.items()]
            )
        finally:
            await producer.stop()

    asyncio.run(send())
    console.print(f"replayed {source} to {topic}")


def main() -> None:
    # aiokafka logs every retried send (a new topic's leader being elected) as a warning; the CLI's
    # own sends are acknowledged or fail loudly, so only errors are worth a person's attention.
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    try:
        app()
    except StackError as error:
        console.print(f"[red]oms:[/] {error}")
        raise SystemExit(2) from error
