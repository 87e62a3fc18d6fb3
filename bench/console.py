"""What ``python -m bench`` prints: results on standard output, progress on standard error."""

from __future__ import annotations

import sys


def say(text: str = "") -> None:
    print(text, flush=True)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
