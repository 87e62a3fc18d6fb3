"""Parts of a kept page that every kind of reader sees alike, rendered once per change.

A page kept per kind of reader (``@cached_page(shared=True)``) is rendered again for every kind
after a write: on the programme page, the coordinator, each cluster's manager and each member
are kinds of their own (their clusters, the privacy policy's decision). Most of such a page is
the same for all of them. In a template::

    {% call kept_fragment("programme-body", may('programme.manage', programme)) %}
      ... what reads only the page's data and the arguments ...
    {% endcall %}

the block is rendered by the first reader after a change and served to the next kinds from the
process's keep (``FRAGMENTS``), under the page's own key without the reader: its data versions
(read before the view read anything), renderer, language, day, URL and htmx headers, plus the
fragment's name and arguments. So the arguments must name everything in the block that depends
on the reader (a permission, a flag); a block that shows benchmark values (the privacy policy's
decision), the reader's clusters or the reader themselves does not belong in a fragment.
Values only the block reads are passed as :class:`Deferred`, so a kept block costs no query.

A CSRF token in the block is kept as a placeholder and each answer gets its session's own.
Outside a page being kept (the cache off, a POST, a page with a flash message) the block is
simply rendered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import g
from markupsafe import Markup

from portal.keeps import Keep, reading_request
from portal.web.session_tokens import with_session_token, without_session_token

FRAGMENTS = Keep("page fragments", at_most=128)
_UNSET = object()


def kept_fragment(name: str, *key: Any, caller: Callable[[], str]) -> Markup:
    """The block, from the keep when this page's data and the arguments are the same."""
    return _kept(name, key, {key: caller})


def kept_choice(name: str, chosen: Any, choices: tuple, *, caller: Callable) -> Markup:
    """A kept fragment in a few variants by one argument the block receives, e.g. whether the
    reader manages the programme::

        {% call(manage) kept_choice("participants", may('programme.manage', p), [true, false]) %}

    A render keeps every variant at once, so each next kind of reader finds theirs kept
    whoever read first. The block must read the reader only through its argument."""
    renders = {
        (choice,): functools.partial(caller, choice) for choice in dict.fromkeys((chosen, *choices))
    }
    return _kept(name, (chosen,), renders)


def _kept(name: str, chosen: tuple, renders: dict[tuple, Callable[[], str]]) -> Markup:
    """The variant ``chosen`` of the block (``renders``: each variant's arguments and render,
    the chosen first), from the keep; when it is not kept, every variant is rendered and kept.
    """
    from portal.web import page_frames

    page_key = g.get("page_key_common")
    if page_key is None or not reading_request():
        page_frames.no_frame()
        return Markup(renders[chosen]())  # noqa: S704 - the template's own rendered output
    kept = FRAGMENTS.get((name, chosen, page_key))
    if kept is None:
        read_before = g.pop("page_depends_on_viewer", False)
        rendered = {key: str(render()) for key, render in renders.items()}
        read_reader = g.get("page_depends_on_viewer", False)
        g.page_depends_on_viewer = read_before or read_reader
        if read_reader:  # the block read who the reader is (same_person): not for others
            page_frames.no_frame()
            return Markup(rendered[chosen])  # noqa: S704 - rendered by the template above
        for key, html in rendered.items():
            FRAGMENTS.put((name, key, page_key), without_session_token(html))
        kept = without_session_token(rendered[chosen])
    # A hole of the page's frame, when it has one (portal.web.page_frames).
    marked = page_frames.note_hole(name, chosen, with_session_token(kept))
    return Markup(marked)  # noqa: S704 - rendered by the template above, escaped there


class Deferred:
    """A value worked out when first read (attribute access), once: what only a kept
    fragment reads, so that an answer served from the keep does not compute it."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._value = _UNSET

    def _resolve(self) -> Any:
        if self._value is _UNSET:
            self._value = self._make()
        return self._value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._resolve(), name)
