"""The suite's own scheduling: the slow files that tests/conftest.py hands out first exist (a
renamed one would silently go back to the end of the run)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SLOW_FILES_FIRST

ROOT = Path(__file__).resolve().parent.parent


def test_the_slow_files_handed_out_first_exist():
    missing = [name for name in SLOW_FILES_FIRST if not (ROOT / name).is_file()]
    assert not missing
    assert len(set(SLOW_FILES_FIRST)) == len(SLOW_FILES_FIRST)
