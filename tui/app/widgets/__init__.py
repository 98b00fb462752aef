"""app widgets package."""
