"""What the portal knows of each kind of import, registered once by the feature (or plugin)
that owns it: the page where a file of that kind is checked and confirmed, the page a job's
progress page links back to, and how a job builds the importer for a large file.

A pending import names its kind ("members") and target ("cluster:12"); the front page's
"waiting for you" panel links a checked upload to its ``page``, and an import job's page
(:mod:`portal.imports.job_views`) links to its ``back`` page. A target whose object is gone
(the function raises ``NotFound``) has no link.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound

from portal.extensions import db
from portal.imports.service import Importer

# factory(user, tenant_id, progress, target) -> Importer, in the job (see portal.imports.jobs)
Factory = Callable[[Any, int, Any, str], Importer]


@dataclass(frozen=True)
class ImportKind:
    page: Callable[[str], str] | None = None  # target -> URL of the check-and-confirm page
    back: Callable[[str], tuple[str, str]] | None = None  # target -> (link text, URL)
    job: Factory | None = None  # None: always written in the request


_KINDS: dict[str, ImportKind] = {}


def register_import_kind(
    kind: str,
    *,
    page: Callable[[str], str] | None = None,
    back: Callable[[str], tuple[str, str]] | None = None,
    job: Factory | None = None,
) -> None:
    """Say where imports of ``kind`` are made (``page``), where their job's page leads back
    (``back``) and, for imports large enough to be written by a job, how the job builds the
    importer (``job``). Registering a kind again replaces it."""
    _KINDS[kind] = ImportKind(page, back, job)


def job_factory(kind: str) -> Factory | None:
    found = _KINDS.get(kind)
    return found.job if found is not None else None


def page_of(kind: str, target: str) -> str | None:
    """The URL of the page where this import is checked and confirmed (None: unknown kind,
    or its target is gone)."""
    found = _KINDS.get(kind)
    return _answer(found.page, target) if found is not None else None


def back_link(kind: str, target: str) -> tuple[str, str] | None:
    """(text, URL) of the page an import of this kind and target came from, or None (also
    when that page is gone)."""
    found = _KINDS.get(kind)
    return _answer(found.back, target) if found is not None else None


def _answer(function, target: str):
    if function is None:
        return None
    try:
        return function(target)
    except (HTTPException, ValueError):
        return None


def target_id(target: str, prefix: str) -> int:
    """The number of a target such as "plan:12" (``prefix`` "plan"); ValueError otherwise."""
    kind, _sep, number = target.partition(":")
    if kind != prefix or not number.isdigit():
        raise ValueError(target)
    return int(number)


def target_object(model: Any, target: str, prefix: str) -> Any:
    """The object a pending import's target names ("plan:12"), in the tenant in scope;
    ``NotFound`` when it is gone (or the target names something else)."""
    try:
        found = db.session.get(model, target_id(target, prefix))
    except ValueError:
        found = None
    if found is None:
        raise NotFound()
    return found
