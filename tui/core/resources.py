"""Spec types of the one resource-table pattern (tenant screens and operator console alike).

A list screen is a :class:`TableSpec`: its columns, how a row is keyed, drawn and filtered,
and what it says when nothing is selected or nothing is there. The widgets that draw it live
in ``tui/app`` (``widgets/row_table.py``, ``resource_screen.py``); nothing here imports Textual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

Row = TypeVar("Row")


@dataclass(frozen=True)
class Column:
    """A column of a table."""

    key: str
    """Row field (or cell key)."""
    label: str
    """Header."""
    width: int = 0
    """Preferred width (0: auto)."""


@dataclass(frozen=True)
class TableSpec(Generic[Row]):
    """One list of typed rows: what to show and how to find a row again."""

    name: str
    """Widget ids: ``{name}-header``, ``{name}-table``, ``{name}-filter``, ``{name}-empty``."""
    columns: tuple[Column, ...]
    """Table columns."""
    key: Callable[[Row], str]
    """The row's stable id (the cursor stays on it across reloads)."""
    cells: Callable[[Row, datetime], Sequence[object]]
    """The row's cells (one per column; ``now`` is one clock for every row)."""
    noun: str = "row"
    """What a row is, for "No lease selected"."""
    nothing: str = ""
    """The warning when no row is selected (default: ``No {noun} selected``)."""
    matches: Callable[[Row, str], bool] | None = None
    """Filter (lower-case needle); None: the list has no filter."""
    filter_hint: str = ""
    """Placeholder of the filter field."""
    empty: str | None = None
    """The dim line shown when there are no rows (None: no such line)."""
