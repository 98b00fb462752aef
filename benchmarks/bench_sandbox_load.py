"""Sandbox under load: 50 concurrent clients on ``GET /v2/messages`` and on allocate/release.

    .venv/bin/python benchmarks/bench_sandbox_load.py                 # local sandbox, 20 s each
    .venv/bin/python benchmarks/bench_sandbox_load.py --quick         # 8 clients, 1 s (CI)
    .venv/bin/python benchmarks/bench_sandbox_load.py --base-url http://127.0.0.1:8787 \\
        --base-url http://127.0.0.1:9797 --internal-token TOKEN      # compare two servers

Targets: every ``--base-url`` given, in order; without one, a local sandbox started for the run
in its own process (``serve_forever`` with a data dir: a SQLite file in WAL mode; no allocation
limit and no per-tenant request limit, ``--tenant-qps`` sets one); ``--local`` adds that local
sandbox to the URLs given. 402/429 answers are counted as "limited", apart from failures.
The reference of the ratios is a bare uvicorn app answering canned JSON on the same paths
(``--no-baseline`` skips it; the first URL is then the reference): the floor of this client on
this machine. With the clients on the same 2 cores, the load generator itself takes a share of
the CPU (its CPU time and the server's, in cores, are printed).

Clients are asyncio tasks, each with its own ``httpx.AsyncClient``, spread over
``clients / 10`` wallets (``--clients-per-wallet``; signed in with SIWE; a wallet's tenant has
5 mailboxes, so ten clients compete for five and some allocations answer 409):

* messages phase: each client loops on ``GET /v2/messages?mailbox_id=..&limit=20`` on a
  mailbox of its wallet that holds 20 messages (delivered through ``/internal/inbound/events``
  when the internal token is known: always for the local sandbox);
* leases phase: each client loops on allocate, then release of what it got. A 409 (no free
  mailbox in the tenant) is a right answer.

Reported per phase: requests/s, latency p50/p99, answers by kind, failures (5xx, dropped or
refused connections, timeouts, any other unexpected status: must be 0). The leases phase is
checked for integrity: no mailbox held by two leases at once (the interval from a 201's
arrival to its release being sent, per mailbox, never overlaps another), every allocation
released, no active lease left that no client saw (``GET /v2/mailboxes/leases`` per wallet),
and, for the local sandbox, the database holds exactly the leases the clients saw.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # sandbox_helpers

from _common import (
    ROOT,
    machine_line,
    ms,
    percentile,
    print_table,
    ratio,
    spread,
    verdict,
)

MAILBOXES_PER_WALLET = 5
MESSAGES = 20

BARE_SERVER = r"""
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

ITEM = {"message_id": "m", "sender": "a@b.example", "subject": "Your code is 123456",
        "received_at": "2026-01-01T00:00:00.000Z", "otp_code": "123456",
        "verification_link": None, "parsed_status": "parsed", "sender_domain": "b.example"}

async def messages(request):
    return JSONResponse({"items": [ITEM] * 20})

async def allocate(request):
    await request.body()
    return JSONResponse({"lease_id": "l", "mailbox_id": "m", "address": "a@b.example",
                         "lease_status": "active"}, status_code=201)

async def release(request):
    await request.body()
    return JSONResponse({"lease_id": "l", "lease_status": "released"})

app = Starlette(routes=[
    Route("/v2/messages", messages),
    Route("/v2/mailboxes/leases", allocate, methods=["POST"]),
    Route("/v2/mailboxes/leases/{id}/release", release, methods=["POST"]),
])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            access_log=False)
"""


# -- targets -------------------------------------------------------------------------------------


@dataclass
class Target:
    """A server to load."""

    name: str
    url: str
    internal_token: str | None = None
    db_path: Path | None = None
    proc: subprocess.Popen[str] | None = None
    data_dir: Path | None = None
    bare: bool = False
    admin_token: str | None = None

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) of the server process, when it runs here."""
        if self.proc is None:
            return None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


