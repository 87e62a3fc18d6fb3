"""Helpful error pages (and fragments for htmx) instead of bare status codes."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, make_response, render_template, request, session
from flask_babel import gettext as _
from flask_babel import refresh
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from portal.api.problems import is_api_request, problem, problem_from_exception
from portal.db import waited_too_long
from portal.errors import ConflictError
from portal.extensions import db
from portal.files.storage import StorageUnavailable
from portal.i18n import SUPPORTED_LOCALES

log = logging.getLogger(__name__)


def _render(status: int, title: str, message: str, rows=None):
    if is_api_request():
        return problem(status, message, title=title)
    template = "errors/fragment.html" if request.headers.get("HX-Request") else "errors/page.html"
    return render_template(
        template, status=status, title=title, message=message, rows=rows or []
    ), status


def _busy_texts() -> tuple[str, str]:
    return _("The portal is busy"), _(
        "Another change, such as a large import, is being saved just now, so nothing was "
        "saved. Try again in a moment."
    )


def init_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc):
        db.session.rollback()
        return _render(
            400,
            _("The form has expired"),
            _(
                "Your session ended or the form was open too long. Go back, reload the page "
                "and send it again."
            ),
        )

    # The safety net of optimistic locking (portal.locking): a stale save no view caught
    # answers 409 and changes nothing, never 500.
    @app.errorhandler(ConflictError)
    def _conflict(exc: ConflictError):
        db.session.rollback()
        return _render(409, _("Not saved"), exc.message, getattr(exc, "rows", None))

    @app.errorhandler(StaleDataError)
    def _stale(exc):
        from portal.locking import default_message

        db.session.rollback()
        return _render(409, _("Not saved"), default_message())

    # Two people writing the same unique thing at the same moment (e.g. two coordinators
    # importing the same members): the database refuses the second; it answers 409 and
    # changes nothing, never 500. Services that expect a clash answer it themselves.
    @app.errorhandler(IntegrityError)
    def _integrity(exc):
        db.session.rollback()
        log.info("constraint refused a write: %s", exc.orig)
        return _render(
            409,
            _("Not saved"),
            _(
                "Someone saved the same thing at the same moment, so nothing was written. "
                "Reload the page to see what is there now, and try again."
            ),
        )

    # The file storage (a folder or S3-compatible object storage) cannot be reached: the
    # operator's log says why, the reader a 503 that changed nothing.
    @app.errorhandler(StorageUnavailable)
    def _storage_unavailable(exc):
        db.session.rollback()
        log.error("file storage unavailable on %s: %s", request.path, exc)
        return _render(
            503,
            _("Files are unavailable"),
            _(
                "The portal cannot reach its file storage just now, so nothing was changed. "
                "Try again in a few minutes; if it lasts, tell your coordinator."
            ),
        )

    # A write waited longer than it may for another writer (SQLite: one writer at a time, a
    # large import's writing included; PostgreSQL: a lock timeout): nothing was written, and
    # trying again in a moment works. Any other database failure stays a 500.
    @app.errorhandler(OperationalError)
    def _database_busy(exc: OperationalError):
        db.session.rollback()
        if not waited_too_long(exc):
            return _internal(InternalServerError(original_exception=exc))
        log.warning("waited too long for a lock on %s: %s", request.path, exc.orig)
        try:
            response = make_response(_render(503, *_busy_texts()))
        except OperationalError as again:
            if not waited_too_long(again):
                raise
            # The page's frame reads the database too (who is signed in, their language),
            # which a writer can hold when SQLite runs without WAL: a bare page, in the
            # language the session or the browser asks for.
            db.session.rollback()
            g.locale_override = (
                session.get("locale")
                or request.accept_languages.best_match(SUPPORTED_LOCALES)
                or "en"
            )
            refresh()
            title, message = _busy_texts()
            # The template alone, without the context processors (they ask who is signed in).
            page = current_app.jinja_env.get_template("errors/bare.html").render(
                status=503, title=title, message=message, current_locale=g.locale_override
            )
            response = make_response(page, 503)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        db.session.rollback()
        if is_api_request():
            return problem_from_exception(exc)
        if exc.code == 404:
            return _render(
                404,
                _("Page not found"),
                _(
                    "There is nothing here, or you do not have access to it. Check the address, "
                    "or go back to your start page."
                ),
            )
        if exc.code == 403:
            return _render(
                403,
                _("Not allowed"),
                _(
                    "Your role does not allow this. Ask a coordinator of this region if you "
                    "need access."
                ),
            )
        if exc.code == 405:
            return _render(405, _("Not allowed"), _("This address does not accept that request."))
        if exc.code == 413:
            return _render(
                413,
                _("File too large"),
                _("The file is larger than the portal accepts. Send a smaller file."),
            )
        if exc.code == 429:
            return _render(
                429,
                _("Too many attempts"),
                _("Too many attempts in a short time. Wait a minute and try again."),
            )
        if exc.code == 400:
            return _render(
                400,
                _("Bad request"),
                _("The request could not be understood. Go back and try again."),
            )
        return exc

    @app.errorhandler(InternalServerError)
    def _internal(exc):
        db.session.rollback()
        log.error("unhandled error on %s", request.path, exc_info=exc.original_exception)
        return _render(
            500,
            _("Something went wrong"),
            _(
                "The portal hit an error and changed nothing. Try again; if it happens again, "
                "tell your coordinator."
            ),
        )
