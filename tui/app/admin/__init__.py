"""The operator console: one App with a tab per admin view (see :mod:`.console`)."""
