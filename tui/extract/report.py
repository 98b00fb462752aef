"""The ``parse`` command's output: a JSON-ready dict and a short human rendering."""

from __future__ import annotations

from typing import Any

from tui.extract.model import Candidate, Extraction


def _cands(cands: list[Candidate]) -> list[dict[str, Any]]:
    return [{"value": c.value, "score": c.score, "reason": c.reason} for c in cands]


def extraction_report(ex: Extraction) -> dict[str, Any]:
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


def format_report(d: dict[str, Any]) -> str:
    """Render a :func:`report` dict for a terminal: the code, the link, then the runners-up."""
    lines = [
        f"Code: {_clean(d['otp']) if d.get('otp') else '(none found)'}",
        f"Link: {_clean(d['verification_link']) if d.get('verification_link') else '(none found)'}",
    ]
    sections = (("Code candidates", "otp_candidates"), ("Link candidates", "link_candidates"))
    for title, key in sections:
        cands = d.get(key) or []
        if not cands:
            continue
        lines.append(f"{title}:")
        for c in cands[:5]:
            value, reason = _clean(c["value"], 120), _clean(c["reason"], 120)
            lines.append(f"  {float(c['score']):.2f}  {value}  ({reason})")
    return "\n".join(lines)
