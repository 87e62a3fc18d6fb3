"""ESCA cluster management excellence: the 2013 gold/silver indicator set and the
bronze/silver/gold label scheme (2013 and 2020 rules), with demo rounds. First-party, loaded
through its entry point like any third-party plugin."""

from __future__ import annotations

import functools
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
def label_schemes():
    from portal_esca.scheme import schemes

    return schemes()


@hookimpl
def demo_data(tenant):
    from portal_esca.demo import load

    load(tenant)


@hookimpl
def indicator_sets():
    return [esca_set()]


@functools.cache
def esca_set() -> IndicatorSet:
    """The 2013 set, read once."""
    return IndicatorSet.from_file(DATA / "esca-gold-2013.json")
