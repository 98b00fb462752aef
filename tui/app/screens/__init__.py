"""app screens package."""
