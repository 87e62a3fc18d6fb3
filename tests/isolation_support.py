"""Support for the URL walkers: build every rule's URLs and snapshot a tenant's rows."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from sqlalchemy import select
from werkzeug.routing import IntegerConverter

from portal.extensions import db

ROLES = ("coordinator", "cluster_manager", "member", "observer", "assessor")
# Each table's seeded ids come from a block of their own.
ID_BLOCK = 10_000
SECRET = "ZZB-SECRET"
# Plausible values for the string parts of URLs.
STRING_ARGS = {
    "plugin_name": "cluster_facts",
    "plugin": "cluster_facts",
    "token": "not-a-token",
    "filename": "facts.css",
    "key": "not-the-key",
}
# A generic form payload: enough fields for most forms to get past validation.
FORM = {
    "name": "Changed name",
    "sector": "Changed",
    "member_type": "other",
    "role": "observer",
    "enabled": "1",
    "email": "someone@elsewhere.example",
    "year": "2024",
    "employees": "5",
    "default_locale": "en",
    "timezone": "UTC",
    "accent_color": "#123456",
    "slug": "changed",
    "locale": "en",
    "q": "x",
    "title": "Changed",
    "status": "done",
    "progress": "50",
    "version": "1",
    "day": "2027-01-01",
    "start_time": "09:00",
    "end_time": "10:00",
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
    "due_date": "2026-06-01",
    "body": "hello",
    "goal": "x",
    "kind": "other",
    "cluster_id": "1",
    "capacity": "5",
    "minutes": "x",
    "weight": "1",
    "priority": "normal",
}
# Signing out (here, everywhere) would end the walking session.
SKIP_ENDPOINTS = {"static", "auth.logout", "auth.end_all_sessions"}


def tenant_tables():
    return [t for t in db.metadata.sorted_tables if "tenant_id" in t.c and t.name != "audit_entry"]


def snapshot(tenant_id: int) -> dict[str, list[tuple]]:
    """Every row a tenant owns, for before/after comparison."""
    from portal.tenancy import unscoped
    from portal.tenancy.models import Tenant

    data = {}
    with unscoped():
        for table in tenant_tables():
            rows = db.session.execute(
                select(table)
                .where(table.c.tenant_id == tenant_id)
                .order_by(*table.primary_key.columns)
            ).all()
            data[table.name] = [tuple(r) for r in rows]
        data["tenant"] = [
            tuple(r)
            for r in db.session.execute(
                select(Tenant.__table__).where(Tenant.id == tenant_id)
            ).all()
        ]
    return data


def seed_other_tenant(app, slug: str = "zulu") -> SimpleNamespace:
    """A second tenant whose every row has a high id no first-tenant row has, so an id in
    a URL names exactly one object of this tenant.

    Each table gets its own block of ids: SQLite gives new rows max(id)+1, so rows the
    walk itself creates land just above their table's block, never on another table's.
    """
    from portal.accounts.models import Invitation, Membership, MembershipCluster, Role, User
    from portal.accounts.services import hash_password
    from portal.clusters.models import Cluster, MemberOrganisation, MemberType
    from portal.tenancy import tenant_scope
    from portal.tenancy.models import Tenant, TenantPlugin

    blocks: dict[str, itertools.count] = {}

    def next_id(table: str) -> int:
        if table not in blocks:
            blocks[table] = itertools.count(900_001 + ID_BLOCK * len(blocks))
        return next(blocks[table])

    with app.test_request_context():
        tenant = Tenant(id=next_id("tenant"), slug=slug, name=f"{SECRET} region")
        db.session.add(tenant)
        db.session.flush()
        with tenant_scope(tenant.id):
            natural = {}
            cluster = Cluster(id=next_id("cluster"), tenant_id=tenant.id, name=f"{SECRET} cluster")
            db.session.add(cluster)
            db.session.flush()
            natural["cluster_id"] = cluster.id
            members = [
                MemberOrganisation(
                    id=next_id("member"),
                    tenant_id=tenant.id,
                    cluster_id=cluster.id,
                    name=f"{SECRET} member {i}",
                    member_type=MemberType.OTHER,
                )
                for i in range(2)
            ]
            db.session.add_all(members)
            natural["member_id"] = members[0].id
            user = User(
                id=next_id("user"),
                email="secret@bravo.example",
                name=f"{SECRET} person",
                password_hash=hash_password("irrelevant-password"),
            )
            db.session.add(user)
            db.session.flush()
            membership = Membership(
                id=next_id("membership"),
                tenant_id=tenant.id,
                user_id=user.id,
                role=Role.CLUSTER_MANAGER,
            )
            db.session.add(membership)
            db.session.flush()
            natural["membership_id"] = membership.id
            db.session.add(
                MembershipCluster(
                    tenant_id=tenant.id, membership_id=membership.id, cluster_id=cluster.id
                )
            )
            invitation = Invitation(
                id=next_id("invitation"),
                tenant_id=tenant.id,
                email="invitee@bravo.example",
                role=Role.OBSERVER,
            )
            db.session.add(invitation)
            natural["invitation_id"] = invitation.id
            db.session.add(
                TenantPlugin(
                    id=next_id("tenant_plugin"),
                    tenant_id=tenant.id,
                    plugin_name="cluster_facts",
                    enabled=True,
                )
            )
            db.session.commit()
            _seed_process_rows(tenant.id, cluster.id, user.id, next_id, natural)
            _seed_plugin_rows(tenant.id, cluster.id, next_id, natural)
            _seed_webhook_rows(tenant.id, next_id, natural)
            db.session.commit()
        all_ids = sorted(
            {
                r
                for rows in snapshot(tenant.id).values()
                for row in rows
                for r in row[:1]
                if isinstance(r, int)
            }
        )
    return SimpleNamespace(id=tenant.id, slug=slug, ids=all_ids, natural=natural)


def _seed_process_rows(tenant_id, cluster_id, user_id, next_id, natural) -> None:
    """Programmes, workshops, plans and actions of the foreign tenant."""
    from datetime import date, time

    from portal.files.models import StoredFile
    from portal.plans.models import (
        Action,
        ActionCluster,
        ActionComment,
        Plan,
        PlanKind,
        ReminderSent,
    )
    from portal.programmes.models import Milestone, Programme, ProgrammeCluster
    from portal.workshops.models import (
        AgendaItem,
        Registration,
        RegistrationStatus,
        Workshop,
        WorkshopInvite,
    )
    from portal.workshops.notices import WorkshopNotice

    rows = []
    programme = Programme(
        id=next_id("programme"),
        tenant_id=tenant_id,
        name=f"{SECRET} programme",
        start_date=date(2026, 1, 1),
        end_date=date(2027, 12, 31),
        calendar_key="k",
    )
    rows.append(programme)
    participant = ProgrammeCluster(
        id=next_id("programme_cluster"),
        tenant_id=tenant_id,
        programme_id=programme.id,
        cluster_id=cluster_id,
        goal=SECRET,
    )
    milestone = Milestone(
        id=next_id("milestone"),
        tenant_id=tenant_id,
        programme_id=programme.id,
        title=f"{SECRET} milestone",
        due_date=date(2027, 6, 1),
    )
    workshop = Workshop(
        id=next_id("workshop"),
        tenant_id=tenant_id,
        programme_id=programme.id,
        title=f"{SECRET} workshop",
        day=date(2027, 3, 1),
        start_time=time(9),
        end_time=time(15),
        minutes_md=SECRET,
    )
    rows += [participant, milestone, workshop]
    rows += [
        AgendaItem(
            id=next_id("agenda_item"), tenant_id=tenant_id, workshop_id=workshop.id, title=SECRET
        ),
        WorkshopInvite(
            id=next_id("workshop_invite"),
            tenant_id=tenant_id,
            workshop_id=workshop.id,
            cluster_id=cluster_id,
        ),
        Registration(
            id=next_id("registration"),
            tenant_id=tenant_id,
            workshop_id=workshop.id,
            user_id=user_id,
            status=RegistrationStatus.REGISTERED,
        ),
        WorkshopNotice(
            id=next_id("workshop_notice"),
            tenant_id=tenant_id,
            workshop_id=workshop.id,
            user_id=user_id,
            what="message",
            subject=SECRET,
        ),
    ]
    joint = Plan(
        id=next_id("plan"),
        tenant_id=tenant_id,
        kind=PlanKind.JOINT,
        programme_id=programme.id,
        title=f"{SECRET} joint plan",
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
    )
    own = Plan(
        id=next_id("plan"),
        tenant_id=tenant_id,
        kind=PlanKind.INDIVIDUAL,
        cluster_id=cluster_id,
        title=f"{SECRET} plan",
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
    )
    rows += [joint, own]
    action = Action(
        id=next_id("plan_action"),
        tenant_id=tenant_id,
        plan_id=own.id,
        title=f"{SECRET} action",
        owner_id=user_id,
        due_date=date(2026, 2, 1),
        workshop_id=workshop.id,
    )
    rows += [action]
    rows += [
        ActionCluster(tenant_id=tenant_id, action_id=action.id, cluster_id=cluster_id),
        ActionComment(
            id=next_id("action_comment"),
            tenant_id=tenant_id,
            action_id=action.id,
            author_id=user_id,
            body=SECRET,
        ),
        ReminderSent(
            id=next_id("reminder_sent"),
            tenant_id=tenant_id,
            user_id=user_id,
            key=SECRET,
            sent_on=date(2026, 1, 1),
        ),
        StoredFile(
            id=next_id("stored_file"),
            tenant_id=tenant_id,
            workshop_id=workshop.id,
            filename=f"{SECRET}.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            storage_key="zz-foreign-material",
        ),
        StoredFile(
            id=next_id("stored_file"),
            tenant_id=tenant_id,
            action_id=action.id,
            filename=f"{SECRET}.pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
            storage_key="zz-foreign-attachment",
        ),
    ]
    from portal.benchmarking.models import BenchmarkRound, IndicatorValue

    bench = BenchmarkRound(
        id=next_id("benchmark_round"),
        tenant_id=tenant_id,
        cluster_id=cluster_id,
        held_on=date(2025, 5, 1),
        indicator_set="esca-gold",
        set_version="2013",
        assessor=SECRET,
    )
    from portal.labels.models import Label, LabelEvidence

    rows += [
        Label(
            id=next_id("label"),
            tenant_id=tenant_id,
            cluster_id=cluster_id,
            scheme="esca",
            scheme_version="2013",
            level="bronze",
            awarded_on=date(2025, 5, 1),
            expires_on=date(2027, 4, 30),
            notes=SECRET,
        ),
        LabelEvidence(
            id=next_id("label_evidence"),
            tenant_id=tenant_id,
            cluster_id=cluster_id,
            scheme="esca",
            kind="expert_review",
            text=SECRET,
            recorded_on=date(2025, 5, 1),
        ),
    ]
    rows += [
        bench,
        IndicatorValue(
            id=next_id("indicator_value"),
            tenant_id=tenant_id,
            round_id=bench.id,
            indicator_id="engagement",
            value=3,
            light="yellow",
            comment=SECRET,
        ),
    ]
    for row in rows:
        db.session.add(row)
        db.session.flush()
    from portal.privacy.models import Audience, ValuesSharing

    db.session.add(
        ValuesSharing(
            id=next_id("values_sharing"),
            tenant_id=tenant_id,
            cluster_id=cluster_id,
            audience=Audience.OBSERVERS,
        )
    )
    db.session.flush()
    natural.update(
        programme_id=programme.id,
        participant_id=participant.id,
        milestone_id=milestone.id,
        workshop_id=workshop.id,
        plan_id=own.id,
        action_id=action.id,
        item_id=rows[4].id,
        invite_id=rows[5].id,
        file_id=rows[-3].id,
        round_id=bench.id,
    )
    _seed_registration_rows(tenant_id, user_id, workshop.id, rows[6].id, next_id, natural)


def _seed_registration_rows(tenant_id, user_id, workshop_id, registration_id, next_id, natural):
    """A registration question, its answer and a seat asked for, of the foreign workshop."""
    from portal.workshops.registration_models import (
        QuestionKind,
        RegistrationAnswers,
        RegistrationQuestion,
        SeatRequest,
        SeatRequestStatus,
    )

    question = RegistrationQuestion(
        id=next_id("registration_question"),
        tenant_id=tenant_id,
        workshop_id=workshop_id,
        kind=QuestionKind.TEXT,
        label=SECRET,
    )
    db.session.add(question)
    db.session.flush()
    asked = SeatRequest(
        id=next_id("workshop_seat_request"),
        tenant_id=tenant_id,
        workshop_id=workshop_id,
        user_id=user_id,
        status=SeatRequestStatus.PENDING,
        note=SECRET,
        answers={str(question.id): SECRET},
    )
    db.session.add_all(
        [
            RegistrationAnswers(
                id=next_id("registration_answers"),
                tenant_id=tenant_id,
                registration_id=registration_id,
                workshop_id=workshop_id,
                answers={str(question.id): SECRET},
            ),
            asked,
        ]
    )
    db.session.flush()
    natural.update(question_id=question.id, request_id=asked.id)


def _seed_webhook_rows(tenant_id, next_id, natural) -> None:
    """A webhook of the foreign tenant with one delivery in its log (never sent: the row is
    written as given up)."""
    from portal.webhooks.models import Webhook, WebhookDelivery

    webhook = Webhook(
        id=next_id("webhook"),
        tenant_id=tenant_id,
        url="https://93.184.215.14/secret",
        description=SECRET,
        events=["action.done"],
        active=False,
        signing_secret="whsec_" + "A" * 44,
    )
    db.session.add(webhook)
    db.session.flush()
    delivery = WebhookDelivery(
        id=next_id("webhook_delivery"),
        tenant_id=tenant_id,
        webhook_id=webhook.id,
        event_type="action.done",
        event_id="evt_secret",
        payload={"type": "action.done", "data": {"title": SECRET}},
        status="failed",
        attempts=8,
    )
    db.session.add(delivery)
    db.session.flush()
    natural.update(webhook_id=webhook.id, delivery_id=delivery.id)


def _seed_plugin_rows(tenant_id, cluster_id, next_id, natural) -> None:
    try:
        from portal_compare.models import ReferenceIndicator, ReferencePortfolio
    except ImportError:  # the plugin is not installed
        pass
    else:  # an unpublished portfolio: never visible to another region
        portfolio = ReferencePortfolio(
            id=next_id("compare_reference"),
            tenant_id=tenant_id,
            name=f"{SECRET} portfolio",
            indicator_set="esca-gold",
            set_version="2013",
            source="clusters",
            cluster_count=9,
        )
        db.session.add(portfolio)
        db.session.flush()
        db.session.add(
            ReferenceIndicator(
                id=next_id("compare_reference_indicator"),
                tenant_id=tenant_id,
                portfolio_id=portfolio.id,
                indicator_id="engagement",
                count=9,
                q1=1,
                median=2,
                q3=3,
            )
        )
        natural["portfolio_id"] = portfolio.id
    _seed_joint_rows(tenant_id, cluster_id, next_id, natural)
    try:
        from portal_cluster_facts.models import KeyFigure
    except ImportError:  # the plugin is not installed
        return
    figure = KeyFigure(
        id=next_id("facts_key_figure"),
        tenant_id=tenant_id,
        cluster_id=cluster_id,
        year=2024,
        employees=1,
        note=SECRET,
    )
    db.session.add(figure)
    natural["figure_id"] = figure.id


def _seed_joint_rows(tenant_id, cluster_id, next_id, natural) -> None:
    try:
        from portal_joint.models import JointAction, JointNotice, LinkedIndicator, Participation
    except ImportError:  # the plugin is not installed
        return
    from datetime import UTC, date, datetime

    from portal.accounts.models import User
    from portal.programmes.models import Programme

    programme_id = db.session.scalar(select(Programme.id).where(Programme.tenant_id == tenant_id))
    user_id = db.session.scalar(select(User.id).where(User.email == "secret@bravo.example"))
    action = JointAction(
        id=next_id("joint_action"),
        tenant_id=tenant_id,
        programme_id=programme_id,
        title=f"{SECRET} joint action",
        aim=SECRET,
        lead_user_id=user_id,
        lead_cluster_id=cluster_id,
    )
    db.session.add(action)
    db.session.flush()
    part = Participation(
        id=next_id("joint_participation"),
        tenant_id=tenant_id,
        action_id=action.id,
        cluster_id=cluster_id,
        joined_on=date(2026, 1, 1),
        tasks=SECRET,
        owner_id=user_id,
    )
    db.session.add_all(
        [
            part,
            LinkedIndicator(
                id=next_id("joint_action_indicator"),
                tenant_id=tenant_id,
                action_id=action.id,
                indicator_set="esca-gold",
                set_version="2013",
                indicator_id="engagement",
            ),
            JointNotice(
                id=next_id("joint_notice"),
                tenant_id=tenant_id,
                user_id=user_id,
                action_id=action.id,
                kind="status",
                detail=SECRET,
                created_at=datetime.now(UTC),
            ),
        ]
    )
    db.session.flush()
    natural["action_id"] = action.id
    natural["joint_action_id"] = action.id  # the JSON API's name for it
    natural["part_id"] = part.id


def urls_for_rule(rule, tenant_slug: str, foreign: SimpleNamespace, own: dict[str, int]):
    """URLs of the rule in which at least one id names an object of the foreign tenant."""
    fixed = rule.defaults or {}  # e.g. a format the rule's URL implies
    int_args = [
        a
        for a in rule.arguments
        if a not in fixed and isinstance(rule._converters[a], IntegerConverter)
    ]
    base = {}
    for arg in rule.arguments:
        if arg in fixed:
            continue
        if arg == "tenant":
            base[arg] = tenant_slug
        elif arg not in int_args:
            base[arg] = STRING_ARGS.get(arg, "x")
    if not int_args:
        return [base]
    combos = []
    for arg in int_args:
        for foreign_id in _ids_to_try(arg, foreign):
            values = dict(base)
            for other in int_args:
                values[other] = own.get(other, foreign_id) if other != arg else foreign_id
            combos.append(values)
    combos.append({**base, **{a: foreign.natural.get(a, foreign.ids[0]) for a in int_args}})
    return combos


def _ids_to_try(arg: str, foreign: SimpleNamespace) -> list[int]:
    """Every foreign id of the argument's own table (each table's ids are a block of their
    own, so another table's id can never name an object here); every foreign id when the
    argument's table is not known."""
    natural = foreign.natural.get(arg)
    if natural is None:
        return foreign.ids
    block = natural // ID_BLOCK
    return [i for i in foreign.ids if i // ID_BLOCK == block]
