"""app dialogs package."""
