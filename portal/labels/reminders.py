"""Reminders before a label expires (a section of the daily digest, ``portal.digest``).

Lapsed labels are a known problem: a cluster's managers and the region's coordinators are told
6 months, 3 months and 1 month before a label expires, once at each stage (key
``label-expiry:<label id>:<stage>``), if they keep mail about labels about to lapse on. A label
renewed by a later label of the same scheme and level (or higher) that expires later gets no
reminder. Each reminder says whether a renewal is planned (an assessment planned on the label
calendar on or before the label's latest renewal date, ``portal.labels.calendar``): when none
is, it says so with the last day for the renewal's assessment and links to the calendar, where
the people who can act plan one. One item per label and stage, not a second one, so a label
lapsing with no renewal planned is not listed twice in one mail. Three queries per region,
whatever the number of labels or people.
"""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Membership, MembershipCluster, Role, User
from portal.digest import DigestItem, Found, receives_digest, reminder_link
from portal.extensions import db
from portal.formatting import format_date
from portal.labels.calendar import counts_as_renewal
from portal.labels.calendar_data import as_data, planned_assessments
from portal.labels.models import Label
from portal.labels.registry import schemes
from portal.labels.scheme import LabelData, LabelScheme, add_months
from portal.mail.compose import recipient_locale
from portal.tenancy.models import Tenant

STAGES = (1, 3, 6)  # months before expiry, tightest first


def _stage(expires_on: date, today: date) -> int | None:
    return next((m for m in STAGES if expires_on <= add_months(today, m)), None)


def _renewed(label: Label, labels: list[Label]) -> bool:
    """Whether another label of the cluster under the same scheme, at the same level or
    higher, runs longer."""
    entry = schemes().get((label.scheme, label.scheme_version))
    order = [lvl.id for lvl in entry[1].levels] if entry else [label.level]
    rank = order.index(label.level) if label.level in order else 0
    return any(
        other.id != label.id
        and other.cluster_id == label.cluster_id
        and other.scheme == label.scheme
        and other.expires_on > label.expires_on
        and (order.index(other.level) if other.level in order else -1) >= rank
        for other in labels
    )


def _names(label: Label) -> tuple[str, str]:
    entry = schemes().get((label.scheme, label.scheme_version))
    if entry is None:  # the plugin is gone: the stored ids still say what it was
        return label.level, label.scheme
    level = entry[1].level(label.level)
    return (str(level.name) if level else label.level), str(entry[1].title)


def _renewal(label: Label, planned, today: date):
    """The first assessment planned in time to renew ``label`` (None: no renewal planned)."""
    entry = schemes().get((label.scheme, label.scheme_version))
    scheme = entry[1] if entry else LabelScheme(label.scheme, label.scheme_version, "", ())
    data = LabelData(label.scheme, label.level, label.awarded_on, label.expires_on)
    return next((p for p in planned if counts_as_renewal(scheme, p, data, today)), None)


def _detail(label: Label, scheme: str, renewal) -> str:
    from portal.labels.planning import KIND_LABELS

    if renewal is not None:
        return _(
            "%(scheme)s. A renewal is planned: %(kind)s on %(day)s.",
            scheme=scheme,
            kind=KIND_LABELS.get(renewal.kind, renewal.kind),
            day=format_date(renewal.planned_on, "long"),
        )
    return _(
        "%(scheme)s. No renewal is planned: the cluster needs a new benchmarking or audit on "
        "or before %(day)s. The label calendar shows what is missing; plan the assessment "
        "there.",
        scheme=scheme,
        day=format_date(label.expires_on, "long"),
    )


def label_expiry_items(tenant: Tenant, today: date) -> Found:
    horizon = add_months(today, STAGES[-1])
    # Every label of the clusters with one expiring soon (to see renewals), in one query.
    expiring_clusters = select(Label.cluster_id).where(
        Label.expires_on >= today, Label.expires_on <= horizon
    )
    labels = db.session.scalars(
        select(Label)
        .where(Label.cluster_id.in_(expiring_clusters))
        .options(joinedload(Label.cluster))
        .order_by(Label.expires_on, Label.id)
    ).all()
    due = [
        lbl for lbl in labels if today <= lbl.expires_on <= horizon and not _renewed(lbl, labels)
    ]
    if not due:
        return []
    people = db.session.execute(
        select(User, Membership.role, MembershipCluster.cluster_id)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(MembershipCluster, MembershipCluster.membership_id == Membership.id)
        .where(
            receives_digest(tenant, today, "label_expiry"),
            Membership.tenant_id == tenant.id,
            Membership.active.is_(True),
            or_(
                Membership.role == Role.COORDINATOR,
                (Membership.role == Role.CLUSTER_MANAGER)
                & MembershipCluster.cluster_id.in_({lbl.cluster_id for lbl in due}),
            ),
        )
        .order_by(User.id)
    ).all()
    coordinators = {user.id: user for user, role, _c in people if role == Role.COORDINATOR}
    managers: dict[int, dict[int, User]] = {}
    for user, role, cluster_id in people:
        if role == Role.CLUSTER_MANAGER:
            managers.setdefault(cluster_id, {})[user.id] = user
    register = reminder_link("labels.register", tenant)
    planned = planned_assessments({lbl.cluster_id for lbl in due})
    found = []
    for label in due:
        stage = _stage(label.expires_on, today)
        key = f"label-expiry:{label.id}:{stage}"
        link = reminder_link("labels.calendar", tenant, cluster_id=label.cluster_id)
        renewal = _renewal(label, as_data(planned.get(label.cluster_id, [])), today)
        for person in {**coordinators, **managers.get(label.cluster_id, {})}.values():
            with force_locale(recipient_locale(person, tenant)):
                level, scheme = _names(label)
                item = DigestItem(
                    person.id,
                    _("Labels about to lapse"),
                    _(
                        "The %(level)s label of %(cluster)s",
                        level=level,
                        cluster=label.cluster.name,
                    ),
                    link=link,
                    detail=_detail(label, scheme, renewal),
                    when=_("expires on %(day)s", day=format_date(label.expires_on, "long")),
                    key=key,
                    more_link=register,
                    kind="label_expiry",
                )
            found.append((person, item))
    return found
