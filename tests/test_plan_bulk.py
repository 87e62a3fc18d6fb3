"""Bulk edits on a plan's page (portal.plans.bulk): status, owner or due date of the selected
actions in one submit, all or nothing, each action's version and permission checked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.plans.models import Action, ActionStatus
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import login
from tests.process_support import TODAY, build_process


@pytest.fixture
def process(app, world):
    return build_process(app, world, actions=4)


def _state(app, ids):
    with app.app_context(), unscoped():
        rows = db.session.scalars(select(Action).where(Action.id.in_(ids)).order_by(Action.id))
        return {a.id: (a.status, a.owner_id, a.due_date, a.version) for a in rows}


def _form(app, ids, **values):
    state = _state(app, ids)
    data = {"selected": [str(i) for i in ids], **values}
    data.update({f"version-{i}": str(state[i][3]) for i in ids})
    return data


def _bulk(client, process, data, **kw):
    return client.post(f"/nordland/plans/{process.plan_id}/bulk", data=data, **kw)


def test_sets_status_owner_and_due_date_on_the_selected_with_an_audit_entry_each(
    app, client, process
):
    login(client, "manager@a.example")
    chosen = process.action_ids[:3]
    due = TODAY + timedelta(days=40)
    with app.app_context(), unscoped():
        audits_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = _bulk(
        client,
        process,
        _form(
            app,
            chosen,
            status="in_progress",
            owner=str(process.member_id),
            due_date=due.isoformat(),
        ),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "3 actions updated." in response.get_data(as_text=True)
    state = _state(app, process.action_ids)
    for action_id in chosen:
        assert state[action_id][:3] == (ActionStatus.IN_PROGRESS, process.member_id, due)
    assert state[process.action_ids[3]][2] != due  # not selected: unchanged
    with app.app_context(), unscoped():
        entries = db.session.scalars(
            select(AuditEntry.object_id).where(AuditEntry.object_type == "plan_action")
        ).all()
        audits_after = db.session.scalar(select(func.count()).select_from(AuditEntry))
    assert audits_after - audits_before >= 3
    assert set(chosen) <= set(entries)


def test_select_all_without_javascript_takes_every_row_of_the_page(app, client, process):
    login(client, "coord@a.example")
    data = _form(app, process.action_ids, status="blocked")
    del data["selected"]
    data["select_all"] = "1"
    response = _bulk(client, process, data)
    assert response.status_code == 302
    assert {s[0] for s in _state(app, process.action_ids).values()} == {ActionStatus.BLOCKED}


def test_a_changed_action_refuses_the_whole_batch_with_409_naming_it(app, client, process):
    login(client, "manager@a.example")
    chosen = process.action_ids[:3]
    data = _form(app, chosen, status="done")
    with app.app_context(), unscoped():  # someone saves the second one meanwhile
        action = db.session.get(Action, chosen[1])
        action.progress = 55
        db.session.commit()
    before = _state(app, chosen)
    response = _bulk(client, process, data)
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Action 001" in text and "nothing was changed" in text
    assert 'value="done" selected' in text  # the input is kept
    assert _state(app, chosen) == before  # all or nothing
    # Sent again from the refusal page (it carries the versions now stored): applied.
    again = _form(app, chosen, status="done")
    assert _bulk(client, process, again).status_code == 302
    assert {s[0] for s in _state(app, chosen).values()} == {ActionStatus.DONE}


def test_permissions_are_checked_per_action(app, client, process):
    # The member owns the odd actions only: one of someone else's refuses the batch.
    login(client, "member@a.example")
    mine, theirs = process.action_ids[1], process.action_ids[0]
    before = _state(app, [mine, theirs])
    assert _bulk(client, process, _form(app, [mine, theirs], status="done")).status_code == 403
    assert _state(app, [mine, theirs]) == before
    assert _bulk(client, process, _form(app, [mine], status="done")).status_code == 302
    assert _state(app, [mine])[mine][0] == ActionStatus.DONE
    observer = app.test_client()
    login(observer, "observer@a.example")
    assert _bulk(observer, process, _form(app, [mine], status="blocked")).status_code == 403


def test_another_regions_or_plans_action_is_not_found(app, client, process, world, factory):
    from portal.plans import services as plans

    cluster = factory.cluster(world["b"], "Bravo Cluster")
    with app.test_request_context(), tenant_scope(world["b"].id):
        from portal.clusters.models import Cluster

        plan = plans.create_plan(
            None,
            {"title": "Bravo plan", "start_date": TODAY, "end_date": TODAY + timedelta(days=90)},
            tenant_id=world["b"].id,
            cluster=db.session.get(Cluster, cluster.id),
        )
        foreign = plans.create_action(None, plan, {"title": "Bravo action"}).id
    login(client, "coord@a.example")
    data = {
        "selected": [str(process.action_ids[0]), str(foreign)],
        f"version-{process.action_ids[0]}": "1",
        f"version-{foreign}": "1",
        "status": "done",
    }
    before = _state(app, [process.action_ids[0], foreign])
    assert _bulk(client, process, data).status_code == 404
    joint = _form(app, [process.joint_action_id], status="done")  # another plan's action
    assert _bulk(client, process, joint).status_code == 404
    assert _state(app, [process.action_ids[0], foreign]) == before


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "Choose a status, an owner or a due date to set."),
        ({"status": "nonsense"}, "Choose one of the statuses offered."),
        ({"due_date": "31.12.2026"}, "The due date is not a date"),
        ({"owner": "abc"}, "Choose a person of this region."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    app, client, process, values, message
):
    login(client, "coord@a.example")
    chosen = process.action_ids[:2]
    before = _state(app, chosen)
    response = _bulk(client, process, _form(app, chosen, **values))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _state(app, chosen) == before


def test_nothing_selected_or_a_bad_selection_is_refused(app, client, process):
    login(client, "coord@a.example")
    response = _bulk(client, process, {"status": "done"})
    assert response.status_code == 422
    assert "Select at least one action." in response.get_data(as_text=True)
    response = _bulk(client, process, {"selected": ["x"], "status": "done"})
    assert response.status_code == 422


def test_an_observer_as_owner_and_a_due_date_before_the_start_are_refused(app, client, process):
    login(client, "coord@a.example")
    chosen = process.action_ids[:2]
    before = _state(app, chosen)
    with app.app_context(), unscoped():
        from portal.accounts.models import User

        observer = db.session.scalar(select(User.id).where(User.email == "observer@a.example"))
    response = _bulk(client, process, _form(app, chosen, owner=str(observer)))
    assert response.status_code == 422 and "cannot own one" in response.get_data(as_text=True)
    early = (TODAY - timedelta(days=30)).isoformat()  # the actions start 10 days ago
    response = _bulk(client, process, _form(app, chosen, due_date=early))
    assert response.status_code == 422 and "before the start of" in response.get_data(as_text=True)
    assert _state(app, chosen) == before


def test_the_refusal_is_in_the_readers_language(app, client, process):
    login(client, "coord@a.example")
    client.post("/language", data={"locale": "nb", "next": "/"})
    chosen = process.action_ids[:1]
    response = _bulk(client, process, _form(app, chosen, owner="999999"))
    assert response.status_code == 422
    with app.test_request_context(), force_locale("nb"):
        expected = gettext("The owner must be a person of this region.")
    assert expected != "The owner must be a person of this region."  # the catalog has it
    assert expected in response.get_data(as_text=True)


def test_the_plan_page_offers_the_bulk_form_only_to_who_may_edit(app, client, process):
    login(client, "observer@a.example")
    page = client.get(f"/nordland/plans/{process.plan_id}").get_data(as_text=True)
    assert 'id="bulk-form"' not in page and 'name="selected"' not in page
    manager = app.test_client()
    login(manager, "manager@a.example")
    page = manager.get(f"/nordland/plans/{process.plan_id}").get_data(as_text=True)
    assert 'id="bulk-form"' in page and page.count('name="selected"') == 4
    assert 'id="select-all"' in page


def test_past_so_many_owners_the_form_asks_for_an_e_mail_address(app, client, process, monkeypatch):
    """A region with more possible owners than the form lists: the page does not grow with
    them; the new owner is named by e-mail address (any case), an unknown address is refused
    in the reader's language with the selection kept, and whether they may own is checked."""
    from portal.plans import bulk_views

    login(client, "coord@a.example")
    page = client.get(f"/nordland/plans/{process.plan_id}").get_data(as_text=True)
    assert 'name="owner_email"' not in page
    assert f'<option value="{process.member_id}"' in page  # listed while few
    monkeypatch.setattr(bulk_views, "OWNERS_LISTED", 1)
    page = client.get(f"/nordland/plans/{process.plan_id}").get_data(as_text=True)
    assert 'name="owner_email"' in page
    assert f'<option value="{process.member_id}"' not in page

    chosen = process.action_ids[:2]
    before = _state(app, chosen)
    unknown = _bulk(client, process, _form(app, chosen, owner_email="nobody@else.example"))
    body = unknown.get_data(as_text=True)
    assert unknown.status_code == 422
    assert "Nobody of the region has the e-mail address nobody@else.example." in body
    assert 'value="nobody@else.example"' in body  # the input kept
    assert all(f'value="{i}"' in body for i in chosen)  # the selection kept
    observer = _bulk(client, process, _form(app, chosen, owner_email="observer@a.example"))
    assert observer.status_code == 422 and "cannot own one" in observer.get_data(as_text=True)
    assert _state(app, chosen) == before

    done = _bulk(client, process, _form(app, chosen, owner_email="MEMBER@a.example"))
    assert done.status_code == 302
    assert {owner for _status, owner, _due, _v in _state(app, chosen).values()} == {
        process.member_id
    }
