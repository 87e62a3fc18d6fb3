"""ESCA cluster management excellence: the 2013 gold/silver indicator set (and, in a later
step, the bronze/silver/gold label scheme). First-party, loaded through its entry point."""

from __future__ import annotations

from pathlib import Path

from portal.toolkit import IndicatorSet, _l, hookimpl

DATA = Path(__file__).parent / "data"


@hookimpl
def plugin_info():
    return {
        "title": _l("ESCA cluster excellence labels"),
        "description": _l("The European cluster management excellence indicators (2013 criteria)."),
    }


@hookimpl
def translation_folders():
    return [str(Path(__file__).parent / "translations")]


@hookimpl
def indicator_sets():
    return [IndicatorSet.from_file(path) for path in sorted(DATA.glob("*.json"))]
