"""Mounting the JSON API: one flask-smorest ``Api`` for ``/api/v1``, its token authentication,
rate limits per token, the offline documentation page, and the plugins' endpoints."""

from __future__ import annotations

import hashlib
import http
import os
import threading

import flask_smorest
from flask import Blueprint, Flask, abort, g, has_request_context, render_template, request
from flask_smorest.spec import prepare_response
from sqlalchemy import event
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import User
from portal.api.problems import PROBLEM_JSON, ProblemSchema, is_api_request
from portal.config import SUPPORTED_LOCALES
from portal.extensions import csrf, limiter, login_manager

API_V1 = "/api/v1"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_RATE_LIMIT = "300 per minute"


class PortalApi(flask_smorest.Api):
    """An ``Api`` whose errors are problem details: the app's own handlers answer them
    (portal.web.errors asks :func:`is_api_request`), so smorest registers none of its own,
    which would also answer the HTML pages' errors in JSON."""

    ERROR_SCHEMA = ProblemSchema

    # The document is written when it is first read, not when the app is built: building it
    # cost half of create_app (every worker at start, every test), and most apps never serve it.
    @property
    def spec(self):
        pending = self.__dict__.get("_undocumented")
        if pending:
            with self.__dict__["_document_lock"]:
                spec = self.__dict__["_spec"]
                while pending:
                    blp, name, parameters = pending.pop(0)
                    blp.register_views_in_doc(
                        self, self._app, spec, name=name, parameters=parameters
                    )
                    spec.tag({"name": name, "description": blp.description})
        return self.__dict__.get("_spec")

    @spec.setter
    def spec(self, value) -> None:
        self.__dict__["_spec"] = value

    def register_blueprint(self, blp, *, parameters=None, **options):
        """The routes now (as flask-smorest does), their part of the document later."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self.__dict__.setdefault("_document_lock", threading.RLock())
        self.__dict__.setdefault("_undocumented", []).append((blp, name, parameters))

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def _token_rate_key() -> str:
    # Counted per token: the limiter runs before authentication, so the key is the hash of
    # the presented secret (the same as the token's stored hash), never the secret itself.
    header = request.headers.get("Authorization", "")
    return "api-token:" + hashlib.sha256(header.encode()).hexdigest()[:32]


def _core_blueprints() -> list[flask_smorest.Blueprint]:
    from portal.api import actions, clusters, labels, plans, programmes, rounds, workshops

    return [
        clusters.blp,
        programmes.blp,
        plans.blp,
        actions.blp,
        workshops.blp,
        rounds.blp,
        labels.blp,
    ]


def init_api(app: Flask, host) -> PortalApi:
    app.config.setdefault("API_TITLE", "Cluster Forum Portal")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_V1)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {}).setdefault("security", [{"bearerAuth": []}])
    api = PortalApi(app)
    api.spec.components.security_scheme(
        "bearerAuth",
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal access token of the region (profile page or "
            "`portal token create`), starting with cfp_.",
        },
    )
    rate = app.config.setdefault(
        "API_RATE_LIMIT", os.environ.get("PORTAL_API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    )
    blueprints = list(_core_blueprints())
    with app.app_context():
        for plugin_name, found in host.call_named("api_blueprints"):
            for blp in found:
                blueprints.append(blp)
                host.blueprint_owner[blp.name] = plugin_name
    for blp in blueprints:
        csrf.exempt(blp)  # a bearer token is no ambient credential: no cross-site forgery
        limiter.limit(rate, key_func=_token_rate_key)(blp)
        api.register_blueprint(blp)
    app.register_blueprint(docs_bp)
    app.before_request(_authenticate)
    app.extensions["portal_api"] = api
    return api


def _authenticate():
    """Who calls the API: the owner of a live token of the URL's region, and only them.

    A session cookie counts for nothing here, and a token counts nowhere else. A token acts
    with its owner's role in that region: a platform administrator's token has no more."""
    if not is_api_request():
        return None
    language = request.accept_languages.best_match(SUPPORTED_LOCALES)
    if language:
        g.locale_override = language
    g._login_user = login_manager.anonymous_user()
    if g.get("tenant_slug") is None:
        return None  # the document, the docs page, an unknown address (404)
    from portal.api.tokens import authenticate

    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    tenant = g.get("tenant")
    token = None
    if scheme.lower() == "bearer":
        token = authenticate(
            secret.strip(), tenant.id if tenant is not None else None, request.remote_addr or ""
        )
    if token is None:
        abort(401)
    user = token.user
    g.api_token = token
    g.api_user_id = user.id
    _without_platform_role(user)
    g._login_user = user
    if request.method not in READ_METHODS and not token.allows("write"):
        abort(403)
    return None


def _without_platform_role(user) -> None:
    """The platform role is not the token's to use: the token owner's row reads as no
    platform administrator for the rest of the request, also when it is loaded again (after
    a commit expires it); nothing is written (a committed value, not a change)."""
    set_committed_value(user, "is_platform_admin", False)


@event.listens_for(User, "load")
@event.listens_for(User, "refresh")
def _token_user_loaded(user, *args) -> None:
    if not has_request_context():
        return
    if g.get("api_user_id") == user.id:
        _without_platform_role(user)


docs_bp = Blueprint("api_docs", __name__, url_prefix=API_V1)


@docs_bp.route("/docs")
def docs():
    """The API's documentation, from its OpenAPI document, with the vendored Swagger UI."""
    response = render_template("api/docs.html")
    return (
        response,
        200,
        {
            # Swagger UI sets inline styles; the page holds no personal data and no forms.
            "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
        },
    )
