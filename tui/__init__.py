"""mailagents-tui: a terminal client for mailagents agent mailboxes."""

__version__ = "0.1.0"
