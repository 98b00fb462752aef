"""``mailagents-tui parse``: the code and link of a ``.eml`` file (no service needed)."""

from __future__ import annotations

import json
import sys

import click

from tui.cli.common import JSON_OPTION
from tui.cli.exits import friendly_errors


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@JSON_OPTION
@friendly_errors
def parse(path: str, as_json: bool) -> None:
    """Extract the OTP code and verification link of a .eml file (- reads stdin)."""
    from tui.extract import format_report
    from tui.extract import report as extract_report
    from tui.files import read_bounded, read_stream_bounded

    if path == "-":
        raw = read_stream_bounded(sys.stdin.buffer, what="standard input")
    else:
        raw = read_bounded(path, what="message file")
    data = extract_report(raw)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(data))
