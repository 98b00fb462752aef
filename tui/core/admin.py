"""The operator console's model, shared by the headless ``admin`` commands and the TUI tabs.

* :func:`resolve_admin_token`: the admin token from ``--admin-token-file`` (0600 only),
  ``MAILAGENTS_ADMIN_TOKEN`` or a prompt; never from argv.
* :data:`VIEWS`: one :class:`ViewSpec` per list (route, columns, id, filters, row actions).
* :data:`ACTIONS`: one :class:`ActionSpec` per operator action (inputs, confirmation text,
  whether it is destructive, the call it makes).

A new console tab or headless view is one ``ViewSpec`` entry; a new action one ``ActionSpec``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tui.api.admin import AdminClient, AdminPage
from tui.core.resources import Column
from tui.core.sanitize import clean
from tui.jsontypes import JsonObject

ENV_ADMIN_TOKEN = "MAILAGENTS_ADMIN_TOKEN"
"""Environment variable holding the admin token."""


class AdminTokenError(Exception):
    """No usable admin token (the message says why, never the token)."""


def read_admin_token_file(path: Path) -> str:
    """The token in ``path``, refused unless only its owner can read it (mode 0600)."""
    try:
        info = path.stat()
    except OSError as exc:
        raise AdminTokenError(f"cannot read {path}: {exc.strerror or exc}") from None
    if info.st_mode & 0o077:
        raise AdminTokenError(f"{path} is readable by others: chmod 600 it first")
    from tui.files import MAX_SMALL_FILE, FileRefused, read_bounded

    try:
        token = read_bounded(path, MAX_SMALL_FILE, what="token file").decode("utf-8").strip()
    except FileRefused as exc:  # a FIFO or device: refused at once, never read forever
        raise AdminTokenError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AdminTokenError(f"cannot read {path}: {exc}") from None
    if not token or any(c.isspace() for c in token):
        raise AdminTokenError(f"{path} holds no token")
    return token


def resolve_admin_token(
    token_file: Path | None,
    env: Mapping[str, str] | None = None,
    prompt: Callable[[], str] | None = None,
) -> str:
    """The admin token: the file when given, else the environment, else ``prompt()``."""
    if token_file is not None:
        return read_admin_token_file(token_file)
    env = os.environ if env is None else env
    token = (env.get(ENV_ADMIN_TOKEN) or "").strip()
    if token:
        return token
    if prompt is not None:
        token = prompt().strip()
        if token:
            return token
    raise AdminTokenError(
        f"no admin token: set {ENV_ADMIN_TOKEN}, pass --admin-token-file (mode 0600), "
        "or run in a terminal to type it"
    )


# -- actions ---------------------------------------------------------------------------------

Runner = Callable[[AdminClient, str, dict[str, str]], Awaitable[JsonObject]]


@dataclass(frozen=True)
class Input:
    """A value an action asks for."""

    name: str
    """Key in the inputs dict."""
    label: str
    """What the prompt says."""
    required: bool = True
    """False: an empty answer leaves the value out."""
    choices: tuple[str, ...] = ()
    """Allowed values (empty: free text)."""
    integer: bool = False
    """The answer must be a whole number >= 0."""
    number: bool = False
    """The answer must be a number >= 0."""

    def check(self, value: str) -> str | None:
        """Why ``value`` is not acceptable, or None."""
        value = value.strip()
        if not value:
            return f"{self.label} is required" if self.required else None
        if self.choices and value not in self.choices:
            return f"{self.label}: one of {', '.join(self.choices)}"
        if self.integer and not value.isdigit():
            return f"{self.label}: a whole number >= 0"
        if self.number:
            try:
                if float(value) < 0:
                    raise ValueError
            except ValueError:
                return f"{self.label}: a number >= 0"
        return None


@dataclass(frozen=True)
class ActionSpec:
    """One operator action on a row (or on nothing, for ``needs_row=False``)."""

    name: str
    """Stable id (``tenant.suspend``)."""
    label: str
    """Button / footer text."""
    key: str
    """Key in the console."""
    run: Runner
    """The call: ``run(client, target_id, inputs) -> answer``."""
    target_key: str = ""
    """Row field holding the id the action takes (default: the view's id field)."""
    inputs: tuple[Input, ...] = ()
    """Values asked for before confirming."""
    destructive: bool = True
    """Ask before running (and need ``--yes`` headless)."""
    needs_row: bool = True
    """False: the action takes no selected row (adding a policy)."""
    secret_field: str = ""
    """A field of the answer shown once and never kept (``secret``)."""

    def confirmation(self, target: str, inputs: Mapping[str, str]) -> str:
        """The question to confirm, naming the object and the values."""
        parts = [f"{self.label}"]
        if target:
            parts.append(clean(target, 80))
        shown = ", ".join(f"{k}={clean(v, 60)}" for k, v in inputs.items() if v)
        if shown:
            parts.append(f"({shown})")
        return " ".join(parts) + "?"


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None


def _on_target(call: Callable[[AdminClient, str], Awaitable[JsonObject]]) -> Runner:
    """An action that is one call taking the target's id and no inputs."""

    async def run(client: AdminClient, target: str, inputs: dict[str, str]) -> JsonObject:
        return await call(client, target)

    return run


_release = _on_target(AdminClient.release_mailbox)
_reparse = _on_target(AdminClient.reparse_message)
_replay_message = _on_target(AdminClient.replay_message)
_rotate = _on_target(AdminClient.rotate_webhook)
_issue = _on_target(AdminClient.issue_invoice)


def _status(status: str) -> Runner:
    async def run(client: AdminClient, target: str, inputs: dict[str, str]) -> JsonObject:
        return await client.set_tenant(target, status=status)

    return run


async def _quotas(client: AdminClient, target: str, inputs: dict[str, str]) -> JsonObject:
    return await client.set_tenant(
        target, qps=_int(inputs.get("qps")), mailbox_limit=_int(inputs.get("mailbox_limit"))
    )


async def _freeze(client: AdminClient, target: str, inputs: dict[str, str]) -> JsonObject:
    return await client.freeze_mailbox(target, inputs["reason"])


async def _replay_webhook(client: AdminClient, target: str, inputs: dict[str, str]) -> JsonObject:
    return await client.replay_webhook(target, inputs.get("from") or None, inputs.get("to") or None)


async def _add_policy(client: AdminClient, target: str, inputs: dict[str, str]) -> JsonObject:
    return await client.set_policy(inputs["policy_type"], inputs["value"], inputs["action"])


async def _remove_policy(client: AdminClient, target: str, inputs: dict[str, str]) -> JsonObject:
    policy_type, _, value = target.partition(":")
    return await client.set_policy(policy_type, value, "remove")


async def _settings(client: AdminClient, target: str, inputs: dict[str, str]) -> JsonObject:
    overage = inputs.get("overage_usdc")
    return await client.set_settings(
        overage_usdc=float(overage) if overage else None,
        allocate_hourly_limit=_int(inputs.get("allocate_hourly_limit")),
    )


POLICY_TYPES = ("domain_denylist", "tenant_rate_limit", "tenant_watch")
"""Risk policy types."""
TENANT_STATUSES = ("active", "suspended", "archived")
"""Tenant statuses."""

ACTIONS: dict[str, ActionSpec] = {
    a.name: a
    for a in (
        ActionSpec("tenant.suspend", "Suspend tenant", "u", _status("suspended")),
        ActionSpec("tenant.activate", "Activate tenant", "a", _status("active")),
        ActionSpec("tenant.archive", "Archive tenant", "A", _status("archived")),
        ActionSpec(
            "tenant.quotas",
            "Set quotas of",
            "e",
            _quotas,
            inputs=(
                Input("qps", "qps", required=False, integer=True),
                Input("mailbox_limit", "mailbox limit", required=False, integer=True),
            ),
        ),
        ActionSpec(
            "mailbox.freeze", "Freeze mailbox", "f", _freeze, inputs=(Input("reason", "reason"),)
        ),
        ActionSpec("mailbox.release", "Release mailbox", "x", _release),
        ActionSpec(
            "lease.release", "Release mailbox of lease", "x", _release, target_key="mailbox_id"
        ),
        ActionSpec("message.reparse", "Reparse message", "p", _reparse, destructive=False),
        ActionSpec(
            "message.replay", "Replay webhook of message", "w", _replay_message, destructive=False
        ),
        ActionSpec(
            "webhook.replay",
            "Replay webhook",
            "w",
            _replay_webhook,
            inputs=(
                Input("from", "from (ISO, empty: 1 h ago)", required=False),
                Input("to", "to (ISO, empty: now)", required=False),
            ),
            destructive=False,
        ),
        ActionSpec(
            "delivery.replay",
            "Replay webhook of delivery",
            "w",
            _replay_webhook,
            target_key="webhook_id",
            destructive=False,
        ),
        ActionSpec(
            "webhook.rotate", "Rotate secret of webhook", "r", _rotate, secret_field="secret"
        ),
        ActionSpec("invoice.issue", "Issue invoice", "i", _issue),
        ActionSpec(
            "policy.add",
            "Add or change risk policy",
            "a",
            _add_policy,
            inputs=(
                Input("policy_type", "type", choices=POLICY_TYPES),
                Input("value", "value (domain | tenant_id | tenant_id:qps)"),
                Input("action", "action", choices=("add", "update")),
            ),
            needs_row=False,
        ),
        ActionSpec("policy.remove", "Remove risk policy", "x", _remove_policy),
        ActionSpec(
            "settings.set",
            "Change runtime settings",
            "e",
            _settings,
            inputs=(
                Input("overage_usdc", "overage price (USDC)", required=False, number=True),
                Input(
                    "allocate_hourly_limit",
                    "free allocations per agent-hour",
                    required=False,
                    integer=True,
                ),
            ),
            needs_row=False,
        ),
    )
}
"""Every operator action by name."""


# -- views -----------------------------------------------------------------------------------

Loader = Callable[[AdminClient, int, int, dict[str, str]], Awaitable[AdminPage]]


@dataclass(frozen=True)
class ViewSpec:
    """One admin list: what to fetch, what to show, what can be done to a row."""

    name: str
    """Headless name (``risk-events``)."""
    title: str
    """Tab title."""
    path: str
    """Route under ``/v2/admin``."""
    columns: tuple[Column, ...]
    """Table columns."""
    id_key: str
    """The row field that identifies it (copied with ``c``)."""
    filters: tuple[str, ...] = ()
    """Query parameters the server filters on."""
    actions: tuple[str, ...] = ()
    """Names in :data:`ACTIONS`."""
    loader: Loader | None = field(default=None, compare=False)
    """A custom fetch (default: :meth:`AdminClient.page` of ``path``)."""
    tab: bool = True
    """A tab of the console (False: headless only, like ``metrics``, which the Overview shows)."""

    async def load(
        self, client: AdminClient, page: int, page_size: int, filters: dict[str, str]
    ) -> AdminPage:
        """One page of the view."""
        if self.loader is not None:
            return await self.loader(client, page, page_size, filters)
        allowed = {k: v for k, v in filters.items() if k in self.filters}
        return await client.page(self.path, page, page_size, allowed)

    def action_specs(self) -> list[ActionSpec]:
        """The view's actions."""
        return [ACTIONS[name] for name in self.actions]


async def _load_settings(
    client: AdminClient, page: int, page_size: int, filters: dict[str, str]
) -> AdminPage:
    data = await client.settings()
    rows = [{"setting": k, "value": v} for k, v in data.items()]
    return AdminPage(rows, 1, max(1, len(rows)), len(rows))


async def _load_metrics(
    client: AdminClient, page: int, page_size: int, filters: dict[str, str]
) -> AdminPage:
    data = await client.metrics()
    rows = [{"metric": k, "value": v} for k, v in data.items()]
    return AdminPage(rows, 1, max(1, len(rows)), len(rows))


C = Column
VIEWS: dict[str, ViewSpec] = {
    v.name: v
    for v in (
        ViewSpec(
            "metrics",
            "Metrics",
            "/overview/metrics",
            (C("metric", "metric", 28), C("value", "value", 10)),
            "metric",
            loader=_load_metrics,
            tab=False,
        ),
        ViewSpec(
            "tenants",
            "Tenants",
            "/tenants",
            (
                C("tenant_id", "tenant", 36),
                C("status", "status", 9),
                C("qps", "qps", 5),
                C("mailbox_limit", "mbx", 5),
                C("active_mailboxes", "leased", 6),
                C("monthly_usage", "usage", 6),
                C("name", "name", 20),
                C("updated_at", "updated", 24),
            ),
            "tenant_id",
            filters=("status",),
            actions=("tenant.suspend", "tenant.activate", "tenant.archive", "tenant.quotas"),
        ),
        ViewSpec(
            "mailboxes",
            "Mailboxes",
            "/mailboxes/accounts",
            (
                C("address", "address", 36),
                C("status", "status", 9),
                C("tenant_id", "tenant", 36),
                C("agent_id", "agent", 36),
                C("lease_expires_at", "lease expires", 24),
                C("freeze_reason", "freeze reason", 20),
                C("mailbox_id", "mailbox", 36),
            ),
            "mailbox_id",
            filters=("status", "tenant_id"),
            actions=("mailbox.freeze", "mailbox.release"),
        ),
        ViewSpec(
            "leases",
            "Leases",
            "/mailboxes/leases",
            (
                C("address", "address", 36),
                C("status", "status", 9),
                C("purpose", "purpose", 12),
                C("lease_expires_at", "expires", 24),
                C("tenant_id", "tenant", 36),
                C("agent_id", "agent", 36),
                C("lease_id", "lease", 36),
            ),
            "lease_id",
            filters=("status", "tenant_id"),
            actions=("lease.release",),
        ),
        ViewSpec(
            "messages",
            "Messages",
            "/messages",
            (
                C("received_at", "received", 24),
                C("sender_domain", "from", 20),
                C("subject", "subject", 30),
                C("parsed_status", "parsed", 7),
                C("otp_extracted", "otp", 5),
                C("tenant_id", "tenant", 36),
                C("message_id", "message", 36),
            ),
            "message_id",
            filters=("tenant_id", "mailbox_id", "parsed_status"),
            actions=("message.reparse", "message.replay"),
        ),
        ViewSpec(
            "sends",
            "Sends",
            "/send-attempts",
            (
                C("created_at", "created", 24),
                C("submission_status", "status", 10),
                C("to", "to", 28),
                C("subject", "subject", 24),
                C("tenant_id", "tenant", 36),
                C("send_attempt_id", "attempt", 36),
            ),
            "send_attempt_id",
            filters=("tenant_id", "mailbox_id", "submission_status"),
        ),
        ViewSpec(
            "webhooks",
            "Webhooks",
            "/webhooks",
            (
                C("target_url", "target", 36),
                C("status", "status", 8),
                C("last_status_code", "last", 5),
                C("last_delivery_at", "last delivery", 24),
                C("event_types", "events", 28),
                C("tenant_id", "tenant", 36),
                C("webhook_id", "webhook", 36),
            ),
            "webhook_id",
            filters=("tenant_id", "webhook_id"),
            actions=("webhook.replay", "webhook.rotate"),
        ),
        ViewSpec(
            "deliveries",
            "Deliveries",
            "/webhook-deliveries",
            (
                C("delivered_at", "delivered", 24),
                C("ok", "ok", 5),
                C("status_code", "code", 5),
                C("attempts", "tries", 5),
                C("error_message", "error", 24),
                C("webhook_id", "webhook", 36),
                C("delivery_id", "delivery", 36),
            ),
            "delivery_id",
            filters=("tenant_id", "webhook_id"),
            actions=("delivery.replay",),
        ),
        ViewSpec(
            "invoices",
            "Invoices",
            "/billing/invoices",
            (
                C("period", "period", 7),
                C("status", "status", 7),
                C("amount_usdc", "USDC", 10),
                C("tenant_id", "tenant", 36),
                C("settlement_tx_hash", "settlement", 20),
                C("invoice_id", "invoice", 36),
            ),
            "invoice_id",
            filters=("period",),
            actions=("invoice.issue",),
        ),
        ViewSpec(
            "risk-events",
            "Risk",
            "/risk/events",
            (
                C("occurred_at", "when", 24),
                C("severity", "severity", 8),
                C("type", "type", 22),
                C("tenant_id", "tenant", 36),
                C("detail", "detail", 40),
            ),
            "event_id",
            filters=("tenant_id",),
        ),
        ViewSpec(
            "risk-policies",
            "Policies",
            "/risk/policies",
            (
                C("policy_type", "type", 18),
                C("value", "value", 40),
                C("action", "action", 7),
                C("updated_at", "updated", 24),
            ),
            "policy_id",
            filters=("policy_type",),
            actions=("policy.add", "policy.remove"),
        ),
        ViewSpec(
            "audit",
            "Audit",
            "/audit/logs",
            (
                C("timestamp", "when", 24),
                C("action", "action", 22),
                C("resource_type", "resource", 12),
                C("resource_id", "id", 36),
                C("actor_did", "actor", 22),
                C("result", "result", 8),
                C("tenant_id", "tenant", 36),
            ),
            "log_id",
            filters=("request_id", "tenant_id", "actor_did", "action"),
        ),
        ViewSpec(
            "jobs",
            "Jobs",
            "/jobs",
            (
                C("createdAt", "created", 24),
                C("type", "type", 22),
                C("status", "status", 10),
                C("error", "error", 24),
                C("id", "job", 36),
            ),
            "id",
        ),
        ViewSpec(
            "settings",
            "Settings",
            "/settings/runtime",
            (C("setting", "setting", 30), C("value", "value", 12)),
            "setting",
            actions=("settings.set",),
            loader=_load_settings,
        ),
    )
}
"""Every headless view by name, in the console's tab order (tabs: those with ``tab``)."""


def cell(value: object, limit: int = 60) -> str:
    """A row value as one safe line (lists joined, None empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return clean(", ".join(str(v) for v in value), limit)
    return clean(value, limit)


def parse_filters(pairs: list[str] | tuple[str, ...], allowed: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` words into a filter dict; ValueError names a bad or unknown key."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"filter {pair!r}: write KEY=VALUE")
        if key not in allowed:
            known = ", ".join(allowed) or "none"
            raise ValueError(f"unknown filter {key!r} (this view filters on: {known})")
        out[key] = value.strip()
    return out
