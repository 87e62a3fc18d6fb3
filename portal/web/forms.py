"""Small helpers shared by the forms."""

from __future__ import annotations


def strip(value):
    """Filter: drop the spaces people paste around e-mail addresses and names."""
    return value.strip() if isinstance(value, str) else value
