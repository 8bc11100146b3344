"""The demo's report: what happened to every order, the real ones, compensations, speed; text and HTML."""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Report:
    orders_sent: int = 0
    messages_sent: int = 0
    by_status: list[dict[str, Any]] = field(default_factory=list)
    real_orders: list[dict[str, Any]] = field(default_factory=list)
    payment_requests: dict[str, int] = field(default_factory=dict)
    reorder_suggestions: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    dead_letters: int = 0
    oversold_units: int = 0
    backorders_filled: int = 0
    lowest_available: int = 0
    confirmation: dict[str, Any] = field(default_factory=dict)
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def accounted(self) -> int:
        return sum(row["orders"] for row in self.by_status)

    @property
    def unexplained(self) -> int:
        """Orders still in a passing state (RECEIVED, AWAITING_STOCK) when the run ended."""
        return sum(row["orders"] for row in self.by_status if row["status"] in ("RECEIVED", "AWAITING_STOCK"))

    @property
    def throughput(self) -> float:
        c = self.confirmation
        if not c.get("confirmed") or not c.get("first_received") or not c.get("last_confirmed"):
            return 0.0
        span = (c["last_confirmed"] - c["first_received"]).total_seconds()
        return float(c["confirmed"]) / span if span > 0 else 0.0

    def text(self) -> str:
        lines = ["", "OMS demo report", "=" * 60]
        lines.append(
            f"orders sent: {self.orders_sent} ({self.messages_sent} messages, duplicates and resends included)"
        )
        lines.append(
            f"orders in the order service: {self.accounted}; not in a final or explained state: {self.unexplained}"
        )
        lines.append("")
        lines.append("orders by status and reason")
        for row in self.by_status:
            reason = f" ({row['reason_code']})" if row["reason_code"] else ""
            lines.append(f"  {row['status'] + reason:<40} {row['orders']:>7}")
        lines.append("")
        lines.append("the real channel orders")
        lines.extend(
            f"  {real['channel']}:{real['external_id']} -> {real['status']} {real.get('why', '')}"
            f"\n      (oms orders show {real['channel']}:{real['external_id']})"
            for real in self.real_orders
        )
        lines.append("")
        lines.append("compensations and side effects")
        for kind, count in sorted(self.payment_requests.items()):
            lines.append(f"  {kind:<38} {count:>7}")
        lines.append(f"  {'backorders filled by the stock receipt':<38} {self.backorders_filled:>7}")
        lines.append(f"  {'reorder suggestions':<38} {len(self.reorder_suggestions):>7}")
        lines.append(f"  {'rejected messages (bad input)':<38} {self.rejected:>7}")
        lines.append(f"  {'dead letters':<38} {self.dead_letters:>7}")
        lines.append(
            f"  {'oversold units':<38} {self.oversold_units:>7}   (lowest available seen: {self.lowest_available})"
        )
        lines.append("")
        c = self.confirmation
        lines.append(
            f"placed -> confirmed: {c.get('confirmed', 0)} orders reached CONFIRMED (some were cancelled or counted "
            f"out later), {self.throughput:.0f} orders/s over the run, "
            f"latency p50 {_ms(c.get('p50'))}, p95 {_ms(c.get('p95'))}, p99 {_ms(c.get('p99'))} "
            f"on {self.cores} cores (a proper benchmark comes later)"
        )
        lines.append(
            "timings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.timings.items())
        )
        return "\n".join(lines)

    def html(self) -> str:
        biggest = max((row["orders"] for row in self.by_status), default=1)
        bars = "".join(
            f"<tr><td>{html.escape(row['status'])}</td><td>{html.escape(row['reason_code'] or '')}</td>"
            f'<td class="n">{row["orders"]}</td><td><svg width="420" height="16"><rect width="{420 * row["orders"] / biggest:.0f}" '
            f'height="16" fill="#4c78a8"/></svg></td></tr>'
            for row in self.by_status
        )
        real = "".join(
            f"<li><b>{html.escape(r['channel'])}:{html.escape(r['external_id'])}</b> → {html.escape(r['status'])} "
            f"{html.escape(r.get('why', ''))}</li>"
            for r in self.real_orders
        )
        effects = "".join(
            f"<tr><td>{html.escape(name)}</td><td class='n'>{value}</td></tr>"
            for name, value in [
                *sorted(self.payment_requests.items()),
                ("backorders filled by the stock receipt", self.backorders_filled),
                ("reorder suggestions", len(self.reorder_suggestions)),
                ("rejected messages", self.rejected),
                ("dead letters", self.dead_letters),
                ("oversold units", self.oversold_units),
            ]
        )
        c = self.confirmation
        return f"""<!doctype html><html><head><meta charset="utf-8"><title>OMS demo report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}} td{{padding:2px 8px}} .n{{text-align:right}}</style></head>
<body><h1>OMS demo report</h1>
<p>{self.orders_sent} orders sent ({self.messages_sent} messages); {self.accounted} in the order service;
{self.unexplained} not in a final or explained state.</p>
<h2>Orders by status and reason</h2><table>{bars}</table>
<h2>The real channel orders</h2><ul>{real}</ul>
<h2>Compensations and side effects</h2><table>{effects}</table>
<h2>Speed</h2><p>{c.get("confirmed", 0)} orders reached CONFIRMED (some were cancelled later) at {self.throughput:.0f} orders/s; placed → confirmed
p50 {_ms(c.get("p50"))}, p95 {_ms(c.get("p95"))}, p99 {_ms(c.get("p99"))} on {self.cores} cores.</p>
</body></html>"""


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f} ms"
