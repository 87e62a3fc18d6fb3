"""Personal access tokens of the JSON API on the profile page: made (the secret shown once)
and revoked. The service is portal.api.tokens, shared with ``portal token``."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.accounts.forms import TokenForm
from portal.accounts.models import Membership
from portal.accounts.views import bp, profile_page
from portal.api import tokens
from portal.errors import ServiceError
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import unscoped


def _regions() -> list[Tenant]:
    """The regions the person has an active role in (a token is made for one of them)."""
    with unscoped():
        return list(
            db.session.scalars(
                select(Tenant)
                .join(Membership, Membership.tenant_id == Tenant.id)
                .where(Membership.user_id == current_user.id, Membership.active)
                .order_by(Tenant.name)
            )
        )


def _token_form(regions: list[Tenant], *, blank: bool = False) -> TokenForm:
    form = TokenForm(prefix="token", **({"formdata": None} if blank else {}))
    form.region.choices = [(t.slug, t.name) for t in regions]
    return form


def tokens_context(token_form: TokenForm | None = None, new_secret: str | None = None) -> dict:
    regions = _regions()
    return {
        "token_form": token_form or _token_form(regions, blank=True),
        "token_regions": regions,
        "api_tokens": [
            (token, tenant, tokens.status(token))
            for token, tenant in tokens.tokens_of(current_user)
        ],
        "new_token_secret": new_secret,
    }


@bp.route("/profile/tokens", methods=["POST"])
@login_required
def create_token():
    regions = _regions()
    form = _token_form(regions)
    if form.validate_on_submit():
        tenant = next(t for t in regions if t.slug == form.region.data)
        scopes = ["read", "write"] if form.scope.data == "write" else ["read"]
        try:
            made = tokens.create_token(current_user, tenant, form.name.data, scopes, form.days.data)
        except ServiceError as exc:
            db.session.rollback()
            for name, messages in exc.field_errors.items():
                getattr(form, name if name != "scopes" else "scope").errors.extend(messages)
            if not exc.field_errors:
                form.name.errors.append(exc.message)
        else:
            # Shown on this answer only: the page after it (and every other) has no secret.
            flash(
                _(
                    "The token “%(name)s” is made. Copy it now: it is not shown again.",
                    name=made.token.name,
                ),
                "success",
            )
            response = make_response(
                profile_page(new_secret=made.secret, token_form=_token_form(regions, blank=True))
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return profile_page(token_form=form, status=422)


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    try:
        token = tokens.revoke_token(token_id, owner=current_user)
    except ServiceError:
        abort(404)
    flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("auth.profile"))
