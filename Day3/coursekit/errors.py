"""The kit's own exception: bad input that the user can fix (one line, exit status 2)."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2, no traceback."""
