"""Regression test over the message corpus: every message must give its expected result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.extract import analyze_message

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
EXPECTED: dict[str, dict[str, str | None]] = json.loads(
    (CORPUS / "expected.json").read_text(encoding="utf-8")
)


def test_corpus_is_big_and_varied() -> None:
    assert len(EXPECTED) >= 60
    empty = [n for n, e in EXPECTED.items() if e["otp"] is None and e["link"] is None]
    assert len(empty) >= 15
    assert sum(1 for e in EXPECTED.values() if e["otp"]) >= 30
    assert sum(1 for e in EXPECTED.values() if e["link"]) >= 15
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name: str) -> None:
    expected = EXPECTED[name]
    ex = analyze_message((CORPUS / name).read_bytes())
    assert (ex.otp, ex.link) == (expected["otp"], expected["link"]), (
        f"{name}: otp candidates {ex.otp_candidates[:3]}, link candidates {ex.link_candidates[:3]}"
    )


HOLDOUT = CORPUS / "holdout"
HOLDOUT_EXPECTED: dict[str, dict[str, str | None]] = json.loads(
    (HOLDOUT / "expected.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("name", sorted(HOLDOUT_EXPECTED))
def test_holdout_message(name: str) -> None:
    """Messages written after tuning and scored once before joining the regression suite."""
    expected = HOLDOUT_EXPECTED[name]
    ex = analyze_message((HOLDOUT / name).read_bytes())
    assert (ex.otp, ex.link) == (expected["otp"], expected["link"])
