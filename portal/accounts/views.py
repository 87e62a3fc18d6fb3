"""Sign-in, sign-out, password reset, invitations and the profile page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user

from portal.accounts import services, sessions
from portal.accounts.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    ResetRequestForm,
)
from portal.accounts.throttle import login_throttle
from portal.audit.services import record_event
from portal.config import SUPPORTED_LOCALES
from portal.errors import ServiceError
from portal.extensions import db, limiter
from portal.mail.preferences import KINDS as MAIL_KINDS
from portal.mail.preferences import choose as choose_mail
from portal.mail.preferences import opted_out
from portal.tenancy.models import Tenant

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def safe_next(target: str | None) -> str | None:
    """Only local paths: an open redirect would help phishing."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# Every try of an address (Flask-Limiter); failures per account and address: throttle.py.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        email = services.normalise_email(form.email.data)
        address = request.remote_addr or ""
        throttle = login_throttle()
        wait = throttle.wait(email, address)
        if wait:
            record_event("login.throttled", actor=email)
            minutes = max(1, -(-wait // 60))
            flash(
                ngettext(
                    "Too many failed sign-ins from your address. Try again in %(num)d minute.",
                    "Too many failed sign-ins from your address. Try again in %(num)d minutes.",
                    minutes,
                ),
                "error",
            )
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(wait)}
        user = services.authenticate(email, form.password.data)
        if user is None:
            throttle.failed(email, address)
            record_event("login.failed", actor=email)
            flash(_("The e-mail or the password is not right."), "error")
        else:
            throttle.succeeded(email, address)
            sessions.sign_in(user, remember=form.remember.data)
            record_event("login", user=user)
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        record_event("logout", user=current_user)
        sessions.sign_out(current_user._get_current_object())
    else:
        # Signed in by a session nobody can look up now (Redis is down): it ends all the same.
        sessions.sign_out(None)
    flash(_("You are signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.send_password_reset(form.email.data)
        flash(
            _("If the address belongs to an account, a link to reset the password is on its way."),
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        user = services.user_from_reset_token(token)
    except ServiceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.forgot_password"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            services.set_password(user, form.password.data)
        except ServiceError as exc:
            db.session.rollback()
            form.password.errors.append(exc.message)
        else:
            record_event("password.reset", user=user)
            flash(_("Your password is changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 422 if form.errors else 200


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        invitation = services.invitation_from_token(token)
    except ServiceError as exc:
        return render_template("auth/invitation_invalid.html", message=exc.message), 410
    tenant = db.session.get(Tenant, invitation.tenant_id)
    existing = services.user_by_email(invitation.email)
    if existing is not None:
        if not current_user.is_authenticated:
            flash(_("Sign in to accept the invitation."), "info")
            return redirect(url_for("auth.login", next=request.path))
        if request.method == "POST":
            try:
                services.accept_invitation(invitation, current_user)
            except ServiceError as exc:
                flash(exc.message, "error")
                return redirect(url_for("main.home"))
            flash(_("Welcome to %(tenant)s.", tenant=tenant.name), "success")
            return redirect(url_for("main.dashboard", tenant=tenant.slug))
        return render_template(
            "auth/invitation.html",
            invitation=invitation,
            invited_tenant=tenant,
            form=None,
            existing=existing,
        )
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(invitation.email, form.name.data, form.password.data)
            services.accept_invitation(invitation, user)
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            sessions.sign_in(user)
            record_event("login", user=user)
            flash(_("Welcome to %(tenant)s.", tenant=tenant.name), "success")
            return redirect(url_for("main.dashboard", tenant=tenant.slug))
    return render_template(
        "auth/invitation.html",
        invitation=invitation,
        invited_tenant=tenant,
        form=form,
        existing=None,
    )


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user, prefix="profile")
    if request.method != "POST":
        form.mail.data = sorted(MAIL_KINDS.keys() - opted_out(current_user))
    password_form = ChangePasswordForm(prefix="password")
    # Two forms on one page: the field prefix tells which one was sent.
    if request.method == "POST" and "profile-name" in request.form:
        if form.validate():
            current_user.name = form.name.data.strip()
            current_user.locale = form.locale.data or None
            choose_mail(current_user, set(form.mail.data or ()))
            db.session.commit()
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.profile"))
    elif request.method == "POST" and "password-current" in request.form:
        _change_password(password_form)
        if not password_form.errors:
            return redirect(url_for("auth.profile"))
    status = 422 if form.errors or password_form.errors else 200
    return profile_page(form, password_form, status=status)


def profile_page(form=None, password_form=None, *, status=200, **tokens_context):
    """The profile page with its forms (those sent keep their input and errors)."""
    from portal.accounts.token_views import tokens_context as api_tokens

    if form is None:
        form = ProfileForm(obj=current_user, prefix="profile", formdata=None)
        form.mail.data = sorted(MAIL_KINDS.keys() - opted_out(current_user))
    return render_template(
        "auth/profile.html",
        form=form,
        password_form=password_form or ChangePasswordForm(prefix="password", formdata=None),
        sessions=sessions.sessions_of(current_user),
        **api_tokens(**tokens_context),
    ), status


def _change_password(form: ChangePasswordForm) -> None:
    if not form.validate():
        return
    try:
        services.change_password(current_user, form.current.data, form.password.data)
    except ServiceError as exc:
        db.session.rollback()
        field = form.current if "current" in exc.field_errors else form.password
        field.errors.append(exc.message)
        return
    flash(_("Your password is changed. Other devices are signed out."), "success")


@bp.route("/profile/sessions/<session_id>/end", methods=["POST"])
@login_required
def end_session(session_id: str):
    """Sign out one of one's own sessions (another device); one's own: as signing out."""
    user = current_user._get_current_object()
    if session_id == sessions.current_hash(user):
        return logout()
    if not sessions.end_one(user, session_id):
        abort(404)
    record_event("session.ended", user=user)
    flash(_("That session is signed out."), "success")
    return redirect(url_for("auth.profile"))


@bp.route("/profile/sessions/end-all", methods=["POST"])
@login_required
def end_all_sessions():
    """Sign out everywhere: every session of the user, this one too."""
    user = current_user._get_current_object()
    record_event("session.ended_all", user=user)
    sessions.end_all(user.id)
    logout_user()  # this session ended with the others
    flash(_("You are signed out everywhere."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/language", methods=["POST"])
def set_language():
    """Remember the chosen language: on the profile when signed in, else in the session."""
    locale = request.form.get("locale", "")
    if locale not in SUPPORTED_LOCALES:
        flash(_("Choose one of the offered languages."), "error")
    elif current_user.is_authenticated:
        current_user.locale = locale
        db.session.commit()
    else:
        session["locale"] = locale
    return redirect(_back_to() or safe_next(request.form.get("next")) or url_for("main.home"))


def _back_to() -> str | None:
    """The page the form was sent from. After an htmx search pushed a new URL, the
    Referer has it while the form's hidden field still holds the URL of the first load."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


# Its routes are on this blueprint (the profile page's tokens).
import portal.accounts.token_views  # noqa: E402, F401
