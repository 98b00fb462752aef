"""``python -m tui`` runs the mailagents-tui command line."""

from tui.cli import main

main()
