"""Service processes for tests: start `python -m oms.<service>` with its environment, probe its HTTP side."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oms.devstack.procs import free_port

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class ServiceProcess:
    service: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, service: str, log_dir: Path, **environment: str) -> ServiceProcess:
        port = free_port()
        prefix = f"OMS_{service.upper()}_"
        env = {
            **os.environ,
            **environment,
            f"{prefix}HTTP_PORT": str(port),
            f"{prefix}HTTP_HOST": "127.0.0.1",
        }
        log = log_dir / f"{service}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 -- this interpreter running our own module
                [sys.executable, "-m", f"oms.{service}"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        return cls(service, port, process, log)

    def get(self, path: str) -> tuple[int, dict[str, object]]:
        """Status and JSON body of a GET; (0, {}) when nothing answers yet."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=3) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            return 0, {}

    async def wait_for(self, path: str, status: int, seconds: float) -> float:
        """Poll until the path answers with `status`; returns the seconds it took."""
        started = time.monotonic()
        async with asyncio.timeout(seconds):
            while (await asyncio.to_thread(self.get, path))[0] != status:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"{self.service} exited with {self.process.returncode}:\n{self.output()}"
                    )
                await asyncio.sleep(0.1)
        return time.monotonic() - started

    async def terminate(self, seconds: float) -> tuple[int, float]:
        """SIGTERM; returns the exit code and how long the process took to exit."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(self.process.wait, seconds)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]
