"""The kinds of notification: the core's own and the plugins' (``notification_kinds`` hook).

A kind words a notification in the reader's language from its stored parameters, the title
of what it is about and who caused it; it says how it is delivered unless the person chose
otherwise. What a notification is about (its subject) is loaded in one query per subject
type for a whole page: the core knows programmes, plans, actions, workshops and clusters; a
plugin's kind brings a loader for its own subject type.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import Delivery


@dataclass(frozen=True)
class Subject:
    """What a notification is about, as shown: its title and page (relative URL)."""

    title: str
    url: str


# subject ids -> {id: Subject}; one query for all of them, run inside the tenant's request.
SubjectLoader = Callable[[Collection[int]], dict[int, Subject]]


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notification (``toolkit.NotificationKind``).

    ``id``: unique, a plugin's prefixed with its name (``"joint.status"``); ``label``: its
    name on the notification settings page (lazy); ``text(params, title, actor)``: the words,
    in the current language (``params`` as stored, ``title`` of the subject, ``actor`` the
    name of who caused it, "" if nobody); ``default``: "email", "digest" or "app";
    ``deliveries``: the choices offered; ``subject_type`` and ``load_subjects``: a plugin's
    own subjects (loaded in one query for a page); ``mail_kind``: a mail setting
    (``portal.mail.preferences``) that must also be on for its e-mail; ``digest_heading``:
    its section in the daily digest (lazy; default "Your notifications")."""

    id: str
    label: Any
    text: Callable[[dict[str, Any], str, str], str]
    default: str = Delivery.APP
    deliveries: tuple[str, ...] = Delivery.ALL
    subject_type: str = ""
    load_subjects: SubjectLoader | None = None
    mail_kind: str = ""
    digest_heading: Any = None

    @property
    def from_plugin(self) -> bool:
        return "." in self.id


DELIVERY_LABELS = {
    Delivery.EMAIL: _l("E-mail at once"),
    Delivery.DIGEST: _l("In the daily digest"),
    Delivery.APP: _l("Only here"),
}

FIELD_LABELS = {
    "title": _l("title"),
    "name": _l("name"),
    "status": _l("status"),
    "owner_id": _l("owner"),
    "due_date": _l("due date"),
    "start_date": _l("start date"),
    "end_date": _l("end date"),
    "progress": _l("progress"),
    "priority": _l("priority"),
    "weight": _l("weight"),
    "description": _l("description"),
    "goals": _l("goals"),
    "focus_areas": _l("focus areas"),
    "clusters": _l("clusters"),
    "indicators": _l("indicators"),
    "day": _l("day"),
    "start_time": _l("start time"),
    "end_time": _l("end time"),
    "location": _l("place"),
    "online_url": _l("online address"),
    "capacity": _l("capacity"),
    "agenda": _l("agenda"),
    "minutes": _l("minutes"),
}


def field_names(fields: Collection[str]) -> str:
    return ", ".join(str(FIELD_LABELS.get(f, f.replace("_", " "))) for f in fields)


def _change_text(params: dict[str, Any], title: str, actor: str) -> str:
    event = params.get("event", "changed")
    if event == "comment":
        return _("%(actor)s commented on “%(title)s”.", actor=actor or _("Someone"), title=title)
    if event == "action_added":
        return _(
            "%(actor)s added the action “%(action)s” to “%(title)s”.",
            actor=actor or _("Someone"),
            action=params.get("action", ""),
            title=title,
        )
    fields = params.get("fields") or []
    if fields:
        return _(
            "%(actor)s changed “%(title)s”: %(fields)s.",
            actor=actor or _("Someone"),
            title=title,
            fields=field_names(fields),
        )
    return _("%(actor)s changed “%(title)s”.", actor=actor or _("Someone"), title=title)


def _level_name(params: dict[str, Any]) -> str:
    from portal.labels.registry import level_badge

    return level_badge(
        params.get("scheme", ""), params.get("version", ""), params.get("level", "")
    )[0]


def _scheme_name(params: dict[str, Any]) -> str:
    from portal.labels.registry import scheme_title

    return scheme_title(params.get("scheme", ""))