LOCAL_SERVER = r"""
import sys
from tui.sandbox.config import SandboxConfig
from tui.sandbox.runner import serve_forever

data, port, qps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = SandboxConfig.for_data_dir(
    data, port=port, smtp_port=None, allocate_hourly_limit=0, tenant_qps=qps
)
serve_forever(config, on_ready=lambda s: print("internal token:", config.internal_token,
                                               flush=True))
"""


def start_local_sandbox(tenant_qps: int) -> Target:
    """The sandbox in its own process (``serve_forever``, as ``mailagents-tui sandbox`` runs
    it), with a data dir (SQLite in WAL mode), no allocation limit and, unless asked,
    no per-tenant request limit (the CLI has no option for these two)."""
    data = Path(tempfile.mkdtemp(prefix="bench-load-"))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", LOCAL_SERVER, str(data), str(port), str(tenant_qps)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )  # fmt: skip
    token = None
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while token is None:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            raise RuntimeError("the sandbox did not start")
        found = re.search(r"internal token: (\S+)", line)
        if found:
            token = found.group(1)
        if time.monotonic() > deadline:
            raise RuntimeError("the sandbox did not print its internal token")
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/v2/meta/runtime")
    journal = sqlite3.connect(data / "sandbox.sqlite3").execute("PRAGMA journal_mode").fetchone()
    print(f"local sandbox {url}, data dir {data}, journal_mode={journal[0]}")
    name = "local sandbox (SQLite WAL)" + (f", tenant_qps={tenant_qps}" if tenant_qps else "")
    return Target(name, url, token, data / "sandbox.sqlite3", proc, data_dir=data)


