"""Every list of the JSON API costs the same number of queries at two data sizes."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.api_support import bearer, make_token
from tests.conftest import count_queries
from tests.process_support import build_process

API = "/api/v1/nordland"


def _grow(app, world, process, n: int) -> None:
    """n more members, programmes, plans, workshops with registrations, rounds and labels."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.benchmarking import services as rounds
    from portal.clusters import services as clusters
    from portal.clusters.models import Cluster
    from portal.labels.models import Label
    from portal.plans import services as plans
    from portal.programmes import services as programmes
    from portal.programmes.models import Programme
    from portal.workshops import services as workshops
    from portal.workshops.models import Registration, RegistrationStatus

    start = date.today() - timedelta(days=10)
    with app.test_request_context(), tenant_scope(world["a"].id):
        tenant_id = world["a"].id
        c1 = db.session.get(Cluster, world["c1"].id)
        c2 = db.session.get(Cluster, world["c2"].id)
        programme = db.session.get(Programme, process.programme_id)
        people = db.session.scalars(select(User.id)).all()
        indicator_set = rounds.find_set("esca-gold", "2013")
        for i in range(n):
            key = f"{n}-{i}"
            clusters.add_member(None, c1, {"name": f"Member {key}", "member_type": "university"})
            other = programmes.create_programme(
                None,
                {
                    "name": f"Programme {key}",
                    "start_date": start,
                    "end_date": start + timedelta(300),
                },
                tenant_id,
            )
            programmes.add_participant(None, other, c1, "")
            cluster = clusters.create_cluster(None, {"name": f"Cluster {key}"}, tenant_id)
            programmes.add_participant(None, programme, cluster, "A goal")
            plan = plans.create_plan(
                None,
                {"title": f"Plan {key}", "start_date": start, "end_date": start + timedelta(200)},
                tenant_id=tenant_id,
                cluster=cluster,
            )
            plans.create_action(None, plan, {"title": "Step", "progress": 50})
            workshop = workshops.create_workshop(
                None,
                {
                    "title": f"Workshop {key}",
                    "day": date.today() + timedelta(days=i + 1),
                    "start_time": time(9),
                    "end_time": time(10),
                    "programme_id": programme.id,
                },
                tenant_id,
            )
            for user_id in people:
                db.session.add(
                    Registration(
                        tenant_id=tenant_id,
                        workshop_id=workshop.id,
                        user_id=user_id,
                        status=RegistrationStatus.REGISTERED,
                    )
                )
            day = date.today() - timedelta(days=100 + 20 * n + i)
            values = {ind.id: (2.0, "") for ind in indicator_set.indicators}
            for owner in (cluster, c2):  # c2: the member's own cluster
                rounds.save_round(None, owner, indicator_set, {"held_on": day}, values)
            db.session.add(
                Label(
                    tenant_id=tenant_id,
                    cluster_id=cluster.id if i % 2 else c1.id,
                    scheme="esca",
                    scheme_version="2013",
                    level="bronze",
                    awarded_on=day,
                    expires_on=day + timedelta(days=700),
                    score=50.0,
                )
            )
            db.session.commit()


def _lists(world, process) -> dict[str, str]:
    return {
        "members": f"{API}/clusters/{world['c1'].id}/members",
        "programmes": f"{API}/programmes",
        "participants": f"{API}/programmes/{process.programme_id}/participants",
        "plans": f"{API}/plans",
        "workshops": f"{API}/workshops",
        "registrations": f"{API}/workshops/{{workshop}}/registrations",
        "rounds": f"{API}/rounds",
        "labels": f"{API}/labels",
        "cluster labels": f"{API}/clusters/{world['c1'].id}/labels",
        "register": f"{API}/register",
    }


@pytest.mark.parametrize("role", ["coordinator", "member"])
def test_every_list_costs_the_same_at_two_sizes(app, world, factory, client, role, capsys):
    from portal.tenancy.models import Tenant
    from portal.workshops.models import Workshop

    factory.enable_plugin(world["a"], "esca")
    with app.app_context():
        db.session.get(Tenant, world["a"].id).register_published = True
        db.session.commit()
    emails = {"coordinator": "coord@a.example", "member": "member@a.example"}
    token = bearer(make_token(app, emails[role], "nordland"))
    process = build_process(app, world, actions=2)
    counts: dict[str, list[int]] = {}
    for size in (2, 12):
        _grow(app, world, process, size)
        with app.app_context(), tenant_scope(world["a"].id):
            workshop = db.session.scalar(db.select(Workshop.id).order_by(Workshop.id))
        client.get(f"{API}/clusters", headers=token)  # last use written
        for name, url in _lists(world, process).items():
            url = url.format(workshop=workshop)
            client.get(url, headers=token)  # the region's sharing choices kept
            with count_queries(app) as statements:
                answer = client.get(url, headers=token)
            assert answer.status_code == 200, (name, answer.json)
            assert answer.json["items"], name
            counts.setdefault(name, []).append(len(statements))
    with capsys.disabled():
        print(f"\n{role}: " + ", ".join(f"{n} {c[0]}" for n, c in counts.items()))
    assert {name: c[0] for name, c in counts.items()} == {name: c[1] for name, c in counts.items()}