CORE_KINDS = [
    NotificationKind(
        "mention",
        _l("Comments that mention me"),
        lambda p, title, actor: _(
            "%(actor)s mentioned you in a comment on “%(title)s”.",
            actor=actor or _("Someone"),
            title=title,
        ),
        default=Delivery.EMAIL,
        mail_kind="mentions",
    ),
    NotificationKind(
        "assignment",
        _l("An action is given to me"),
        lambda p, title, actor: (
            _("%(actor)s made you the owner of the action “%(title)s”.", actor=actor, title=title)
            if actor
            else _("You are now the owner of the action “%(title)s”.", title=title)
        ),
        default=Delivery.DIGEST,
    ),
    NotificationKind(
        "decision",
        _l("A workshop's decision became my action"),
        lambda p, title, actor: _(
            "A decision of the workshop “%(workshop)s” became your action “%(title)s”.",
            workshop=p.get("workshop", ""),
            title=title,
        ),
        default=Delivery.DIGEST,
    ),
    NotificationKind(
        "invitation",
        _l(
            "Invitations to workshops (the invitation itself is mailed as your workshop mail "
            "setting says)"
        ),
        lambda p, title, actor: _("You are invited to the workshop “%(title)s”.", title=title),
        default=Delivery.APP,
        # The invitation's own mail (with its calendar file) is the workshops mail.
        deliveries=(Delivery.DIGEST, Delivery.APP),
    ),
    NotificationKind(
        "award",
        _l("A label awarded to my cluster"),
        lambda p, title, actor: _(
            "%(cluster)s was awarded the label %(level)s (%(scheme)s).",
            cluster=title,
            level=_level_name(p),
            scheme=_scheme_name(p),
        ),
        default=Delivery.DIGEST,
    ),
    NotificationKind(
        "change",
        _l("Changes to what I follow"),
        _change_text,
        default=Delivery.DIGEST,
    ),
]


# --- the core's subjects ------------------------------------------------------------------


def _loader(model_path: str, title_attr: str, endpoint: str, arg: str) -> SubjectLoader:
    def load(ids: Collection[int]) -> dict[int, Subject]:
        module, name = model_path.rsplit(".", 1)
        model = getattr(__import__(module, fromlist=[name]), name)
        rows = db.session.execute(
            select(model.id, getattr(model, title_attr)).where(model.id.in_(sorted(ids)))
        ).all()
        return {i: Subject(title, url_for(endpoint, **{arg: i})) for i, title in rows}

    return load


CORE_SUBJECTS: dict[str, SubjectLoader] = {
    "programme": _loader(
        "portal.programmes.models.Programme", "name", "programmes.detail", "programme_id"
    ),
    "plan": _loader("portal.plans.models.Plan", "title", "plans.detail", "plan_id"),
    "action": _loader("portal.plans.models.Action", "title", "plans.action_detail", "action_id"),
    "workshop": _loader(
        "portal.workshops.models.Workshop", "title", "workshops.detail", "workshop_id"
    ),
    "cluster": _loader("portal.clusters.models.Cluster", "name", "clusters.detail", "cluster_id"),
}
WATCHABLE = ("programme", "plan", "action", "workshop")


# --- the registry -------------------------------------------------------------------------

EXTENSION = "portal_notification_kinds"
OWNERS = "portal_notification_kind_plugins"


def kinds() -> dict[str, NotificationKind]:
    """Every kind, the core's and the installed plugins' (read once per app)."""
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        found = {kind.id: kind for kind in CORE_KINDS}
        owners: dict[str, str] = {}
        host = current_app.extensions["portal_plugins"]
        for plugin_name, answer in host.call_named("notification_kinds"):
            for kind in answer or ():
                if isinstance(kind, NotificationKind) and kind.id not in found:
                    found[kind.id] = kind
                    owners[kind.id] = plugin_name
                else:
                    current_app.logger.warning(
                        "notification kind %r of %s left out", kind, plugin_name
                    )
        current_app.extensions[EXTENSION] = found
        current_app.extensions[OWNERS] = owners
    return found


def plugin_of(kind_id: str) -> str | None:
    """The plugin that registers this kind (None: the core's, or nobody's any more)."""
    kinds()
    return current_app.extensions[OWNERS].get(kind_id)


def subject_loaders() -> dict[str, SubjectLoader]:
    loaders = dict(CORE_SUBJECTS)
    for kind in kinds().values():
        if kind.subject_type and kind.load_subjects and kind.subject_type not in loaders:
            loaders[kind.subject_type] = kind.load_subjects
    return loaders


def unknown_kind(kind_id: str) -> NotificationKind:
    """A kind no installed plugin registers any more: still listed, in general words."""
    return NotificationKind(
        kind_id, kind_id, lambda p, title, actor: _("News about “%(title)s”.", title=title)
    )
