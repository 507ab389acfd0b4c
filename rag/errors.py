"""User-facing errors: one line saying what is wrong and how to fix it."""


class RagError(Exception):
    """An error the user can fix; the CLI prints its message as a single line and exits 1."""
