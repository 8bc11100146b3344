"""Physical topic and group names: the contract names, behind a prefix that only tests set (isolation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from oms.shared.contracts.topics import Topic


@dataclass(frozen=True)
class TopicNames:
    prefix: str = ""

    def physical(self, topic: Topic) -> str:
        return f"{self.prefix}{topic.name}"

    def group(self, service: str) -> str:
        """The service's consumer group (and inbox name): `oms-<service>`, behind the same prefix."""
        return f"{self.prefix}oms-{service}"
