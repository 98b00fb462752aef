"""``python -m tui`` runs the mailagents-tui command line."""

from tui.launch import main

main()
