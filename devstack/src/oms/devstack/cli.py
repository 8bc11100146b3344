"""`oms-stack`: start, inspect and stop the local Kafka broker and PostgreSQL cluster by hand."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from oms.devstack.errors import StackError
from oms.devstack.paths import StackPaths
from oms.devstack.stack import LocalStack

app = typer.Typer(
    help="Local Apache Kafka (KRaft) and PostgreSQL for the OMS suite, without Docker.",
    no_args_is_help=True,
    add_completion=False,
)

StateDir = Annotated[
    Path | None,
    typer.Option("--state-dir", envvar="OMS_STACK_DIR", help="Folder for data, logs and pid files."),
]
Only = Annotated[str | None, typer.Option("--only", help="Act on one part only: 'kafka' or 'postgres'.")]


def _stack(state_dir: Path | None) -> LocalStack:
    return LocalStack(StackPaths.from_env(state_dir), say=lambda line: typer.echo(line, err=True))


def _parts(only: str | None) -> dict[str, bool]:
    if only not in (None, "kafka", "postgres"):
        raise typer.BadParameter("--only takes 'kafka' or 'postgres'")
    return {"with_kafka": only in (None, "kafka"), "with_postgres": only in (None, "postgres")}


@app.command()
def install(only: Only = None) -> None:
    """Install what the stack needs (Debian packages, Kafka's jars); nothing is started."""
    if os.environ.get("OMS_KAFKA_BOOTSTRAP") and os.environ.get("OMS_DATABASE_URL"):
        typer.echo("OMS_KAFKA_BOOTSTRAP and OMS_DATABASE_URL are set: nothing local to install", err=True)
        return
    _stack(None).install(**_parts(only))


@app.command()
def start(state_dir: StateDir = None, only: Only = None) -> None:
    """Start Kafka and PostgreSQL (already running ones are left alone) and wait until they answer."""
    stack = _stack(state_dir)
    stack.start(**_parts(only))
    _print_status(stack)


@app.command()
def status(state_dir: StateDir = None) -> None:
    """Show whether Kafka and PostgreSQL answer; exits 1 when either does not."""
    if not _print_status(_stack(state_dir)):
        raise typer.Exit(1)


@app.command()
def stop(state_dir: StateDir = None, only: Only = None) -> None:
    """Stop Kafka (controlled shutdown) and PostgreSQL (fast shutdown); data is kept."""
    _stack(state_dir).stop(**_parts(only))


@app.command()
def destroy(state_dir: StateDir = None) -> None:
    """Stop everything and delete its data and logs (the downloaded jars stay cached)."""
    stack = _stack(state_dir)
    stack.destroy()
    typer.echo(f"deleted {stack.paths.state_dir}", err=True)


@app.command()
def env(state_dir: StateDir = None) -> None:
    """Print shell exports that point the services and tests at this stack: eval "$(oms-stack env)"."""
    parts = _stack(state_dir).status()
    if not all(part.running for part in parts):
        down = ", ".join(part.name for part in parts if not part.running)
        typer.echo(f"oms-stack: {down} not running; start the stack first (oms-stack start)", err=True)
        raise typer.Exit(1)
    for part in parts:
        variable = "OMS_KAFKA_BOOTSTRAP" if part.name == "kafka" else "OMS_DATABASE_URL"
        typer.echo(f"export {variable}={part.endpoint}")


@app.command()
def logs(
    part: Annotated[str, typer.Argument(help="'kafka' or 'postgres'")],
    state_dir: StateDir = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
) -> None:
    """Print the last lines of Kafka's or PostgreSQL's log."""
    paths = StackPaths.from_env(state_dir)
    files = {
        "kafka": [paths.kafka_dir / "logs" / "kafka.out", paths.kafka_dir / "logs" / "server.log"],
        "postgres": [paths.postgres_dir / "postgres.log"],
    }
    if part not in files:
        raise typer.BadParameter("logs takes 'kafka' or 'postgres'")
    existing = [str(path) for path in files[part] if path.exists()]
    if not existing:
        raise typer.BadParameter(f"no {part} log yet under {paths.state_dir}")
    subprocess.run(["tail", "-n", "50", *(["-F"] if follow else []), *existing], check=False)


def _print_status(stack: LocalStack) -> bool:
    parts = stack.status()
    for part in parts:
        mark = "healthy" if part.running else "DOWN"
        typer.echo(f"{part.name:<9} {mark:<8} {part.endpoint}  ({part.detail})")
    return all(part.running for part in parts)


def main() -> None:
    try:
        app()
    except StackError as error:
        typer.echo(f"oms-stack: {error}", err=True)
        sys.exit(2)
