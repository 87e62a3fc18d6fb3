"""What the API's views share: a page of a list as its JSON envelope, and the services'
refusals as problem details. Plugins reach these through portal.toolkit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import abort
from flask_smorest import abort as api_abort

from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.web.pagination import Page, paginate


def page_body(result: Page, row: Callable[[Any], Any] | None = None) -> dict:
    """The JSON envelope of a page (``items`` made by ``row``, else as they are)."""
    return {
        "items": [row(item) for item in result.items] if row else result.items,
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
    }


def paged(stmt, page: int, per_page: int, row=None, *, scalars: bool = True) -> dict:
    """One page of a select in a stable order (two queries) as its JSON envelope."""
    return page_body(paginate(stmt, page, per_page, scalars=scalars), row)


@contextmanager
def service_errors(conflict_status: int = 412) -> Iterator[None]:
    """The services' refusals as problems, nothing written: a ServiceError is 422 with its
    message and its fields' messages; a ConflictError (someone saved meanwhile) is
    ``conflict_status`` (412 where the caller sent If-Match, else 409)."""
    try:
        yield
    except ConflictError:
        db.session.rollback()
        abort(conflict_status)
    except ServiceError as exc:
        db.session.rollback()
        api_abort(422, message=exc.message, errors=exc.field_errors or None)


def documented(blp, *statuses: int):
    """Document the problem answers an operation may give (401, 404 and 429 always)."""
    from http import HTTPStatus

    def decorate(view):
        for status in sorted({401, 404, 429, *statuses}, reverse=True):
            view = blp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate


def found_first(**models):
    """Look the URL's ids up before the body is read: another region's id (or none) answers
    404 whatever the body, not a validation problem. Put it between ``route`` and
    ``arguments``; e.g. ``@found_first(plan_id=Plan)``."""
    from functools import wraps

    from portal.tenancy import get_or_404

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            for name, model in models.items():
                get_or_404(model, kwargs[name])
            return view(*args, **kwargs)

        return wrapper

    return decorate
