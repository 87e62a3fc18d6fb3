"""Where links of actions to indicators come from besides the form: the spreadsheet import and
export (an ``indicators`` column and the effort columns, checked as the form is) and an unmet
label rule made an action."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.plans.models import Action, ActionIndicator
from portal.tenancy import unscoped
from tests import improvement_support as build
from tests.conftest import login
from tests.import_support import check, check_and_confirm
from tests.process_support import build_process


@pytest.fixture
def process(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    return build_process(app, world, actions=1)


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _upload(client, plan_id, content: bytes):
    url = f"/nordland/plans/{plan_id}/import"
    return check_and_confirm(client, url, url + "/confirm", content, "actions.csv")


def _action(app, title):
    with app.app_context(), unscoped():
        action = db.session.scalar(select(Action).where(Action.title == title))
        if action is None:
            return None
        links = db.session.scalars(
            select(ActionIndicator)
            .where(ActionIndicator.action_id == action.id)
            .order_by(ActionIndicator.id)
        ).all()
        effort = (
            action.planned_hours,
            action.spent_hours,
            action.planned_money,
            action.spent_money,
        )
        return action.id, [link.key for link in links], effort


def test_the_import_links_indicators_and_records_effort(app, client, process):
    login(client, "coord@a.example")
    response = _upload(
        client,
        process.plan_id,
        _csv(
            [
                {
                    "title": "Strategy days",
                    "indicators": "esca-gold/2013/strategy_process; esca-gold/2013/engagement",
                    "planned_hours": "40",
                    "spent_hours": "12,5",
                    "planned_money": "20000",
                    "spent_money": "",
                }
            ]
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    action_id, keys, effort = _action(app, "Strategy days")
    assert keys == [build.STRATEGY, build.ENGAGEMENT]
    assert effort == (Decimal("40.0"), Decimal("12.5"), Decimal("20000.00"), None)

    # The export writes them back in the same columns; re-importing it changes nothing.
    exported = client.get(f"/nordland/plans/{process.plan_id}/actions.csv")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    row = next(r for r in rows if r["title"] == "Strategy days")
    assert row["indicators"] == "esca-gold/2013/strategy_process; esca-gold/2013/engagement"
    assert (row["planned_hours"], row["spent_hours"], row["planned_money"], row["spent_money"]) == (
        "40.0",
        "12.5",
        "20000.00",
        "",
    )
    checked = check(
        client, f"/nordland/plans/{process.plan_id}/import", exported.data, "actions.csv"
    )
    assert checked.status_code == 200
    assert "New actions: 0, changed: 0, unchanged: 2." in checked.get_data(as_text=True)

    # An update that unlinks one indicator.
    response = _upload(
        client,
        process.plan_id,
        _csv(
            [
                {
                    "id": str(action_id),
                    "title": "Strategy days",
                    "indicators": "esca-gold/2013/engagement",
                }
            ]
        ),
    )
    assert response.status_code == 302
    assert _action(app, "Strategy days")[1] == [build.ENGAGEMENT]


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("indicators", "esca-gold/2013/no_such", "is not an indicator of this region"),
        ("indicators", "engagement", "does not name an indicator"),
        ("spent_money", "-5", "Give a number from 0, or leave it empty."),
        ("planned_hours", "lots", "Give a number from 0, or leave it empty."),
    ],
)
def test_a_wrong_indicator_or_effort_is_a_problem_of_its_row(
    app, client, process, column, value, problem
):
    login(client, "coord@a.example")
    response = _upload(client, process.plan_id, _csv([{"title": "Broken row", column: value}]))
    body = response.get_data(as_text=True)
    assert response.status_code == 422, body[:1000]
    assert problem in body and column in body
    assert _action(app, "Broken row") is None


def test_an_unmet_label_rule_made_an_action_aims_at_its_indicators(app, client, world, process):
    login(client, "manager@a.example")
    response = client.post(
        f"/nordland/clusters/{world['c1'].id}/labels/to-action",
        data={
            "title": "Silver: Improvements on three indicators",
            "indicator_id": ["engagement", "services"],
        },
    )
    assert response.status_code == 302 and "/actions/" in response.headers["Location"]
    _id, keys, _effort = _action(app, "Silver: Improvements on three indicators")
    assert keys == [build.ENGAGEMENT, (*build.SET, "services")]


def test_the_actions_history_says_which_indicators_and_clusters_changed(app, world, process):
    """Links hang on the action: changing them is the action's change, in its own history
    entry, with the indicators and the clusters named, not only a new version."""
    from portal.audit.models import AuditEntry
    from portal.plans import services as plans
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(world["a"].id):
        action = db.session.scalars(select(Action)).first()
        plans.update_action(
            None,
            action,
            {},
            indicator_keys=[("esca-gold", "2013", "engagement")],
            cluster_ids=[world["c1"].id, world["c2"].id],
        )
        entry = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "plan_action", AuditEntry.object_id == action.id)
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.changes["indicators"] == [[], ["esca-gold/2013/engagement"]]
        assert entry.changes["clusters"][1] == ["Arctic Minerals", "Helgeland Health"]
        # nothing noted stays behind for a later change
        plans.update_action(None, action, {"title": "Renamed"})
        last = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "plan_action", AuditEntry.object_id == action.id)
            .order_by(AuditEntry.id.desc())
        ).first()
        assert "indicators" not in last.changes and last.changes["title"][1] == "Renamed"


def test_the_action_page_shows_the_link_change_in_its_history(app, client, world, process):
    from portal.plans import services as plans
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(world["a"].id):
        action = db.session.scalars(select(Action)).first()
        plans.update_action(None, action, {}, indicator_keys=[("esca-gold", "2013", "services")])
        action_id = action.id
    login(client, "coord@a.example")
    page = client.get(f"/nordland/actions/{action_id}").get_data(as_text=True)
    history = page[page.index('id="history-heading"') :]
    # In words: the field's label and the indicator's name, not the column and the key.
    assert "Indicators it aims to improve: – → Activities and services" in history
    assert "esca-gold/2013/services" not in history and "<code>indicators</code>" not in history
