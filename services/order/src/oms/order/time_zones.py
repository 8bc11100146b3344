"""Channels that send times without an offset: their configured zone is applied before validation.

DESIGN.md §2: an inbound time without an offset is rejected unless the channel's configuration names
its time zone. Times that carry an offset are never changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

_TIME_FIELDS = ("placed_at", "updated_at")


def zone_applier(zones: dict[str, str]) -> Any:  # noqa: ANN401 -- a callable over untyped JSON
    """A `prepare` step for channel orders; unknown zone names fail at start-up, not per message."""
    resolved = {channel: ZoneInfo(name) for channel, name in zones.items()}

    def apply(document: Any) -> Any:  # noqa: ANN401 -- untyped JSON
        if not isinstance(document, dict):
            return document
        zone = resolved.get(str(document.get("channel")))
        if zone is None:
            return document
        localised = dict(document)
        for name in _TIME_FIELDS:
            value = document.get(name)
            if isinstance(value, str):
                localised[name] = _with_zone(value, zone)
        return localised

    return apply


def _with_zone(value: str, zone: ZoneInfo) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # not a time: validation says so with the field's name
    if moment.tzinfo is not None:
        return value
    return moment.replace(tzinfo=zone).isoformat()
