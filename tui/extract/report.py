"""The ``parse`` command's output: a JSON-ready dict and a short human rendering."""

from __future__ import annotations

from typing import TypedDict

from tui.extract.model import Candidate, Extraction


class CandidateReport(TypedDict):
    """One candidate in the ``parse --json`` object."""

    value: str
    score: float
    reason: str


class ExtractionReport(TypedDict):
    """The ``parse --json`` object: the chosen code and link, then every ranked candidate."""

    otp: str | None
    verification_link: str | None
    otp_candidates: list[CandidateReport]
    link_candidates: list[CandidateReport]


def _cands(cands: list[Candidate]) -> list[CandidateReport]:
    return [{"value": c.value, "score": c.score, "reason": c.reason} for c in cands]


def extraction_report(ex: Extraction) -> ExtractionReport:
    """The ``parse --json`` object for an :class:`Extraction`."""
    return {
        "otp": ex.otp,
        "verification_link": ex.link,
        "otp_candidates": _cands(ex.otp_candidates),
        "link_candidates": _cands(ex.link_candidates),
    }


def _clean(value: object, limit: int = 300) -> str:
    text = "".join(ch for ch in str(value) if ch.isprintable())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_report(d: ExtractionReport) -> str:
    """Render a :func:`report` dict for a terminal: the code, the link, then the runners-up."""
    lines = [
        f"Code: {_clean(d['otp']) if d.get('otp') else '(none found)'}",
        f"Link: {_clean(d['verification_link']) if d.get('verification_link') else '(none found)'}",
    ]
    sections = (
        ("Code candidates", d.get("otp_candidates")),
        ("Link candidates", d.get("link_candidates")),
    )
    for title, cands in sections:
        if not cands:
            continue
        lines.append(f"{title}:")
        for c in cands[:5]:
            value, reason = _clean(c["value"], 120), _clean(c["reason"], 120)
            lines.append(f"  {float(c['score']):.2f}  {value}  ({reason})")
    return "\n".join(lines)
