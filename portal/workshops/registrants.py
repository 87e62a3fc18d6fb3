"""The registrants of a workshop with their clusters and answers, for its coordinators: the
page's list (paged), the CSV and XLSX downloads, the attendance, and the attendance written
into the minutes. Every function runs a fixed number of queries, however many registered."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select, select

from portal.accounts.models import Membership, MembershipCluster, User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.i18n import REGISTRATION_STATUS_LABELS
from portal.permissions import may, require
from portal.web.pagination import Page, paginate
from portal.workshops import questions as qs
from portal.workshops.models import Registration, RegistrationStatus, Workshop
from portal.workshops.registration_models import RegistrationQuestion


@dataclass
class Registrant:
    registration: Registration
    name: str
    email: str
    clusters: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)

    def answer(self, question: RegistrationQuestion) -> str:
        return qs.shown_answer(question, self.answers.get(str(question.id)))


def _registrants_query(workshop_id: int, *, registered_only: bool = False) -> Select:
    """Registered first, then the waiting list, each in the order people asked."""
    statuses = [RegistrationStatus.REGISTERED]
    if not registered_only:
        statuses.append(RegistrationStatus.WAITLISTED)
    return (
        select(Registration, User.name, User.email)
        .join(User, User.id == Registration.user_id)
        .where(Registration.workshop_id == workshop_id, Registration.status.in_(statuses))
        .order_by(
            Registration.status != RegistrationStatus.REGISTERED,
            Registration.requested_at,
            Registration.id,
        )
    )


def clusters_of(user_ids: list[int]) -> dict[int, list[str]]:
    """The names of the clusters each person works for in this region (one query)."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(Membership.user_id, Cluster.name)
        .join(MembershipCluster, MembershipCluster.membership_id == Membership.id)
        .join(Cluster, Cluster.id == MembershipCluster.cluster_id)
        .where(Membership.user_id.in_(user_ids))
        .order_by(Cluster.name)
    )
    found: dict[int, list[str]] = {}
    for user_id, name in rows:
        found.setdefault(user_id, []).append(name)
    return found


def _complete(rows) -> list[Registrant]:
    rows = list(rows)
    answers = qs.answers_by_registration([reg.id for reg, _n, _e in rows])
    clusters = clusters_of([reg.user_id for reg, _n, _e in rows])
    return [
        Registrant(reg, name, email, clusters.get(reg.user_id, []), answers.get(reg.id, {}))
        for reg, name, email in rows
    ]


def registrants_page(workshop: Workshop, page: int, per_page: int) -> Page:
    """One page of registrants (four queries)."""
    found = paginate(_registrants_query(workshop.id), page, per_page, scalars=False)
    found.items = _complete(found.items)
    return found


def all_registrants(workshop: Workshop, *, registered_only: bool = False) -> list[Registrant]:
    return _complete(
        db.session.execute(_registrants_query(workshop.id, registered_only=registered_only))
    )


# --- downloads ----------------------------------------------------------------------------


def _when(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def _attended(registration: Registration) -> str:
    if registration.attended is None:
        return ""
    return _("Yes") if registration.attended else _("No")


def registrants_table(workshop: Workshop, zone: str) -> tuple[list[str], list[list]]:
    """Header and rows: the person, their clusters, status, when they asked, attendance, and
    an answer per question asked now (removed questions' answers are left out)."""
    asked = qs.questions_of(workshop.id)
    header = [_("Name"), _("E-mail"), _("Clusters"), _("Status"), _("Registered at")]
    header += [_("Attended")] + [qs.label_of(q) for q in asked]
    rows = []
    for person in all_registrants(workshop):
        reg = person.registration
        rows.append(
            [
                person.name,
                person.email,
                "; ".join(person.clusters),
                str(REGISTRATION_STATUS_LABELS[reg.status.value]),
                _when(reg.requested_at, zone),
                _attended(reg),
                *(person.answer(q) for q in asked),
            ]
        )
    return header, rows


def attendance_table(workshop: Workshop) -> tuple[list[str], list[list]]:
    """Everyone with a seat, and whether they attended (empty: not marked)."""
    header = [_("Name"), _("E-mail"), _("Clusters"), _("Attended")]
    rows = [
        [p.name, p.email, "; ".join(p.clusters), _attended(p.registration)]
        for p in all_registrants(workshop, registered_only=True)
    ]
    return header, rows


# --- attendance into the minutes ----------------------------------------------------------

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def _md(text: str) -> str:
    """Plain text inside Markdown: its special characters escaped, on one line."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def attendance_markdown(workshop: Workshop) -> str | None:
    """Who attended, by cluster, as a Markdown section (None when nobody is marked)."""
    present = [
        p for p in all_registrants(workshop, registered_only=True) if p.registration.attended
    ]
    if not present:
        return None
    by_cluster: dict[str, list[str]] = {}
    without: list[str] = []
    for person in present:
        for cluster in person.clusters:
            by_cluster.setdefault(cluster, []).append(person.name)
        if not person.clusters:
            without.append(person.name)
    count = len(present)
    lines = [
        "## " + _("Attendance"),
        "",
        ngettext("%(num)d person attended.", "%(num)d people attended.", count),
        "",
    ]
    for cluster in sorted(by_cluster, key=str.lower):
        names = ", ".join(_md(n) for n in sorted(by_cluster[cluster], key=str.lower))
        lines.append(f"- **{_md(cluster)}**: {names}")
    if without:
        names = ", ".join(_md(n) for n in sorted(without, key=str.lower))
        lines.append(f"- **{_md(_('No cluster'))}**: {names}")
    return "\n".join(lines) + "\n"


# The copied section is marked (comments nobody sees on the page) so a second copy replaces
# the first instead of adding another, in whatever language either was written.
START, END = "<!-- portal:attendance -->", "<!-- /portal:attendance -->"


def minutes_with_attendance(workshop: Workshop) -> str | None:
    section = attendance_markdown(workshop)
    if section is None:
        return None
    marked = f"{START}\n{section}{END}\n"
    minutes = (workshop.minutes_md or "").rstrip()
    start, end = minutes.find(START), minutes.find(END)
    if start != -1 and end > start:
        rest = minutes[end + len(END) :].lstrip("\n")
        return minutes[:start] + marked + (f"\n{rest}" if rest else "")
    return f"{minutes}\n\n{marked}" if minutes else marked


def registrants_for(user: User, workshop: Workshop, page: int, per_page: int) -> tuple[Page, bool]:
    """One page of the registrants as the workshop page shows them to ``user``, and whether
    in full: the workshop's managers see e-mail, clusters and answers; everyone else who may
    view the workshop sees who is registered or waiting (names and status)."""
    require(user, "workshop.view", workshop)
    if may(user, "workshop.manage", workshop):
        return registrants_page(workshop, page, per_page), True
    found = paginate(_registrants_query(workshop.id), page, per_page, scalars=False)
    found.items = [Registrant(reg, name, "") for reg, name, _email in found.items]
    return found, False


def own_registrant(user: User, workshop: Workshop) -> Registrant | None:
    """The person's own registration (any status) with their answers, or None."""
    rows = db.session.execute(
        select(Registration, User.name, User.email)
        .join(User, User.id == Registration.user_id)
        .where(Registration.workshop_id == workshop.id, Registration.user_id == user.id)
    ).all()
    return _complete(rows)[0] if rows else None
