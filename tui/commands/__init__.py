"""Headless commands kept out of ``tui.cli`` and registered there lazily."""
