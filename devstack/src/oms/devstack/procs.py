"""Process and port helpers: free ports, detached processes, pid checks, polite then firm stops."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from oms.devstack.errors import StackError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As the servers bind: connections of a stopped server in TIME_WAIT do not make the port busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_accepts(port: int) -> bool:
    """Something listens on 127.0.0.1:port (a connect, so it never steals a port a server is opening)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pick_port(wanted: int | None) -> int:
    """The wanted port when it is set and free, otherwise any free port (0 also means any)."""
    if wanted and port_is_free(wanted):
        return wanted
    return free_port()


def pid_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0) but is gone for our purposes.
    with contextlib.suppress(OSError):
        status = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()[0]
        return status != "Z"
    return True


def process_cmdline(pid: int) -> str:
    """The command line of a process, or '' when it is gone (guards against reused pids)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


# Servers started by this process, kept so they are reaped (no zombie) and never garbage-collected
# while running (which would warn); a server outlives this process when it exits first.
_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn_detached(argv: Sequence[str], log_file: Path, env: dict[str, str] | None = None) -> int:
    """Start a long-running server in its own session so it outlives this command; returns its pid."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    _children[proc.pid] = proc
    return proc.pid


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.2, what: str) -> float:
    """Poll until the condition holds; returns the seconds it took, raises StackError on timeout."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise StackError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def terminate(pid: int, *, timeout: float) -> None:
    """SIGTERM the process group (a controlled shutdown); SIGKILL it if it is still there after timeout."""
    if not pid_is_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    try:
        wait_until(lambda: not pid_is_alive(pid), timeout=timeout, what=f"process {pid} to exit")
    except StackError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: not pid_is_alive(pid), timeout=10, what=f"process {pid} to die")
    _reap(pid)


def kill_now(pid: int) -> None:
    """SIGKILL the process group at once, as a crash or the OOM killer would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: not pid_is_alive(pid), timeout=10, what=f"process {pid} to die")
    _reap(pid)


def _reap(pid: int) -> None:
    """Collect the exit status when the server is our own child, so no zombie stays behind."""
    child = _children.pop(pid, None)
    if child is not None:
        child.wait(timeout=10)
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"
