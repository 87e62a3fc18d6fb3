"""Builders for the two-writers table (tests/test_optimistic_locking.py): each makes the
object a form edits inside the first region of the ``world`` fixture and returns the ids its
URL needs (``id`` is the object's)."""

from __future__ import annotations

from datetime import date, timedelta


def run(app, world, function, *args):
    """Call ``function(world, *args)`` in a request context scoped to the first region."""
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(world["a"].id):
        return function(world, *args)


def _model(name: str):
    from portal.db import Base

    return next(m.class_ for m in Base.registry.mappers if m.class_.__name__ == name)


def column(model: str, key: str):
    """Reads one column of the object back (for ``Edit.stored``)."""

    def read(_world, ids):
        from portal.extensions import db

        db.session.expire_all()
        return getattr(db.session.get(_model(model), ids["id"]), key)

    return read


def cluster(world):
    return {"id": world["c1"].id}


def member(world):
    from sqlalchemy import select

    from portal.clusters.models import MemberOrganisation
    from portal.extensions import db

    member = db.session.scalars(
        select(MemberOrganisation).where(MemberOrganisation.cluster_id == world["c1"].id)
    ).first()
    return {"id": member.id, "cluster_id": world["c1"].id}


def today() -> date:
    return date.today()


def _tenant(world):
    from portal.extensions import db
    from portal.tenancy.models import Tenant

    return db.session.get(Tenant, world["a"].id)


def _cluster(world):
    from portal.clusters.models import Cluster
    from portal.extensions import db

    return db.session.get(Cluster, world["c1"].id)


def _plan(world):
    from datetime import timedelta

    from portal.plans import services

    return services.create_plan(
        None,
        {"title": "Plan 2030", "start_date": today(), "end_date": today() + timedelta(days=365)},
        tenant_id=world["a"].id,
        cluster=_cluster(world),
    )


def plan(world):
    return {"id": _plan(world).id}


def action(world):
    from portal.plans import services

    created = services.create_action(None, _plan(world), {"title": "Member survey"})
    return {"id": created.id}


def _enable(world, name):
    from portal.tenancy import services

    services.set_plugin_enabled(None, _tenant(world), name, True)


def programme(world):
    from datetime import timedelta

    from portal.programmes import services

    created = services.create_programme(
        None,
        {"name": "Arena 2030", "start_date": today(), "end_date": today() + timedelta(days=365)},
        world["a"].id,
    )
    return {"id": created.id}


def _workshop(world):
    from datetime import time, timedelta

    from portal.workshops import services

    return services.create_workshop(
        None,
        {
            "title": "Kick-off",
            "day": today() + timedelta(days=30),
            "start_time": time(9),
            "end_time": time(12),
        },
        world["a"].id,
    )


def workshop(world):
    return {"id": _workshop(world).id}


def milestone(world):
    from datetime import timedelta

    from portal.extensions import db
    from portal.programmes import services
    from portal.programmes.models import Programme

    programme_id = programme(world)["id"]
    created = services.add_milestone(
        None,
        db.session.get(Programme, programme_id),
        {"title": "Mid-term review", "kind": "other", "due_date": today() + timedelta(days=9)},
    )
    return {"id": created.id, "programme_id": programme_id}


def round_(world):
    from datetime import timedelta

    from portal.benchmarking.services import find_set
    from portal.toolkit import save_round

    _enable(world, "esca")
    indicator_set = find_set("esca-gold", "2013")
    values = {i.id: 3.0 for i in indicator_set.indicators}
    created = save_round(
        _cluster(world), indicator_set, today() - timedelta(days=5), values, confirm=False
    )
    return {"id": created.id, "indicator": indicator_set.indicators[0].id}


def membership(world):
    from sqlalchemy import select

    from portal.accounts.models import Membership, User
    from portal.extensions import db

    found = db.session.scalar(
        select(Membership).join(User).where(User.email == "observer@a.example")
    )
    return {"id": found.id}


def tenant(world):
    return {"id": world["a"].id}


def joint_action(world):
    from portal_joint import services

    from portal.extensions import db
    from portal.programmes.models import Programme

    _enable(world, "joint")
    created = services.create_action(
        None,
        db.session.get(Programme, programme(world)["id"]),
        {"title": "Joint branding"},
        clusters=[world["c1"].id],
    )
    return {"id": created.id, "part_id": created.parts[0].id}


def part_tasks(_world, ids):
    from portal_joint.models import Participation

    from portal.extensions import db

    db.session.expire_all()
    return db.session.get(Participation, ids["part_id"]).tasks


