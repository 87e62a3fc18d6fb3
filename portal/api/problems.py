"""Errors of the JSON API as RFC 9457 problem details (``application/problem+json``), in the
caller's language.

The app's error handlers (portal.web.errors) serve pages and the API alike: they ask
:func:`is_api_request` first and answer here for the API. It goes by the URL, not by the
blueprint, because routing errors (404, 405) happen before any blueprint is known."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, json, request
from flask_babel import lazy_gettext as _l

API_PREFIX = "/api/"
PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: _l("Bad request"),
    401: _l("Not authenticated"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    412: _l("Changed since you read it"),
    413: _l("Request too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid input"),
    428: _l("Version required"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
}

DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("Send a valid personal access token of this region: Authorization: Bearer <token>."),
    403: _l("The token's owner or scopes do not allow this."),
    404: _l("There is nothing here, or the token has no access to it."),
    405: _l("This address does not accept that method."),
    409: _l("Someone saved the same thing at the same moment; nothing was written."),
    412: _l("Someone changed this since you read it. Read it again and apply your change."),
    413: _l("The request is larger than the portal accepts."),
    415: _l("Send the request body as application/json."),
    422: _l("Some values are not valid; see errors."),
    428: _l("Send If-Match with the ETag you read, so that no change is overwritten."),
    429: _l("Too many requests with this token in a short time. Wait a minute and try again."),
    500: _l("The portal hit an error and changed nothing. Try again later."),
}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation of every error answer)."""

    type = ma.fields.String(metadata={"description": "A URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "A short summary, in the caller's language"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong this time"})
    instance = ma.fields.String(metadata={"description": "The path of the request"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "Messages per field of the request, for invalid input"},
    )


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem(
    status: int,
    detail: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": str(title or TITLES.get(status, TITLES[400 if status < 500 else 500])),
        "status": status,
        "detail": str(detail or DETAILS.get(status, "")),
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_from_exception(exc) -> Response:
    """A problem for an HTTP exception: webargs' validation errors (``data["messages"]``,
    per location) become ``errors`` per field; a 500 says nothing of its cause."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = {}
        for fields in data["messages"].values():
            errors.update(fields if isinstance(fields, dict) else {"_": fields})
    headers = dict(data.get("headers") or {})
    detail = data.get("message") if status < 500 else None
    return problem(status, detail, errors=errors or None, headers=headers)
