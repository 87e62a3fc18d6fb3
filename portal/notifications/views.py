"""The notifications page of a region, following and unfollowing, and the person's
notification settings (outside any region: they are the person's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.extensions import db
from portal.keeps import Keep, reading_request
from portal.notifications import services
from portal.notifications.delivery import choose, settings_of
from portal.notifications.kinds import DELIVERY_LABELS, WATCHABLE, kinds
from portal.notifications.models import Notification
from portal.permissions import require
from portal.tenancy import cache_scopes
from portal.tenancy.versioning import scope_versions
from portal.web.htmx import is_htmx
from portal.web.pagination import page_args, paginate
from portal.web.personal import depends_on_viewer

bp = Blueprint("notifications", __name__, url_prefix="/<tenant>")
settings_bp = Blueprint("notification_settings", __name__)

PER_PAGE = 25


# The header's count and the follow buttons, asked again on every answer (kept pages fill
# them in per reader): kept by each process under the versions they are worked out from, which
# a kept page's answer has read already. A notification touches its recipient's inbox; a
# follow (an unlisted table) and a bulk "all read" the region.
UNREAD_COUNTS = Keep("notification unread counts", at_most=10_000)
FOLLOWING = Keep("follow buttons", at_most=10_000)


def _kept(keep: Keep, key: tuple, scopes: tuple[str, ...], make: Callable[[], Any]) -> Any:
    if not reading_request():
        return make()  # a write in this transaction may have changed it, versions not yet
    tenant_id = key[0]
    return keep.get_or_make((*key, scope_versions(tenant_id, scopes)), make)


@bp.app_template_global("notification_unread")
def unread_in_header() -> int | None:
    """The header's unread count: one query per change of the reader's inbox, None outside
    a region."""
    tenant = g.get("tenant")
    if tenant is None or not current_user.is_authenticated:
        return None
    depends_on_viewer()  # in a shared page's header it is a part (templates/_account_links.html)
    if "notification_unread" not in g:
        user_id = current_user.id
        g.notification_unread = _kept(
            UNREAD_COUNTS,
            (tenant.id, user_id),
            (cache_scopes.REGION, cache_scopes.inbox(user_id)),
            lambda: services.unread_count(current_user, tenant.id),
        )
    return g.notification_unread


def _mine(notification_id: int) -> Notification:
    """The person's own notification in this region, or 404 (another's, another region's)."""
    found = db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id, services.mine(current_user, g.tenant.id)
        )
    )
    if found is None:
        abort(404)
    return found


@bp.route("/notifications")
def index():
    require(current_user, "tenant.view", g.tenant)
    page, per_page = page_args(PER_PAGE)
    stmt = (
        select(Notification)
        .where(services.mine(current_user, g.tenant.id))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    listed = paginate(stmt, page, per_page)
    return render_template(
        "notifications/index.html",
        pager=listed,
        items=services.worded(listed.items),
        unread=unread_in_header() or 0,
    )


@bp.route("/notifications/<int:notification_id>")
def open_one(notification_id: int):
    """Follow a notification: marked read, then on to what it is about."""
    require(current_user, "tenant.view", g.tenant)
    notification = _mine(notification_id)
    services.mark_read(notification)
    shown = services.worded([notification])[0]
    db.session.commit()
    return redirect(shown.url or url_for("notifications.index"))


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
def read_one(notification_id: int):
    require(current_user, "tenant.view", g.tenant)
    notification = _mine(notification_id)
    services.mark_read(notification)
    db.session.commit()
    if is_htmx():
        g.pop("notification_unread", None)
        item = services.worded([notification])[0]
        return render_template("notifications/_item.html", item=item, oob_count=True)
    return redirect(_back(url_for("notifications.index")))


@bp.route("/notifications/read", methods=["POST"])
def read_all():
    require(current_user, "tenant.view", g.tenant)
    services.mark_all_read(current_user, g.tenant.id)
    db.session.commit()
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


# --- following ----------------------------------------------------------------------------


def _subject(subject_type: str, subject_id: int):
    from portal.plans.models import Action, Plan
    from portal.programmes.models import Programme
    from portal.tenancy import get_or_404
    from portal.workshops.models import Workshop

    models = {"programme": Programme, "plan": Plan, "action": Action, "workshop": Workshop}
    if subject_type not in WATCHABLE:
        abort(404)
    obj = get_or_404(models[subject_type], subject_id)
    require(current_user, f"{subject_type}.view", obj)
    return obj


def _back(default: str) -> str:
    """Where the form came from, if it is a page of this portal."""
    target = request.form.get("next") or ""
    parsed = urlparse(target)
    if target.startswith("/") and not target.startswith("//") and not parsed.netloc:
        return target
    return default


@bp.route("/watch/<subject_type>/<int:subject_id>", methods=["POST"])
def watch(subject_type: str, subject_id: int):
    """Follow (``follow=1``) or stop following a programme, plan, action or workshop."""
    obj = _subject(subject_type, subject_id)
    follow = request.form.get("follow") == "1"
    if follow:
        services.watch(current_user, subject_type, obj.id, g.tenant.id)
        message = _("You follow it now: you hear of its changes.")
    else:
        services.unwatch(current_user, subject_type, obj.id)
        message = _("You no longer follow it.")
    db.session.commit()
    if is_htmx():
        return render_template(
            "notifications/_watch.html",
            subject_type=subject_type,
            subject_id=obj.id,
            watching=follow,
            said=message,
        )
    flash(message, "success")
    return redirect(_back(url_for("main.dashboard")))


# --- settings -------------------------------------------------------------------------------


@settings_bp.route("/profile/notifications", methods=["GET", "POST"])
@login_required
def settings():
    registered = kinds()
    current = settings_of(current_user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        chosen = {}
        for kind_id, info in registered.items():
            value = request.form.get(f"kind-{kind_id}", current[kind_id])
            if value not in info.deliveries:
                errors[kind_id] = _("Choose one of the offered ways.")
            chosen[kind_id] = value
        if not errors:
            choose(current_user, chosen)
            db.session.commit()
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notification_settings.settings"))
        current = chosen
    return render_template(
        "notifications/settings.html",
        kinds=registered,
        current=current,
        errors=errors,
        delivery_labels=DELIVERY_LABELS,
    ), (422 if errors else 200)


@bp.app_template_global("watching")
def watching_in_page(subject_type: str, subject_id: int) -> bool:
    """Whether the reader follows it (for its page's follow button): one query."""
    if not current_user.is_authenticated:
        return False
    depends_on_viewer()  # shared pages ask in a part (notifications/_watch_button.html)
    tenant = g.get("tenant")
    if tenant is None:
        return services.is_watching(current_user, subject_type, subject_id)
    return _kept(
        FOLLOWING,
        (tenant.id, current_user.id, subject_type, subject_id),
        (cache_scopes.REGION,),
        lambda: services.is_watching(current_user, subject_type, subject_id),
    )
