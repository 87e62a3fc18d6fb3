"""A kept page's frame: the page around its kept fragments, kept by what the frame shows.

A page kept per kind of reader (``@cached_page(shared=True)``) is rendered again for every
kind after a write to what it shows. On the programme page an action's write changes only the
body (progress, overdue, recent changes), a kept fragment every kind shares
(:mod:`portal.web.fragments`); the rest, the *frame* (the programme's own row, the reader's
buttons, the indicators worked on, the plugins' panels), stays as it was. With
``@cached_page(shared=True, frame=lambda programme_id: [...])`` the frame is kept too, under
the versions of the scopes it shows (``frame``'s, plus ``region``) and the reader's kind, with
a hole where each kept fragment was. After a write, the first reader renders the page (and
its fragments, kept again); the next kinds get the frame with the kept fragments put in the
holes, rendered by nobody (``X-Page-Cache: frame``).

So ``frame`` must name every scope the page shows outside its kept fragments. A plugin's panel
may show anything: a frame is kept only when every panel on the page says it shows only the
plugin's own rows and the page's subject's own row (``Panel(own_rows_only=True)``, which the
``region`` scope covers); a fragment that read the reader, or a page kept per reader, keeps
no frame either.
"""

from __future__ import annotations

import dataclasses
import re
import time

from flask import g

from portal.web.fragments import FRAGMENTS
from portal.web.page_store import CachedPage
from portal.web.session_tokens import without_session_token

HOLE_START = "\x00portal-hole:{}\x00"
HOLE_END = "\x00portal-hole-end:{}\x00"
_HOLE = re.compile(rb"\x00portal-hole:(\d+)\x00.*?\x00portal-hole-end:\1\x00", re.DOTALL)
_MARKS = re.compile(rb"\x00portal-hole(?:-end)?:\d+\x00")


def start_render() -> None:
    """A framed page is being rendered: its kept fragments leave holes."""
    g.page_holes = []
    g.page_frameless = False


def note_hole(name: str, key: tuple, html: str) -> str:
    """The fragment's HTML marked as a hole of the page being rendered (when it has a frame)."""
    holes = g.get("page_holes")
    if holes is None:
        return html
    holes.append((name, key))
    number = len(holes) - 1
    return HOLE_START.format(number) + html + HOLE_END.format(number)


def no_frame() -> None:
    """The page being rendered shows something its frame's scopes do not cover."""
    g.page_frameless = True


def split(body: bytes) -> tuple[bytes, tuple[bytes, tuple] | None]:
    """The page as sent (marks taken out) and its frame (each hole left as a mark) with the
    holes' fragments (name, arguments), or None when no frame may be kept."""
    holes = g.pop("page_holes", None)
    frameless = g.pop("page_frameless", False)
    if holes is None:
        return body, None
    page = _MARKS.sub(b"", body)
    if not holes or frameless:
        return page, None
    frame = _HOLE.sub(lambda m: HOLE_START.format(int(m.group(1))).encode(), body)
    return page, (frame, tuple(holes))


def frame_of(page: CachedPage, frame: tuple[bytes, tuple]) -> CachedPage:
    """The kept page's frame: its body with holes (the session's token taken out as in the
    page), the same headers and parts."""
    body, holes = frame
    return dataclasses.replace(page, body=without_session_token(body), holes=holes)


def assemble(frame: CachedPage | None) -> CachedPage | None:
    """The page from its kept frame and the fragments kept for this request's data, or None
    when the frame or any of its fragments is not kept."""
    if frame is None or not frame.holes:
        return None
    body = frame.body
    page_key = g.get("page_key_common")
    for number, (name, key) in enumerate(frame.holes):
        html = FRAGMENTS.get((name, tuple(key), page_key))
        if html is None:
            return None
        body = body.replace(HOLE_START.format(number).encode(), html.encode())
    return CachedPage(body, frame.headers, time.monotonic(), frame.parts, until=frame.until)
