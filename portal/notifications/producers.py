"""What makes notifications in the core: the core's events (``portal.events.emit`` hands each
one here before the plugins hear of it), a new comment, workshop invitations, an award.

* an action's owner set to someone else than who saved it: "assignment" to them (or
  "decision" when the action was made from a workshop's decision);
* a comment: "mention" to the people it mentions, "change" to the action's followers;
* a change of a programme, plan, action or workshop: "change" to its followers (an action
  added to a plan: to the plan's followers);
* invitations to a workshop: "invitation"; a label awarded: "award" to the cluster's people.

Who causes it is never told; changes the system makes without a person (commands, the demo
data) tell nobody. People follow what they create, and the actions they own, by default (they
can unfollow on its page).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from portal.extensions import db
from portal.notifications import services

WATCHED_EVENTS = {
    "programme_saved": ("programme", "programme"),
    "plan_saved": ("plan", "plan"),
    "workshop_saved": ("workshop", "workshop"),
    "action_saved": ("action", "action"),
}
# Changes nobody needs to hear of.
QUIET_FIELDS = frozenset({"version", "updated_at", "sequence"})


def on_event(event: str, tenant_id: int, **values: Any) -> None:
    """Called for every core event after its change is committed; commits what it writes."""
    if event not in WATCHED_EVENTS:
        return
    subject_type, argument = WATCHED_EVENTS[event]
    subject = values.get(argument)
    user = values.get("user")
    if subject is None or getattr(subject, "id", None) is None or user is None:
        return  # made by the system (a command, the demo): nobody is told
    created = bool(values.get("created"))
    changes = {k: v for k, v in (values.get("changes") or {}).items() if k not in QUIET_FIELDS}
    wrote = False
    if created and user is not None:
        wrote |= services.watch(user, subject_type, subject.id, tenant_id)
    if subject_type == "action":
        wrote |= _action(subject, tenant_id, user, created, changes)
    elif changes and not created:
        wrote |= _tell_followers(
            subject_type, subject.id, tenant_id, user, {"fields": sorted(changes)}
        )
    if wrote:
        db.session.commit()


def _action(action: Any, tenant_id: int, user: Any, created: bool, changes: dict) -> bool:
    wrote = False
    user_id = getattr(user, "id", None)
    new_owner = None
    if created and action.owner_id:
        new_owner = action.owner_id
    elif "owner_id" in changes and changes["owner_id"][1]:
        new_owner = changes["owner_id"][1]
    if new_owner is not None:
        wrote |= services.watch(new_owner, "action", action.id, tenant_id)
        if new_owner != user_id:
            params: dict[str, Any] = {"title": action.title}
            kind = "assignment"
            if created and action.workshop_id:
                from portal.workshops.models import Workshop

                kind = "decision"
                params["workshop"] = (
                    db.session.scalar(
                        select(Workshop.title).where(Workshop.id == action.workshop_id)
                    )
                    or ""
                )
            wrote |= bool(
                services.notify(
                    [new_owner],
                    kind,
                    tenant_id=tenant_id,
                    subject_type="action",
                    subject_id=action.id,
                    actor=user,
                    params=params,
                )
            )
    told_already = {new_owner}
    if created:
        params = {"event": "action_added", "action": action.title}
        wrote |= _tell_followers("plan", action.plan_id, tenant_id, user, params, told_already)
    elif changes:
        params = {"fields": sorted(changes), "title": action.title}
        wrote |= _tell_followers("action", action.id, tenant_id, user, params, told_already)
    return wrote


def _tell_followers(
    subject_type: str,
    subject_id: int,
    tenant_id: int,
    actor: Any,
    params: dict,
    besides: Iterable[int] = (),
) -> bool:
    """A "change" to the followers of the subject, but those ``besides`` (told otherwise)."""
    followers = services.watchers(subject_type, subject_id) - set(besides)
    return bool(
        services.notify(
            followers,
            "change",
            tenant_id=tenant_id,
            subject_type=subject_type,
            subject_id=subject_id,
            actor=actor,
            params=params,
        )
    )


def comment_added(author: Any, action: Any, comment: Any, mentioned: list[Any]) -> None:
    """A comment on an action (in its transaction; the caller commits): "mention" to the
    people it mentions, "change" to the action's other followers."""
    excerpt = (comment.body or "")[:500]
    services.notify(
        mentioned,
        "mention",
        tenant_id=action.tenant_id,
        subject_type="action",
        subject_id=action.id,
        actor=author,
        params={"title": action.title, "excerpt": excerpt},
    )
    params = {"event": "comment", "title": action.title, "excerpt": excerpt}
    _tell_followers(
        "action", action.id, action.tenant_id, author, params, {p.id for p in mentioned}
    )


def workshop_invited(workshop: Any, actor: Any) -> None:
    """Everyone invited (in person or through a cluster) and not told of it yet, not
    registered, not an observer (in the caller's transaction)."""
    from portal.accounts.models import Membership, Role, User
    from portal.notifications.models import Notification
    from portal.workshops.comms import _holding, _invited

    db.session.flush()
    told = select(Notification.recipient_id).where(
        Notification.kind == "invitation",
        Notification.subject_type == "workshop",
        Notification.subject_id == workshop.id,
    )
    people = db.session.scalars(
        select(User.id)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.tenant_id == workshop.tenant_id,
            Membership.role != Role.OBSERVER,
            _invited(workshop),
            ~_holding(workshop),
            User.id.not_in(told),
        )
    ).all()
    services.notify(
        people,
        "invitation",
        tenant_id=workshop.tenant_id,
        subject_type="workshop",
        subject_id=workshop.id,
        actor=actor,
        params={"title": workshop.title},
    )


def label_awarded(label: Any, actor: Any) -> None:
    """The cluster's managers and members hear of its new label (in the caller's
    transaction)."""
    from portal.accounts.models import Membership, MembershipCluster

    people = db.session.scalars(
        select(Membership.user_id)
        .join(MembershipCluster, MembershipCluster.membership_id == Membership.id)
        .where(MembershipCluster.cluster_id == label.cluster_id)
    ).all()
    services.notify(
        people,
        "award",
        tenant_id=label.tenant_id,
        subject_type="cluster",
        subject_id=label.cluster_id,
        actor=actor,
        params={"scheme": label.scheme, "version": label.scheme_version, "level": label.level},
    )
