"""Demo joint actions (idempotent), in the demo region's first programme, if it has one:

* "Felles merkevare og kommunikasjon" (joint branding), decided at the kick-off workshop, in progress: four
  clusters with their contributions (progress, money and hours spent, what doing it alone
  would have cost; one gave no estimate), and one cluster that left;
* "Økonomisk bærekraftige medlemstjenester" (member services), planned, linked to the ESCA indicators
  "services" and "member_satisfaction";
* "Felles presse- og medietrening" (media training), done, due months ago and linked to "media recognition",
  so the effect section has rounds before and after to compare. The ESCA demo gives three
  clusters rounds; two of them did not take part. Two participants get a round before and
  one after the training here (only when they have no round in the set yet), so each group
  has the two clusters it needs.

Everything goes through the plugin's services with ``user=None`` (the system) and through the
toolkit. A joint action whose title exists in the programme is left alone.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from portal.toolkit import (
    Cluster,
    Programme,
    User,
    Workshop,
    add_months,
    db,
    find_indicator_set,
    latest_rounds,
    plugin_enabled,
    role_in,
    save_round,
    tenant_scope,
)
from portal_joint import services
from portal_joint.models import JointAction

SET_ID, SET_VERSION = "esca-gold", "2013"
BRANDING = "Felles merkevare og kommunikasjon"
SERVICES = "Økonomisk bærekraftige medlemstjenester"
MEDIA = "Felles presse- og medietrening"
LEAD_EMAIL = "manager@nordland.example"
COORDINATOR_EMAIL = "coordinator@nordland.example"
MEMBER_EMAIL = "member@nordland.example"
ASSESSOR = "ESCA-ekspert (demo)"


class _Region:
    """What the demo needs of a region: its clusters (by demo name, or else by position),
    people, workshop and, when switched on, the ESCA indicator set."""

    def __init__(self, tenant, programme, today: date):
        self.tenant = tenant
        self.programme = programme
        clusters = db.session.scalars(select(Cluster).order_by(Cluster.name)).all()
        self.by_name = {c.name: c for c in clusters}
        self.ordered = clusters
        people = db.session.scalars(
            select(User).where(User.email.in_([LEAD_EMAIL, COORDINATOR_EMAIL, MEMBER_EMAIL]))
        ).all()
        self.people = {u.email: u for u in people if role_in(u, tenant) is not None}
        self.workshop = db.session.scalar(
            select(Workshop)
            .where(Workshop.programme_id == programme.id, Workshop.day <= today)
            .order_by(Workshop.day, Workshop.id)
            .limit(1)
        )
        found = find_indicator_set(SET_ID, SET_VERSION)
        self.esca = found if found is not None and plugin_enabled("esca", tenant) else None

    def cluster(self, name: str, position: int) -> Cluster | None:
        if name in self.by_name:
            return self.by_name[name]
        return self.ordered[position] if position < len(self.ordered) else None

    def person_id(self, email: str) -> int | None:
        person = self.people.get(email)
        return person.id if person is not None else None

    def indicators(self, *ids: str) -> list[tuple[str, str, str]]:
        return [(SET_ID, SET_VERSION, i) for i in ids] if self.esca is not None else []


def _take_part(action, region: _Region, specs, joined_on: date) -> dict[int, object]:
    """specs: (cluster name, position, contribution). Answers the parts by cluster id."""
    parts = {}
    for name, position, contribution in specs:
        cluster = region.cluster(name, position)
        if cluster is None or cluster.id in parts:
            continue
        part = services.join(None, action, cluster, on=joined_on)
        services.update_part(None, part, contribution)
        parts[cluster.id] = part
    return parts


def _branding(region: _Region, today: date) -> None:
    start = today - timedelta(days=100)
    lead_cluster = region.cluster("Arktisk Mineralklynge", 1)
    workshop = region.workshop
    action = services.create_action(
        None,
        region.programme,
        {
            "title": BRANDING,
            "aim": "Én visuell profil, felles nettsider og en felles presseliste for klyngene i "
            "forumet: medlemmer og partnere ser én regional merkevare.",
            "lead_user_id": region.person_id(LEAD_EMAIL),
            "lead_cluster_id": lead_cluster.id if lead_cluster else None,
            "start_date": start,
            "due_date": today + timedelta(days=60),
            "budget_money": "240000",
            "budget_hours": "600",
            "workshop_id": workshop.id if workshop else None,
            "status": "in_progress",
        },
        origin="workshop" if workshop else "manual",
        indicators=region.indicators("communication", "internet_presence"),
    )
    lead, member = region.person_id(LEAD_EMAIL), region.person_id(MEMBER_EMAIL)
    _take_part(
        action,
        region,
        [
            (
                "Arktisk Mineralklynge",
                1,
                {
                    "tasks": "Visuell profil og de felles nettsidene.",
                    "owner_id": lead,
                    "status": "in_progress",
                    "progress": 60,
                    "hours_spent": "140",
                    "money_spent": "52000",
                    "solo_hours": "320",
                    "solo_money": "130000",
                },
            ),
            (
                "Helgeland Helseteknologi",
                3,
                {
                    "tasks": "Medlemshistorier og bilder.",
                    "owner_id": member,
                    "status": "in_progress",
                    "progress": 40,
                    "hours_spent": "60",
                    "money_spent": "18000",
                    "solo_hours": "180",
                    "solo_money": "75000",
                },
            ),
            (
                "Lofoten Sjømatinnovasjon",
                4,
                {
                    "tasks": "Felles presseliste og pressemeldinger.",
                    "status": "in_progress",
                    "progress": 30,
                    "hours_spent": "45",
                    "money_spent": "12500",
                },  # no estimate of doing it alone
            ),
            (
                "Polar Livsvitenskap",
                6,
                {
                    "tasks": "Oversettelser og de engelske sidene.",
                    "owner_id": lead,
                    "status": "in_progress",
                    "progress": 50,
                    "hours_spent": "80",
                    "money_spent": "21000",
                    "solo_hours": "220",
                    "solo_money": "90000",
                },
            ),
        ],
        start,
    )
    left = _take_part(
        action,
        region,
        [
            (
                "Nordland Maritime Næringer",
                5,
                {
                    "tasks": "Messestand.",
                    "status": "blocked",
                    "progress": 10,
                    "hours_spent": "12",
                    "money_spent": "3000",
                },
            )
        ],
        start,
    )
    for part in left.values():
        services.leave(None, part, today - timedelta(days=30))


def _services(region: _Region, today: date) -> None:
    workshop = region.workshop
    action = services.create_action(
        None,
        region.programme,
        {
            "title": SERVICES,
            "aim": "En felles katalog over medlemstjenester med priser som dekker kostnadene, "
            "slik at hver klynge tilbyr mer uten å betale alt alene.",
            "lead_user_id": region.person_id(COORDINATOR_EMAIL),
            "start_date": today + timedelta(days=20),
            "due_date": today + timedelta(days=200),
            "budget_money": "150000",
            "budget_hours": "400",
            "workshop_id": workshop.id if workshop else None,
            "status": "planned",
        },
        origin="workshop" if workshop else "manual",
        indicators=region.indicators("services", "member_satisfaction"),
    )
    _take_part(
        action,
        region,
        [
            ("Bodø Energiklynge", 2, {"tasks": "Kartlegging av dagens tjenester og priser."}),
            ("Helgeland Helseteknologi", 3, {"tasks": "Utkast til tjenestekatalog."}),
            ("Polar Livsvitenskap", 6, {"tasks": "Prismodell.", "solo_hours": "250"}),
        ],
        today,
    )


def _rounds_for(region: _Region, clusters, today: date, media=(2.0, 4.0)) -> None:
    """A round before and one after the media training for clusters without rounds;
    ``media``: their media recognition before and after."""
    indicator_set = region.esca
    have = {r.cluster_id for r in latest_rounds(SET_ID, SET_VERSION)}
    rng = random.Random(f"{region.tenant.slug}-joint")
    for cluster in clusters:
        if cluster.id in have:
            continue
        before = {
            i.id: float(min(i.maximum, max(i.minimum, 2 + rng.choice((0, 1, 1)))))
            for i in indicator_set.indicators
        }
        before["media_recognition"] = media[0]
        after = dict(before)
        after["media_recognition"] = media[1]
        after["communication"] = min(5.0, before["communication"] + 1)
        save_round(
            cluster, indicator_set, add_months(today, -14).replace(day=1), before, assessor=ASSESSOR
        )
        save_round(
            cluster, indicator_set, add_months(today, -3).replace(day=1), after, assessor=ASSESSOR
        )


def _media(region: _Region, today: date) -> None:
    start, due = add_months(today, -13), add_months(today, -4)
    helgeland = region.cluster("Helgeland Helseteknologi", 3)
    lofoten = region.cluster("Lofoten Sjømatinnovasjon", 4)
    polar = region.cluster("Polar Livsvitenskap", 6)
    # Three participants: the region's smallest group, so the effect may be shown.
    participants = [c for c in (helgeland, lofoten, polar) if c is not None]
    if region.esca is not None:
        _rounds_for(region, participants, today)
        # One more cluster that stayed out, so that the others reach the region's smallest
        # group (three in Nordland) beside the label demo's clusters; the label demo tells
        # its stories with the first clusters by name, which must have no rounds yet.
        maritime = region.cluster("Nordland Maritime Næringer", 5)
        if maritime is not None and maritime not in participants:
            _rounds_for(region, [maritime], today, media=(3.0, 2.5))
    action = services.create_action(
        None,
        region.programme,
        {
            "title": MEDIA,
            "aim": "To dager medietrening for klyngeteamene, med en journalist.",
            "lead_user_id": region.person_id(COORDINATOR_EMAIL),
            "lead_cluster_id": helgeland.id if helgeland else None,
            "start_date": start,
            "due_date": due,
            "budget_money": "60000",
            "budget_hours": "120",
            "status": "in_progress",
        },
        origin="manual",
        indicators=region.indicators("media_recognition"),
    )
    done = {"status": "done", "progress": 100}
    _take_part(
        action,
        region,
        [
            (
                "Helgeland Helseteknologi",
                3,
                {**done, "hours_spent": "40", "money_spent": "30000", "solo_money": "55000"},
            ),
            (
                "Polar Livsvitenskap",
                6,
                {**done, "hours_spent": "30", "money_spent": "25000", "solo_money": "45000"},
            ),
            (
                "Lofoten Sjømatinnovasjon",
                4,
                {**done, "hours_spent": "35", "money_spent": "30000", "solo_money": "50000"},
            ),
        ],
        start,
    )
    services.move(None, action, "done")


def load(tenant, today: date | None = None) -> None:
    today = today or date.today()
    with tenant_scope(tenant.id):
        programme = db.session.scalar(select(Programme).order_by(Programme.id).limit(1))
        if programme is None:
            return
        have = set(
            db.session.scalars(
                select(JointAction.title).where(JointAction.programme_id == programme.id)
            )
        )
        region = _Region(tenant, programme, today)
        for title, make in ((BRANDING, _branding), (SERVICES, _services), (MEDIA, _media)):
            if title not in have:
                make(region, today)