def start_bare() -> Target:
    """A bare uvicorn + Starlette app with canned answers (the floor)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", BARE_SERVER, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/v2/messages")
    return Target("bare uvicorn (canned JSON)", url, proc=proc, bare=True)


# -- wallets ------------------------------------------------------------------------------------


@dataclass
class WalletSession:
    """A signed-in wallet (one tenant)."""

    token: str
    agent_id: str
    tenant_id: str
    reader_mailbox: str | None = None


def sign_in_wallets(target: Target, count: int, messages: int = MESSAGES) -> list[WalletSession]:
    """Sign in ``count`` fresh wallets; give each a mailbox with messages for the read phase."""
    if target.bare:
        return [WalletSession("t", "a", "t", "m") for _ in range(count)]
    import httpx
    from sandbox_helpers import sign_in

    from tui.limits import eth_account_class

    Account = eth_account_class()

    out = []
    with httpx.Client(timeout=30) as http:
        for _ in range(count):
            login = sign_in(target.url, Account.create(), client=http)
            ws = WalletSession(login["access_token"], login["agent_id"], login["tenant_id"])
            headers = {"authorization": f"Bearer {ws.token}"}
            r = http.post(
                f"{target.url}/v2/mailboxes/leases",
                json={"agent_id": ws.agent_id, "purpose": "bench-read", "ttl_hours": 1},
                headers=headers,
            )
            r.raise_for_status()
            lease = r.json()
            ws.reader_mailbox = lease["mailbox_id"]
            if target.internal_token:
                for n in range(messages):
                    http.post(
                        f"{target.url}/internal/inbound/events",
                        json={
                            "address": lease["address"],
                            "sender": "no-reply@acme.example",
                            "sender_domain": "acme.example",
                            "subject": f"Your code is {100000 + n}",
                            "text_excerpt": f"Your verification code is {100000 + n}.",
                        },
                        headers={"x-internal-token": target.internal_token},
                    ).raise_for_status()
            # free the mailbox again: the leases phase needs all five
            http.post(
                f"{target.url}/v2/mailboxes/leases/{lease['lease_id']}/release",
                json={},
                headers=headers,
            ).raise_for_status()
            out.append(ws)
    return out


# -- load ---------------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    """What the clients of one phase saw."""

    latencies: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    cpu: float = 0.0
    server_cpu: float | None = None
    # leases phase: (wallet, mailbox, lease_id, t_allocated, t_release_sent, release status)
    holds: list[tuple[int, str, str, float, float, int | None]] = field(default_factory=list)


def classify(status: int, expected: set[int]) -> str:
    if status in expected:
        return str(status)
    if status in (402, 429):
        return f"{status} (limited)"
    return f"unexpected {status}"


async def timed(http: Any, method: str, url: str, result: PhaseResult, **kw: Any) -> Any:
    """One request: latency and outcome recorded; None on a transport failure."""
    import httpx

    t = time.perf_counter()
    try:
        response = await http.request(method, url, **kw)
    except httpx.HTTPError as exc:
        result.failures[f"transport: {type(exc).__name__}"] += 1
        return None
    result.latencies.append(time.perf_counter() - t)
    return response


async def reader(target: Target, ws: WalletSession, stop: float, result: PhaseResult) -> None:
    import httpx

    params = {"mailbox_id": ws.reader_mailbox, "limit": "20"}
    headers = {"authorization": f"Bearer {ws.token}"}
    async with httpx.AsyncClient(base_url=target.url, timeout=30) as http:
        while time.perf_counter() < stop:
            r = await timed(http, "GET", "/v2/messages", result, params=params, headers=headers)
            if r is None:
                continue
            kind = classify(r.status_code, {200})
            result.kinds[kind] += 1
            if r.status_code >= 500 or kind.startswith("unexpected"):
                result.failures[kind] += 1


async def leaser(
    target: Target, wallet: int, ws: WalletSession, stop: float, result: PhaseResult
) -> None:
    import httpx

    headers = {"authorization": f"Bearer {ws.token}"}
    body = {"agent_id": ws.agent_id, "purpose": "bench-load", "ttl_hours": 1}
    async with httpx.AsyncClient(base_url=target.url, timeout=30) as http:
        while time.perf_counter() < stop:
            r = await timed(
                http, "POST", "/v2/mailboxes/leases", result, json=body, headers=headers
            )
            if r is None:
                continue
            kind = classify(r.status_code, {201, 409})
            result.kinds[f"allocate {kind}"] += 1
            if r.status_code >= 500 or kind.startswith("unexpected"):
                result.failures[f"allocate {kind}"] += 1
            if r.status_code != 201:
                if r.status_code == 409:
                    await asyncio.sleep(0)  # let a holder release
                continue
            lease = r.json()
            t_alloc = time.perf_counter()
            t_release = time.perf_counter()
            rr = await timed(
                http,
                "POST",
                f"/v2/mailboxes/leases/{lease['lease_id']}/release",
                result,
                json={},
                headers=headers,
            )
            status = None if rr is None else rr.status_code
            if rr is not None:
                rkind = classify(rr.status_code, {200, 202})
                result.kinds[f"release {rkind}"] += 1
                if rr.status_code >= 500 or rkind.startswith("unexpected"):
                    result.failures[f"release {rkind}"] += 1
            result.holds.append(
                (wallet, lease["mailbox_id"], lease["lease_id"], t_alloc, t_release, status)
            )


async def run_phase(
    target: Target, wallets: list[WalletSession], clients: int, seconds: float, phase: str
) -> PhaseResult:
    result = PhaseResult()
    server_cpu0 = target.cpu_seconds()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    stop = t0 + seconds
    tasks = []
    for i in range(clients):
        w = i % len(wallets)
        if phase == "messages":
            tasks.append(reader(target, wallets[w], stop, result))
        else:
            tasks.append(leaser(target, w, wallets[w], stop, result))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - t0
    result.cpu = time.process_time() - cpu0
    if server_cpu0 is not None:
        result.server_cpu = (target.cpu_seconds() or 0.0) - server_cpu0
    return result


def check_leases(target: Target, wallets: list[WalletSession], result: PhaseResult) -> dict:
    """Double allocations, unreleased or unknown leases."""
    import httpx

    by_mailbox: dict[tuple[int, str], list[tuple[float, float, str]]] = {}
    for wallet, mailbox, lease_id, t_alloc, t_release, _ in result.holds:
        by_mailbox.setdefault((wallet, mailbox), []).append((t_alloc, t_release, lease_id))
    overlaps = 0
    for spans in by_mailbox.values():
        spans.sort()
        for (_, end_a, _), (start_b, _, _) in itertools.pairwise(spans):
            if start_b < end_a:
                overlaps += 1
    unreleased = sum(1 for h in result.holds if h[5] not in (200, 202))
    seen = {h[2] for h in result.holds}
    left_active = 0
    unknown_active = 0
    if not target.bare:
        with httpx.Client(base_url=target.url, timeout=30) as http:
            for ws in wallets:
                r = http.get(
                    "/v2/mailboxes/leases", headers={"authorization": f"Bearer {ws.token}"}
                )
                r.raise_for_status()
                for item in r.json().get("items", []):
                    left_active += 1
                    if item["lease_id"] not in seen:
                        unknown_active += 1
    db_extra = db_missing = None
    if target.db_path is not None:
        tenants = {ws.tenant_id for ws in wallets}
        db = sqlite3.connect(f"file:{target.db_path}?mode=ro", uri=True)
        rows = db.execute("SELECT id, tenant_id, purpose FROM leases").fetchall()
        in_db = {r[0] for r in rows if r[1] in tenants and r[2] == "bench-load"}
        db_extra = len(in_db - seen)
        db_missing = len(seen - in_db)
        db.close()
    return {
        "allocations": len(result.holds),
        "double": overlaps,
        "unreleased": unreleased,
        "left_active": left_active,
        "unknown_active": unknown_active,
        "db_extra": db_extra,
        "db_missing": db_missing,
    }


# -- main ---------------------------------------------------------------------------------------


async def bench(args: argparse.Namespace, targets: list[Target], runs: int) -> int:
    clients = args.clients
    seconds = args.duration
    n_wallets = max(1, -(-clients // args.clients_per_wallet))
    rows_by_phase: dict[str, list[list[str]]] = {"messages": [], "leases": []}
    failures_total = 0
    integrity_rows = []
    ref: dict[str, float] = {}
    for target in targets:
        wallets = await asyncio.to_thread(sign_in_wallets, target, n_wallets)
        for phase in ("messages", "leases"):
            rates: list[float] = []
            merged = PhaseResult()
            cpu = server_cpu = 0.0
            for _ in range(runs):
                result = await run_phase(target, wallets, clients, seconds, phase)
                rates.append(len(result.latencies) / result.elapsed)
                merged.latencies += result.latencies
                merged.kinds += result.kinds
                merged.failures += result.failures
                merged.holds += result.holds
                cpu += result.cpu / result.elapsed / runs
                server_cpu += (result.server_cpu or 0.0) / result.elapsed / runs
                if phase == "leases" and not target.bare:
                    check = check_leases(target, wallets, result)
                    ok = (
                        check["double"] == 0
                        and check["unreleased"] == 0
                        and check["left_active"] == 0
                        and check["db_extra"] in (0, None)
                        and check["db_missing"] in (0, None)
                    )
                    integrity_rows.append(
                        [target.name, check["allocations"], check["double"],
                         check["unreleased"], check["left_active"], check["unknown_active"],
                         "-" if check["db_extra"] is None else
                         f"{check['db_extra']} extra / {check['db_missing']} missing",
                         verdict(ok)]
                    )  # fmt: skip
                    failures_total += 0 if ok else 1
            lat = merged.latencies or [float("nan")]
            lo, med, hi = spread(rates)
            fails = sum(merged.failures.values())
            failures_total += fails
            key = phase
            if key not in ref:
                ref[key] = med
            kinds = ", ".join(f"{k}: {v}" for k, v in sorted(merged.kinds.items()))
            rows_by_phase[phase].append(
                [target.name, f"{lo:.0f}", f"{med:.0f}", f"{hi:.0f}", ratio(med, ref[key]),
                 ms(percentile(lat, 50)), ms(percentile(lat, 99)), str(fails),
                 f"{cpu:.2f} / {server_cpu:.2f}" if target.proc else f"{cpu:.2f} / -",
                 kinds + ("; FAILURES " + dict(merged.failures).__repr__() if fails else "")]
            )  # fmt: skip
    headers = ["server", "req/s min", "median", "max", "ratio", "p50 ms", "p99 ms",
               "failures", "CPU client/server", "answers"]  # fmt: skip
    print_table(
        f"GET /v2/messages: {clients} clients, {seconds:g} s, {runs} run(s)",
        headers,
        rows_by_phase["messages"],
    )
    print_table(
        f"allocate + release: {clients} clients over {n_wallets} wallet(s) of"
        f" {MAILBOXES_PER_WALLET} mailboxes, {seconds:g} s, {runs} run(s)",
        headers,
        rows_by_phase["leases"],
    )
    if integrity_rows:
        print_table(
            "Lease integrity after the leases phase (each run)",
            ["server", "allocations seen", "double-allocated", "not released",
             "active left", "active unknown", "database vs seen", "verdict"],
            integrity_rows,
        )  # fmt: skip
    print(
        "failures (5xx, dropped connections, unexpected answers, integrity): "
        f"{failures_total} -> {verdict(failures_total == 0)}"
    )
    return 0


# -- wrk: one load tool for every server -----------------------------------------------------


def lift_qps(target: Target, ws: WalletSession) -> str:
    """Lift the tenant's request cap through the operator API (``quotas.qps`` 0), so the load
    measures the server, not the cap: ``PATCH /v2/admin/tenants/{id}`` (the sandbox) or
    ``/v1/admin/tenants/{id}``. Returns what happened."""
    import httpx

    if not target.admin_token:
        return "cap kept (no admin token)"
    headers = {"authorization": f"Bearer {target.admin_token}"}
    for prefix in ("/v2/admin", "/v1/admin"):
        r = httpx.patch(
            f"{target.url}{prefix}/tenants/{ws.tenant_id}",
            json={"quotas": {"qps": 0}},
            headers=headers,
            timeout=10,
        )
        if r.status_code == 200:
            return f"cap lifted ({prefix})"
    return f"cap kept (admin answered {r.status_code})"


_WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_P = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_WRK_TOTAL = re.compile(r"(\d+) requests in")


def run_wrk(url: str, token: str, connections: int, seconds: float) -> dict[str, float]:
    """One wrk run (2 threads): req/s, p50/p99 in seconds, non-2xx and socket errors."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
         "-H", f"authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    unit = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
    pct = {m.group(1): float(m.group(2)) * unit[m.group(3)] for m in _WRK_P.finditer(out)}
    sock = _WRK_SOCKET.search(out)
    non2xx = _WRK_NON2XX.search(out)
    rate = _WRK_RATE.search(out)
    total = _WRK_TOTAL.search(out)
    return {
        "rate": float(rate.group(1)) if rate else float("nan"),
        "p50": pct.get("50", float("nan")),
        "p99": pct.get("99", float("nan")),
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket": float(sum(int(x) for x in sock.groups())) if sock else 0.0,
        "total": float(total.group(1)) if total else 0.0,
    }


