"""The console's Overview tab: six metrics, inbound mail per hour, a live event feed."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Log, Sparkline, Static

from tui.api.admin import AdminClient
from tui.api.errors import MailagentsError
from tui.core.admin import cell
from tui.jsontypes import JsonObject

REFRESH_SECONDS = 5.0
"""How often the overview asks again."""
METRICS = (
    ("active_tenants_24h", "Active tenants 24 h", ""),
    ("active_mailbox_leases", "Active leases", ""),
    ("inbound_messages_24h", "Inbound 24 h", ""),
    ("otp_extract_success_rate", "OTP success", "%"),
    ("webhook_success_rate", "Webhook success", "%"),
    ("payment_conversion_rate", "Payment conversion", "%"),
)
"""The six metric cards: field, label, unit."""
FEED_LINES = 500
"""Lines the event feed keeps."""


@dataclass
class Snapshot:
    """One refresh's data."""

    metrics: JsonObject
    """``overview/metrics``."""
    points: list[JsonObject]
    """``overview/timeseries`` (hourly)."""
    events: list[JsonObject]
    """Newest audit rows and risk events, oldest first, each with a ``_kind``."""


class OverviewLoaded(Message):
    """A refresh arrived (``error`` set on failure)."""

    def __init__(self, snapshot: Snapshot | None, error: str = "") -> None:
        super().__init__()
        self.snapshot = snapshot
        """The data, None on failure."""
        self.error = error
        """One line on failure."""

    def can_replace(self, message: Message) -> bool:
        """Only the newest refresh matters."""
        return isinstance(message, OverviewLoaded)


def event_line(event: JsonObject) -> str:
    """One feed line for an audit row or a risk event (untrusted values cleaned)."""
    if event.get("_kind") == "risk":
        return (
            f"{cell(event.get('occurred_at'), 24)}  RISK {cell(event.get('severity'), 8)} "
            f"{cell(event.get('type'), 30)} {cell(event.get('detail'), 60)}"
        )
    return (
        f"{cell(event.get('timestamp'), 24)}  {cell(event.get('action'), 28)} "
        f"{cell(event.get('resource_type'), 14)} {cell(event.get('resource_id'), 36)}"
    )


class Overview(Widget):
    """Metric cards, an inbound-per-hour sparkline and the live feed; refreshes on its own."""

    DEFAULT_CSS = """
    Overview { height: 1fr; }
    Overview > Grid { grid-size: 3 2; height: 5; grid-gutter: 1 1; padding: 0 1; }
    Overview .card { height: 2; padding: 0 1; background: $boost; }
    Overview .chart-title { height: 1; padding: 0 1; }
    Overview Sparkline { height: 3; margin: 0 1; }
    Overview Log { height: 1fr; border-top: solid $primary; }
    Overview .ov-status { height: 1; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, client: AdminClient) -> None:
        super().__init__(id="overview")
        self.client = client
        """The admin API."""
        self.metrics: JsonObject = {}
        """The last metrics."""
        self.points: list[JsonObject] = []
        """The last hourly points."""
        self.seen: set[str] = set()
        """Ids of events already in the feed."""
        self.refreshes = 0
        """Successful refreshes so far."""
        self.active = True
        """False while another tab is shown: the timer then skips its refresh."""

    def compose(self) -> ComposeResult:
        """Cards, chart, feed."""
        with Grid():
            for key, label, _unit in METRICS:
                yield Static(Text(label), classes="card", id=f"m-{key}")
        with Vertical():
            yield Static("Inbound mail per hour (12 h)", classes="chart-title", id="chart-title")
            yield Sparkline([0], id="inbound-chart")
        yield Static("", classes="ov-status")
        yield Log(max_lines=FEED_LINES, id="feed", auto_scroll=True)

    def on_mount(self) -> None:
        """First load, then every few seconds."""
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.tick)

    def reload(self) -> None:
        """Fetch everything again (the timer only while the tab is shown)."""
        self._fetch()

    def tick(self) -> None:
        """The timer: refresh while shown."""
        if self.active:
            self._fetch()

    @work(exclusive=True, group="overview", exit_on_error=False)
    async def _fetch(self) -> None:
        client = self.client
        try:
            metrics = await client.metrics()
            points = await client.timeseries("hour")
            audit = await client.page("/audit/logs", 1, 30)
            risk = await client.page("/risk/events", 1, 30)
        except MailagentsError as exc:
            self.post_message(OverviewLoaded(None, exc.user_message()))
            return
        events = [{**r, "_kind": "audit", "_at": r.get("timestamp") or ""} for r in audit.items]
        events += [{**r, "_kind": "risk", "_at": r.get("occurred_at") or ""} for r in risk.items]
        events.sort(key=lambda e: str(e["_at"]))
        self.post_message(OverviewLoaded(Snapshot(metrics, points, events)))

    @on(OverviewLoaded)
    def _loaded(self, event: OverviewLoaded) -> None:
        status = self.query_one(".ov-status", Static)
        if event.snapshot is None:
            status.update(Text(f"error: {event.error}", style="bold red"))
            return
        snap = event.snapshot
        self.refreshes += 1
        self.metrics, self.points = snap.metrics, snap.points
        for key, label, unit in METRICS:
            value = snap.metrics.get(key)
            card = Text(label + "\n", style="dim")
            card.append(f"{cell(value, 12)}{unit if value is not None else ''}", style="bold")
            self.query_one(f"#m-{key}", Static).update(card, layout=False)
        values = [float(p.get("value") or 0) for p in snap.points] or [0.0]
        self.query_one("#inbound-chart", Sparkline).data = values
        title = f"Inbound mail per hour (12 h): {int(sum(values))} total, peak {int(max(values))}"
        self.query_one("#chart-title", Static).update(Text(title))
        feed = self.query_one(Log)
        for item in snap.events:
            ident = f"{item['_kind']}:{item.get('log_id') or item.get('event_id')}"
            if ident in self.seen:
                continue
            self.seen.add(ident)
            feed.write_line(event_line(item))
        status.update(Text(f"live · every {REFRESH_SECONDS:g} s · {len(self.seen)} events seen"))
