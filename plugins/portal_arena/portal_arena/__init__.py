"""Norwegian Innovation Clusters programme levels (Arena, Arena Pro, Global Centres of
Expertise) as a label scheme.

A separate distribution (``portal-arena``), installed and found like a third party's plugin:
through the ``portal.plugins`` entry point, using ``portal.toolkit`` only. The rules are
illustrative, not the programme's official criteria.
"""

from __future__ import annotations

from pathlib import Path

from portal.toolkit import _l, hookimpl

TRANSLATIONS = Path(__file__).parent / "translations"


@hookimpl
def plugin_info():
    return {
        "title": _l("Norwegian Innovation Clusters levels"),
        "description": _l(
            "The programme levels Arena, Arena Pro and Global Centres of Expertise (GCE) as a "
            "label scheme. The rules and numbers are illustrative, not the programme's "
            "official criteria."
        ),
    }


@hookimpl
def translation_folders():
    return [str(TRANSLATIONS)]


@hookimpl
def label_schemes():
    from portal_arena.scheme import schemes

    return schemes()
