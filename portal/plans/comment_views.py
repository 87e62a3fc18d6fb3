"""A comment's edit (inline with htmx on the same URL, or its own page without JavaScript),
deletion and hiding. Registered on the plans blueprint (portal.plans.views)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal.errors import ConflictError, ServiceError
from portal.permissions import require
from portal.plans import comments
from portal.plans.forms import CommentEditForm, CommentHideForm
from portal.plans.models import Action, ActionComment
from portal.plans.views import bp
from portal.tenancy import get_or_404
from portal.web.forms import show_service_error
from portal.web.htmx import is_htmx


def _comment(action_id: int, comment_id: int) -> tuple[Action, ActionComment]:
    action = get_or_404(Action, action_id, joinedload(Action.plan))
    require(current_user, "action.view", action)
    comment = get_or_404(
        ActionComment,
        comment_id,
        joinedload(ActionComment.author),
        joinedload(ActionComment.hidden_by),
        belongs_to={"action_id": action.id},
    )
    return action, comment


def _names(comment: ActionComment) -> dict[int, str]:
    return comments.mentioned_names([comment])


def _back(action: Action, comment: ActionComment | None = None) -> str:
    anchor = f"#comment-{comment.id}" if comment is not None else "#comments"
    return url_for("plans.action_detail", action_id=action.id) + anchor


@bp.route("/actions/<int:action_id>/comments/<int:comment_id>/edit", methods=["GET", "POST"])
def comment_edit(action_id: int, comment_id: int):
    """The author edits their comment: htmx swaps the comment for this form and back; without
    JavaScript it is a page of its own."""
    action, comment = _comment(action_id, comment_id)
    require(current_user, "comment.edit", comment)
    form = CommentEditForm(obj=comment)
    if request.method == "GET":
        form.version.data = comment.version
    conflict = None
    if form.validate_on_submit():
        try:
            comments.edit_comment(current_user, comment, form.body.data, form)
        except ConflictError as exc:
            conflict = exc
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            if is_htmx():
                return render_template(
                    "plans/_comment.html", c=comment, action=action, mentioned_names=_names(comment)
                )
            flash(_("The comment is saved."), "success")
            return redirect(_back(action, comment))
    status = 409 if conflict else (422 if form.errors else 200)
    template = "plans/_comment_form.html" if is_htmx() else "plans/comment_edit.html"
    return render_template(
        template, form=form, c=comment, action=action, plan=action.plan, conflict=conflict
    ), status


@bp.route("/actions/<int:action_id>/comments/<int:comment_id>/delete", methods=["POST"])
def comment_delete(action_id: int, comment_id: int):
    action, comment = _comment(action_id, comment_id)
    comments.delete_comment(current_user, comment)
    if is_htmx():
        return "", 200  # the comment's element is swapped for nothing
    flash(_("The comment is deleted."), "success")
    return redirect(_back(action))


@bp.route("/actions/<int:action_id>/comments/<int:comment_id>/hide", methods=["POST"])
def comment_hide(action_id: int, comment_id: int):
    """A coordinator hides the comment (``hidden=1``) or shows it again (``hidden=0``)."""
    action, comment = _comment(action_id, comment_id)
    require(current_user, "comment.hide", comment)
    form = CommentHideForm()
    hidden = request.form.get("hidden", "1") != "0"
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(_back(action, comment))
    try:
        comments.set_hidden(current_user, comment, hidden, form)
    except ConflictError as exc:
        if is_htmx():
            return render_template(
                "plans/_comment.html",
                c=comment,
                action=action,
                conflict=exc,
                mentioned_names=_names(comment),
            ), 409
        flash(exc.message, "error")  # the page then shows the comment as it is now
        return redirect(_back(action, comment))
    if is_htmx():
        return render_template(
            "plans/_comment.html", c=comment, action=action, mentioned_names=_names(comment)
        )
    flash(_("The comment is hidden.") if hidden else _("The comment is shown again."), "success")
    return redirect(_back(action, comment))
