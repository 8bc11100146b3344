"""A throwaway PostgreSQL cluster from Debian's packages, run as an unprivileged user on a port of our own."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from oms.devstack import procs, system
from oms.devstack.errors import StackError

if TYPE_CHECKING:
    from collections.abc import Callable

SUPERUSER = "oms"
DATABASE = "oms"
_SERVER_USER = "postgres"  # the server refuses to run as root; Debian's package creates this user

# Appended to postgresql.conf at initdb. Durability stays as in production (fsync and
# synchronous_commit on); these only size the server for five services and the benchmarks.
_CONF = """
# --- oms-stack ---
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
shared_buffers = 256MB
log_min_messages = warning
log_line_prefix = '%m [%p] %d '
"""


def find_bin_dir() -> Path | None:
    """The newest installed server's bin folder (/usr/lib/postgresql/<version>/bin), or OMS_STACK_PG_BIN."""
    if configured := os.environ.get("OMS_STACK_PG_BIN"):
        return Path(configured)
    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/postgres")]

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)

    return max(candidates, key=version, default=None)


def ensure_installed(say: Callable[[str], None] = print) -> Path:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        system.ensure_packages([("postgres", "postgresql")], present=lambda _: False, say=say)
        bin_dir = find_bin_dir()
    if bin_dir is None or not (bin_dir / "postgres").is_file():
        raise StackError("PostgreSQL's server is not installed (no /usr/lib/postgresql/*/bin/postgres)")
    return bin_dir


@dataclass(frozen=True)
class PostgresLayout:
    """The files of one cluster: its folder must be reachable by the user the server runs as."""

    home: Path

    @classmethod
    def of(cls, folder: Path) -> PostgresLayout:
        """The layout behind the stack's folder, which may be a link into /var/tmp (see prepare_home)."""
        return cls(folder.resolve())

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"


def _as_server_user(argv: list[str]) -> list[str]:
    return ["runuser", "-u", _SERVER_USER, "--", *argv] if system.is_root() else argv


def _run(argv: list[str], what: str) -> str:
    result = subprocess.run(_as_server_user(argv), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def prepare_home(wanted: Path) -> PostgresLayout:
    """The cluster's folder, reachable by the user the server runs as.

    When that user cannot reach `wanted` (a checkout under /root, say), the data lives below /var/tmp
    and `wanted` becomes a link to it.
    """
    if wanted.is_symlink() or wanted.is_dir():
        return PostgresLayout.of(wanted)
    wanted.parent.mkdir(parents=True, exist_ok=True)
    if not system.is_root():
        wanted.mkdir()
        return PostgresLayout.of(wanted)
    reachable = subprocess.run(
        _as_server_user(["test", "-x", str(wanted.parent)]), check=False, capture_output=True
    )
    home = wanted
    if reachable.returncode != 0:
        digest = hashlib.sha256(str(wanted).encode()).hexdigest()[:12]
        # A per-stack folder the server user can reach; /var/tmp outlives reboots like the state does.
        home = Path("/var/tmp") / f"oms-stack-postgres-{digest}"  # noqa: S108
        home.mkdir(mode=0o700, exist_ok=True)
        wanted.symlink_to(home)
    else:
        home.mkdir(mode=0o700)
    shutil.chown(home, _SERVER_USER, _SERVER_USER)
    return PostgresLayout.of(home)


def init_cluster(bin_dir: Path, layout: PostgresLayout) -> None:
    if (layout.data_dir / "PG_VERSION").is_file():
        return
    _run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(layout.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-instructions",
        ],
        "initdb",
    )
    conf = layout.data_dir / "postgresql.conf"
    with conf.open("a", encoding="utf-8") as fh:
        fh.write(_CONF)


def start(bin_dir: Path, layout: PostgresLayout, port: int) -> None:
    _run(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(layout.data_dir),
            "-l",
            str(layout.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port}",
            "start",
        ],
        f"starting PostgreSQL (log: {layout.log_file})",
    )


def running_pid(layout: PostgresLayout) -> int | None:
    """The postmaster's pid from its pid file when that process is alive."""
    try:
        pid = int((layout.data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if procs.pid_is_alive(pid) and "postgres" in procs.process_cmdline(pid) else None


def stop(bin_dir: Path, layout: PostgresLayout) -> None:
    if running_pid(layout) is None:
        return
    _run(
        [str(bin_dir / "pg_ctl"), "-D", str(layout.data_dir), "-m", "fast", "-w", "-t", "60", "stop"],
        "stopping PostgreSQL",
    )


def admin_url(port: int, database: str = DATABASE) -> str:
    return f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database}"


async def _ensure_database(port: int) -> None:
    conn = await asyncpg.connect(admin_url(port, "postgres"), timeout=10)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()


def ensure_database(port: int) -> None:
    asyncio.run(_ensure_database(port))


async def _answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        return bool(await conn.fetchval("SELECT 1"))
    finally:
        await conn.close()


def answers(url: str) -> bool:
    return asyncio.run(_answers(url))
