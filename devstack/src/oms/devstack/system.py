"""Debian packages the local stack needs (a JDK, Maven, PostgreSQL), installed when missing and allowed."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import TYPE_CHECKING

from oms.devstack.errors import StackError

if TYPE_CHECKING:
    from collections.abc import Callable

# command that must exist -> the Debian package that provides it
JAVA = ("java", "openjdk-17-jre-headless")
MAVEN = ("mvn", "maven")

_apt_updated = False


def is_root() -> bool:
    return os.geteuid() == 0


def ensure_packages(
    wanted: list[tuple[str, str]],
    present: Callable[[str], bool] | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Install the Debian packages whose command is missing (as root), or explain how to."""
    present = present or (lambda command: shutil.which(command) is not None)
    missing = sorted({package for command, package in wanted if not present(command)})
    if not missing:
        return
    if not is_root() or shutil.which("apt-get") is None:
        raise StackError(
            f"missing system packages: {' '.join(missing)}. Install them "
            f"(sudo apt-get install -y {' '.join(missing)}) or point OMS_KAFKA_BOOTSTRAP and "
            "OMS_DATABASE_URL at an existing Kafka and PostgreSQL."
        )
    say(f"installing system packages: {' '.join(missing)} (apt-get, once)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    global _apt_updated  # noqa: PLW0603 -- one `apt-get update` per process is enough
    if not _apt_updated:
        _run(["apt-get", "update", "-q"], env)
        _apt_updated = True
    _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env)


def _run(argv: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
