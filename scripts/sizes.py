#!/usr/bin/env python3
"""Classes over 400 lines and functions over 60 lines in tui/ (issue 15's limits), largest first.

Usage: python scripts/sizes.py [--all] [PATH]   (spans include docstrings and nested defs)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

CLASS_LIMIT = 400
FUNCTION_LIMIT = 60


def spans(root: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(classes, functions) as (lines, "path:line name"), largest first."""
    classes: list[tuple[int, str]] = []
    functions: list[tuple[int, str]] = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                where = f"{path}:{node.lineno} {node.name}"
                (classes if isinstance(node, ast.ClassDef) else functions).append((size, where))
    return sorted(classes, reverse=True), sorted(functions, reverse=True)


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--all"]
    classes, functions = spans(Path(args[0] if args else "tui"))
    every = "--all" in sys.argv
    big_classes = [c for c in classes if every or c[0] > CLASS_LIMIT]
    big_functions = [f for f in functions if every or f[0] > FUNCTION_LIMIT]
    print(f"classes over {CLASS_LIMIT} lines: {sum(c[0] > CLASS_LIMIT for c in classes)}")
    for size, where in big_classes:
        print(f"  {size:5d}  {where}")
    print(f"functions over {FUNCTION_LIMIT} lines: {sum(f[0] > FUNCTION_LIMIT for f in functions)}")
    for size, where in big_functions:
        print(f"  {size:5d}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
