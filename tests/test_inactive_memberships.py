"""A deactivated membership (Membership.active) gives no access, and its person is no longer
offered or told anything in the region: not as an action's owner, a joint action's lead or a
contribution's owner, not in a workshop's invitations, not in reminders, digests or notices,
not as a cluster's manager. Someone who holds something already keeps it on the record."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests import locking_support as build
from tests.conftest import ROLE_EMAILS, login


def _user_id(email: str) -> int:
    from portal.accounts.models import User
    from portal.extensions import db

    return db.session.scalar(select(User.id).where(User.email == email))


def _deactivate(world, email: str) -> int:
    from portal.accounts.models import Membership
    from portal.extensions import db

    user_id = _user_id(email)
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user_id))
    membership.active = False
    db.session.commit()
    return user_id


def _action_owned_by(world, email: str) -> dict:
    from portal.extensions import db
    from portal.plans.models import Action

    ids = build.action(world)
    db.session.get(Action, ids["id"]).owner_id = _user_id(email)
    db.session.commit()
    return ids


def test_people_lists_offer_only_active_roles_and_keep_the_holder(app, world):
    def check(world):
        from portal.plans.services import people_choices
        from portal.toolkit import cluster_managers, people_of

        manager = _user_id(ROLE_EMAILS["cluster_manager"])
        member = _user_id(ROLE_EMAILS["member"])
        assert {member, manager} <= {i for i, _n in people_of(world["a"].id, owners=True)}
        assert [u.id for u in cluster_managers([world["c1"].id])[world["c1"].id]] == [manager]
        _deactivate(world, ROLE_EMAILS["member"])
        _deactivate(world, ROLE_EMAILS["cluster_manager"])
        offered = {i for i, _n in people_of(world["a"].id)}
        assert member not in offered and manager not in offered
        assert member not in {i for i, _n in people_of(world["a"].id, owners=True)}
        assert member in {i for i, _n in people_of(world["a"].id, everyone=True)}
        kept = people_choices(world["a"].id, owners=True, keep=member)
        assert member in {i for i, _n in kept} and manager not in {i for i, _n in kept}
        assert cluster_managers([world["c1"].id]) == {world["c1"].id: []}

    build.run(app, world, check)


def test_an_action_keeps_its_deactivated_owner_but_none_is_made_owner_anew(app, world):
    ids = build.run(app, world, _action_owned_by, ROLE_EMAILS["member"])
    member = build.run(app, world, _deactivate, ROLE_EMAILS["member"])
    client = app.test_client()
    login(client, ROLE_EMAILS["coordinator"])
    edit = client.get(f"/nordland/actions/{ids['id']}/edit").get_data(as_text=True)
    assert f'value="{member}"' in edit  # the owner it has stays on the record
    plan_id = build.run(app, world, lambda w: build._plan(w).id)
    new = client.get(f"/nordland/plans/{plan_id}/actions/new").get_data(as_text=True)
    assert f'value="{member}"' not in new

    def refused(world):
        import pytest

        from portal.errors import ServiceError
        from portal.extensions import db
        from portal.plans import services
        from portal.plans.models import Action

        other = services.create_action(None, db.session.get(Action, ids["id"]).plan, {"title": "X"})
        with pytest.raises(ServiceError) as exc:
            services.update_action(None, other, {"title": "X", "owner_id": member})
        assert "deactivated" in exc.value.message
        db.session.rollback()
        assert db.session.get(Action, other.id).owner_id is None

    build.run(app, world, refused)


def test_the_action_import_keeps_a_deactivated_owner_and_refuses_a_new_one(app, world):
    ids = build.run(app, world, _action_owned_by, ROLE_EMAILS["member"])
    build.run(app, world, _deactivate, ROLE_EMAILS["member"])

    def check(world):
        from portal.extensions import db
        from portal.plans.action_import import check_file
        from portal.plans.models import Action

        plan = db.session.get(Action, ids["id"]).plan
        email = ROLE_EMAILS["member"]
        raw = f"id,title,owner_email\n{ids['id']},Member survey,{email}\n,Fresh,{email}\n"
        _rows, errors, _checker = check_file(plan, raw.encode())
        assert [(e.row, e.column) for e in errors] == [(3, "owner_email")]
        assert "deactivated" in errors[0].message

    build.run(app, world, check)


def test_no_reminder_mention_or_invitation_for_a_deactivated_person(app, world, monkeypatch):
    from portal.accounts import services as accounts

    monkeypatch.setattr(accounts, "external_url", lambda *args, **values: "https://portal/x")

    def check(world):
        from portal.accounts.models import User
        from portal.digest import action_items
        from portal.extensions import db
        from portal.plans import services
        from portal.plans.models import Action
        from portal.tenancy.models import Tenant
        from portal.workshops.services import invite

        ids = _action_owned_by(world, ROLE_EMAILS["member"])
        action = db.session.get(Action, ids["id"])
        action.due_date = date(2030, 5, 10)
        db.session.commit()
        tenant = db.session.get(Tenant, world["a"].id)
        member = _user_id(ROLE_EMAILS["member"])
        assert [person.id for person, _item in action_items(tenant, date(2030, 5, 9), 3)] == [
            member
        ]
        _deactivate(world, ROLE_EMAILS["member"])
        assert action_items(tenant, date(2030, 5, 9), 3) == []
        author = db.session.get(User, _user_id(ROLE_EMAILS["coordinator"]))
        comment = services.add_comment(author, action, "Look at this", [member])
        assert comment.mentioned == ""  # nobody mentioned, nobody mailed
        workshop = build._workshop(world)
        assert invite(None, workshop, user_ids=[member]) == 0

    build.run(app, world, check)


def test_a_deactivated_lead_keeps_the_joint_action_but_is_told_nothing(app, world):
    def check(world):
        from portal_joint import services
        from portal_joint.forms import people_choices
        from portal_joint.models import JointAction

        from portal.extensions import db
        from portal.tenancy.models import Tenant

        ids = build.joint_action(world)
        action = db.session.get(JointAction, ids["id"])
        member = _user_id(ROLE_EMAILS["member"])
        action.lead_user_id = member
        db.session.commit()
        assert member in services.people_to_tell(action)
        _deactivate(world, ROLE_EMAILS["member"])
        assert member not in services.people_to_tell(action)
        tenant = db.session.get(Tenant, world["a"].id)
        assert member in dict(people_choices(tenant, action.lead_user_id))
        assert member not in dict(people_choices(tenant))

    build.run(app, world, check)