def bench_wrk(args: argparse.Namespace, targets: list[Target]) -> int:
    """``GET /v2/messages?limit=10`` on a mailbox of 100 messages, wrk, the targets alternated
    run by run (the first target is the reference of the ratio)."""
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)")
        return 2
    urls: dict[str, tuple[str, str, str]] = {}
    for target in targets:
        (ws,) = sign_in_wallets(target, 1, messages=args.wrk_messages)
        if target.bare:
            note = "-"
        elif target.proc is not None:
            note = f"--tenant-qps {args.tenant_qps}" + (" (none)" if not args.tenant_qps else "")
        else:
            note = lift_qps(target, ws)
        urls[target.name] = (
            f"{target.url}/v2/messages?mailbox_id={ws.reader_mailbox}&limit=10",
            ws.token,
            note,
        )
    results: dict[str, list[dict[str, float]]] = {t.name: [] for t in targets}
    for _ in range(args.runs):
        for target in targets:
            url, token, _note = urls[target.name]
            results[target.name].append(run_wrk(url, token, args.connections, args.duration))
            print(f"  {target.name}: {results[target.name][-1]['rate']:.0f} req/s")
    rows = []
    ref = None
    failures = 0
    for target in targets:
        runs = results[target.name]
        lo, med, hi = spread([r["rate"] for r in runs])
        ref = med if ref is None else ref
        bad = sum(r["non2xx"] + r["socket"] for r in runs)
        failures += int(bad) if not target.bare else 0
        rows.append(
            [target.name, f"{lo:.0f}", f"{med:.0f}", f"{hi:.0f}", ratio(med, ref),
             ms(sorted(r["p50"] for r in runs)[len(runs) // 2]),
             ms(sorted(r["p99"] for r in runs)[len(runs) // 2]),
             f"{int(sum(r['total'] for r in runs))}", f"{int(bad)}", urls[target.name][2]]
        )  # fmt: skip
    print_table(
        f"GET /v2/messages?limit=10 on {args.wrk_messages} messages: wrk, {args.connections}"
        f" connections, {args.duration:g} s, {args.runs} alternated run(s)",
        ["server", "req/s min", "median", "max", "ratio", "p50 ms", "p99 ms", "requests",
         "non-2xx + socket errors", "tenant cap"],
        rows,
    )  # fmt: skip
    print(f"failures (non-2xx, socket errors): {failures} -> {verdict(failures == 0)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="8 clients, 1 s (CI)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument(
        "--clients-per-wallet",
        type=int,
        default=10,
        help="clients sharing one wallet (its 5 mailboxes): more than 5 makes 409s happen",
    )
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--base-url", action="append", default=[], help="server to load (repeat)")
    ap.add_argument("--local", action="store_true", help="also start and load a local sandbox")
    ap.add_argument(
        "--internal-token",
        action="append",
        default=[],
        help="internal token of each --base-url in order (to deliver the messages read)",
    )
    ap.add_argument(
        "--tenant-qps",
        type=int,
        default=0,
        help="the local sandbox's free requests per tenant per second (default 0: no limit)",
    )
    ap.add_argument("--no-baseline", action="store_true", help="skip the bare uvicorn floor")
    ap.add_argument(
        "--admin-token",
        action="append",
        default=[],
        help="operator token of each --base-url in order (wrk mode lifts the tenant's cap)",
    )
    ap.add_argument(
        "--reference-url",
        default=None,
        help="the reference server (first target; with --wrk its ratio is the reference)",
    )
    ap.add_argument("--reference-internal-token", default=None)
    ap.add_argument("--reference-admin-token", default=None)
    ap.add_argument(
        "--wrk",
        action="store_true",
        help="wrk instead of the Python clients: GET /v2/messages?limit=10, 100 messages",
    )
    ap.add_argument("--connections", type=int, default=16, help="wrk connections")
    ap.add_argument("--wrk-messages", type=int, default=100, help="messages in the mailbox read")
    args = ap.parse_args(argv)
    if args.quick:
        args.clients, args.duration, args.runs = 8, 1.0, 1
    if args.reference_url:
        args.base_url.insert(0, args.reference_url)
        args.internal_token.insert(0, args.reference_internal_token or "")
        args.admin_token.insert(0, args.reference_admin_token or "")
        if args.wrk:
            args.no_baseline = True
    print(machine_line())
    targets: list[Target] = []
    try:
        if not args.no_baseline:
            targets.append(start_bare())
        for i, url in enumerate(args.base_url):
            token = args.internal_token[i] if i < len(args.internal_token) else None
            admin = args.admin_token[i] if i < len(args.admin_token) else None
            name = "reference " + url if args.reference_url and i == 0 else url
            targets.append(Target(name, url.rstrip("/"), token or None, admin_token=admin or None))
        if args.local or not args.base_url or args.reference_url:
            targets.append(start_local_sandbox(args.tenant_qps))
        if args.wrk:
            return bench_wrk(args, targets)
        return asyncio.run(bench(args, targets, args.runs))
    finally:
        for target in targets:
            target.stop()


if __name__ == "__main__":
    raise SystemExit(main())
