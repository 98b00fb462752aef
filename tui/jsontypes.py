"""Names for raw JSON where it enters or leaves the program.

Decoded API bodies, request bodies, config tables and ``--json`` output are untyped until a
model in :mod:`tui.api.models` (or a check) parses them; these aliases say so at the edge
instead of a bare ``Any``. Everything past the edge takes the parsed, typed value.

Standard library only, so every layer may import it.
"""

from __future__ import annotations

from typing import Any, TypeAlias

JsonObject: TypeAlias = dict[str, Any]
"""A JSON object as decoded (or about to be encoded): keys are strings, values unchecked."""

JsonValue: TypeAlias = Any
"""Any decoded JSON value (object, array, string, number, bool or null), not yet checked."""
