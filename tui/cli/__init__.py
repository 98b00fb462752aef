"""The ``mailagents-tui`` command line: the click root and one module per command group.

Layers, top down (an import-linter contract): :mod:`tui.cli.root` (the click root and the
lazy registry), the command groups (``lease``, ``messages``, ``send``, ``wallet``, ``parse``,
``accounts``, ``admin``, ``billing``, ``profiles``), then :mod:`tui.cli.common` (click helpers
the commands share) and :mod:`tui.cli.opentui` (the TUI's launch), then :mod:`tui.cli.exits`
(exit codes, errors and their reporting) and :mod:`tui.cli.options` (the shared options).

This file imports nothing: the entry point's fast path (:mod:`tui.launch`) uses the click-free
bottom modules without loading click. ``tui.cli.root.main`` is the command line.
"""
