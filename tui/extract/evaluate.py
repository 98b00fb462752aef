"""Precision and recall of the extractor against the service-style baseline on a corpus.

``python -m tui.extract.evaluate [CORPUS_DIR] [--markdown] [--failures]`` reads
``CORPUS_DIR/expected.json`` (file name -> {"otp", "link"}) and the ``.eml`` files next to
it (default: ``tests/corpus``). The scoring functions themselves are pure.

Per field (OTP, link) and per message: a prediction equal to the expectation is a true
positive; a prediction that differs is a false positive (and also a false negative when a
value was expected); no prediction where one was expected is a false negative.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tui.extract.baseline import server_style_extract
from tui.extract.core import analyze_message, analyze_parts
from tui.extract.decode import decode_message
from tui.extract.guess import judge_server_guess

Predictor = Callable[[bytes], tuple[str | None, str | None]]


@dataclass
class Score:
    """Counts for one field; precision and recall derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expected: str | None, got: str | None) -> bool:
        """Count one message; True when the prediction was right."""
        if got is not None and got == expected:
            self.tp += 1
            return True
        if got is not None:
            self.fp += 1
        if expected is not None:
            self.fn += 1
        if got is None and expected is None:
            self.tn += 1
            return True
        return False

    @property
    def precision(self) -> float:
        """Share of predictions that were right (1.0 when nothing was predicted)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of expected values that were found."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def ours(raw: bytes) -> tuple[str | None, str | None]:
    """The extractor under test."""
    ex = analyze_message(raw)
    return ex.otp, ex.link


def server_decoded(raw: bytes) -> tuple[str | None, str | None]:
    """The service's rules given the best possible input: decoded text and HTML."""
    dec = decode_message(raw)
    return server_style_extract(
        dec.subject, "\n".join(dec.plain) or None, "\n".join(dec.html) or None
    )


def _raw_body(raw: bytes) -> str:
    sep = raw.find(b"\n\n")
    body = raw[sep + 2 :] if sep >= 0 else b""
    return body.decode("utf-8", "replace")[:4000]


def server_production(raw: bytes) -> tuple[str | None, str | None]:
    """The service's rules as fed in production: raw undecoded body (4000 chars), no HTML."""
    dec = decode_message(raw)
    return server_style_extract(dec.subject, _raw_body(raw) or None, None)


def api_only(raw: bytes) -> tuple[str | None, str | None]:
    """The client without a body (no IMAP): what the API gives, read as the inbox reads it.

    The code is our extractor's on the subject, else the server's guess (production input)
    unless :func:`judge_server_guess` finds it doubtful; the link is the server's.
    """
    dec = decode_message(raw)
    guess, link = server_production(raw)
    subject_code = analyze_parts(subject=dec.subject).otp if dec.subject else None
    if subject_code:
        return subject_code, link
    if guess and not judge_server_guess(guess, subject=dec.subject, sender=dec.sender).doubtful:
        return guess, link
    return None, link


PREDICTORS: dict[str, Predictor] = {
    "mailagents-tui extractor (with the body, IMAP)": ours,
    "mailagents-tui without a body (API only: subject + judged server guess)": api_only,
    "service rules, decoded input": server_decoded,
    "service rules, production input (what the API returns)": server_production,
}


def evaluate(
    cases: Iterable[tuple[str, bytes, dict[str, str | None]]], predictor: Predictor
) -> tuple[Score, Score, list[str]]:
    """Score ``predictor`` on ``(name, raw, expected)`` cases: (otp, link, failure lines)."""
    otp, link = Score(), Score()
    failures: list[str] = []
    for name, raw, exp in cases:
        got_otp, got_link = predictor(raw)
        if not otp.add(exp.get("otp"), got_otp):
            failures.append(f"{name}: otp expected {exp.get('otp')!r}, got {got_otp!r}")
        if not link.add(exp.get("link"), got_link):
            failures.append(f"{name}: link expected {exp.get('link')!r}, got {got_link!r}")
    return otp, link, failures


def markdown_table(results: dict[str, tuple[Score, Score]], total: int) -> str:
    """The precision/recall table for docs/extraction.md."""
    lines = [
        f"Corpus: {total} messages.",
        "",
        "| extractor | OTP precision | OTP recall | link precision | link recall |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]

    def cell(hits: int, total: int) -> str:
        return f"{hits / total:.1%} ({hits}/{total})" if total else "n/a (0/0)"

    for name, (o, li) in results.items():
        lines.append(
            f"| {name} | {cell(o.tp, o.tp + o.fp)} | {cell(o.tp, o.tp + o.fn)}"
            f" | {cell(li.tp, li.tp + li.fp)} | {cell(li.tp, li.tp + li.fn)} |"
        )
    return "\n".join(lines)


def load_corpus(directory: Path) -> list[tuple[str, bytes, dict[str, str | None]]]:
    """Read ``expected.json`` and the messages it names."""
    expected = json.loads((directory / "expected.json").read_text(encoding="utf-8"))
    return [(name, (directory / name).read_bytes(), exp) for name, exp in expected.items()]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints the table (and failures with ``--failures``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    show_failures = "--failures" in args
    paths = [a for a in args if not a.startswith("--")]
    directory = Path(paths[0]) if paths else Path("tests/corpus")
    cases = load_corpus(directory)
    results: dict[str, tuple[Score, Score]] = {}
    for name, predictor in PREDICTORS.items():
        o, li, failures = evaluate(cases, predictor)
        results[name] = (o, li)
        if show_failures and predictor is ours:
            print("\n".join(failures) or "no failures", file=sys.stderr)
    print(markdown_table(results, len(cases)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