def key_figure(world):
    from portal_cluster_facts.models import KeyFigure

    from portal.extensions import db

    _enable(world, "cluster_facts")
    figure = KeyFigure(
        tenant_id=world["a"].id, cluster_id=world["c1"].id, year=2020, employees=900, note=""
    )
    db.session.add(figure)
    db.session.commit()
    return {"id": figure.id, "cluster_id": world["c1"].id}


def participant(world):
    """Arctic Minerals taking part in a programme, with a goal."""
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.programmes import services
    from portal.programmes.models import Programme

    programme_id = programme(world)["id"]
    created = services.add_participant(
        None,
        db.session.get(Programme, programme_id),
        db.session.get(Cluster, world["c1"].id),
        goal="Bronze label",
    )
    return {"id": created.id, "programme_id": programme_id}


def workshop_with_two_registered(world):
    """A workshop two people (Observer and Member) are registered for."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.workshops.models import Registration, RegistrationStatus

    created = _workshop(world)
    created.day = today() - timedelta(days=1)  # it has begun: attendance can be marked
    ids = {"id": created.id}
    for key, email in (("observer", "observer@a.example"), ("member", "member@a.example")):
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        registration = Registration(
            tenant_id=world["a"].id,
            workshop_id=created.id,
            user_id=user_id,
            status=RegistrationStatus.REGISTERED,
        )
        db.session.add(registration)
        db.session.flush()
        ids[key] = registration.id
    db.session.commit()
    return ids


def attended(_world, ids):
    """The names of those marked as attended (for ``Edit.stored``)."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.workshops.models import Registration

    db.session.expire_all()
    return sorted(
        db.session.scalars(
            select(User.name)
            .join(Registration, Registration.user_id == User.id)
            .where(Registration.workshop_id == ids["id"], Registration.attended.is_(True))
        )
    )


def version_in(html: str, name: str = "version") -> str | None:
    """The version a page's form carries (the hidden ``name`` field), as a browser posts it."""
    import re

    name = re.escape(name)
    match = re.search(rf'name="{name}"[^>]*value="(\d+)"', html) or re.search(
        rf'value="(\d+)"[^>]*name="{name}"', html
    )
    return match.group(1) if match else None


def version_on(client, url: str, name: str = "version") -> str:
    """The version the form on the page at ``url`` carries: an edit posts it back (an edit
    without its version is refused, portal.locking)."""
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    version = version_in(response.get_data(as_text=True), name)
    assert version, f"the form on {url} carries no version"
    return version


def registration_question(world):
    """A question a workshop asks its registrants."""
    from portal.workshops import questions

    workshop = _workshop(world)
    question = questions.add_question(None, workshop, {"kind": "text", "label": "Your hope?"})
    return {"id": question.id, "workshop_id": workshop.id}


def registration_answers(world):
    """The member registered for a workshop that asks about dietary needs, answered."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.workshops import questions
    from portal.workshops.models import Registration, RegistrationStatus

    workshop = _workshop(world)
    question = questions.add_question(None, workshop, {"kind": "dietary"})
    registration = Registration(
        tenant_id=world["a"].id,
        workshop_id=workshop.id,
        user_id=db.session.scalar(select(User.id).where(User.email == "member@a.example")),
        status=RegistrationStatus.REGISTERED,
    )
    db.session.add(registration)
    db.session.flush()
    questions.store_answers(registration, {str(question.id): "None"})
    db.session.commit()
    return {"id": workshop.id, "question_id": question.id, "registration_id": registration.id}


def answer(_world, ids):
    """The member's answer to the question (for ``Edit.stored``)."""
    from portal.extensions import db
    from portal.workshops import questions

    db.session.expire_all()
    return questions.answers_row(ids["registration_id"]).answers[str(ids["question_id"])]


def planned_assessment(world):
    from datetime import timedelta

    from portal.labels.planning import plan_assessment
    from portal.labels.services import current_schemes

    _enable(world, "esca")
    planned = plan_assessment(
        None,
        _cluster(world),
        {"scheme": "esca", "kind": "benchmarking", "planned_on": today() + timedelta(days=90)},
        current_schemes(world["a"].id),
    )
    return {"id": planned.id, "cluster_id": world["c1"].id}


def comment(world):
    """A comment of the member's on an action (the author edits it)."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.plans import services

    action = services.create_action(None, _plan(world), {"title": "Member survey"})
    member = db.session.scalar(select(User).where(User.email == "member@a.example"))
    written = services.add_comment(member, action, "Ask in March", [])
    return {"id": written.id, "action_id": action.id}
