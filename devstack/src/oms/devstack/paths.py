"""Where the dev stack keeps its downloads (cache) and its running state (data, logs, pid files)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# devstack/src/oms/devstack/paths.py -> the workspace root is four folders up.
_WORKSPACE_ROOT = Path(__file__).resolve().parents[4]


def _default_base() -> Path:
    """The project checkout when run from one (editable install), else the user's state folder."""
    if (_WORKSPACE_ROOT / "pyproject.toml").is_file() and (_WORKSPACE_ROOT / "services").is_dir():
        return _WORKSPACE_ROOT
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "oms"


@dataclass(frozen=True)
class StackPaths:
    """Folders of one stack instance; two instances with different state folders never collide."""

    state_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(cls, state_dir: Path | None = None) -> StackPaths:
        base = _default_base()
        state = state_dir or Path(os.environ.get("OMS_STACK_DIR", base / ".stack"))
        cache = Path(os.environ.get("OMS_STACK_CACHE_DIR", base / ".cache"))
        return cls(state_dir=state.resolve(), cache_dir=cache.resolve())

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def postgres_dir(self) -> Path:
        return self.state_dir / "postgres"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "stack.json"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / ".lock"
