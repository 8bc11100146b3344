"""The inbox: ids of handled events, recorded in the same transaction as their effects."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from oms.shared.db.types import Connection

# ON CONFLICT DO NOTHING waits for a concurrent transaction holding the same id and then skips it,
# so the same event delivered twice at once still has one effect.
_CLAIM_SQL = """
INSERT INTO inbox (consumer, event_id)
SELECT $1, unnest($2::text[])
ON CONFLICT DO NOTHING
RETURNING event_id
"""


async def claim(conn: Connection, consumer: str, event_ids: Sequence[str]) -> set[str]:
    """Record the ids; returns those not handled before (the rest are duplicates)."""
    if not event_ids:
        return set()
    rows = await conn.fetch(_CLAIM_SQL, consumer, list(event_ids))
    return {row["event_id"] for row in rows}


async def prune(conn: Connection, older_than_days: int) -> int:
    """Forget ids older than any redelivery can be (offsets are committed long before)."""
    result = await conn.execute(
        "DELETE FROM inbox WHERE handled_at < now() - make_interval(days => $1)", older_than_days
    )
    return int(result.split()[-1])
