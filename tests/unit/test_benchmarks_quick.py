"""Every benchmark runs once at a tiny size (``--quick``) so the scripts keep working.

No timing assertions: a script must exit 0 and print its table(s). Budgets are read from the
printed tables by people, on a quiet machine (see benchmarks/README.md).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"

CASES = {
    "bench_extract.py": ["messages/s (CPU)", "200 KB newsletter"],
    "bench_first_frame.py": [
        "| bare Textual app (one Label)",
        "| mailagents-tui login screen",
        "| mailagents-tui --sandbox: login screen",
    ],
    "bench_mail_cache.py": ["| now  | 500", "rows written"],
    "bench_big_mail.py": ["Opening an inbox over IMAP", "(8 MB HTML, 5 MB file)", "| now"],
    "bench_imap_list.py": ["enter to every mail listed over IMAP", "| now  | 300 of 300"],
    "bench_keypress.py": ["| lease list (5 leases)", "| inbox (100 messages)"],
    "bench_big_inbox.py": [
        "| inbox given all messages (InboxUpdated)",
        "| mailagents-tui inbox, 300 messages",
        "| bursts <= one page between polls",
    ],
    "bench_code_latency.py": ["| send -> code on the inbox screen", "| once idle"],
    "bench_poll_calls.py": ["| API only (defaults)", "| IMAP live (API confirms)"],
    "bench_sandbox_load.py": ["| local sandbox (SQLite WAL)", "Lease integrity"],
    "bench_sandbox_smtp.py": ["| idle (baseline)", "MB mail, 1 recipient", "recipients"],
    "bench_admin_audit.py": ["`]` next page", "| longest event-loop stall"],
}


@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_runs_quick(script: str) -> None:
    if script == "bench_first_frame.py" and shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    if script in ("bench_big_mail.py", "bench_imap_list.py"):
        from tui.sandbox.mail.dovecot import find_dovecot

        if find_dovecot() is None:
            pytest.skip("Dovecot is not installed")
    result = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    for expected in CASES[script]:
        assert expected in result.stdout, result.stdout[-3000:]
