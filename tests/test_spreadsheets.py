"""Spreadsheets: plan and programme exports, the all-or-nothing import of actions."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.plans.models import Action, ActionStatus, Plan, Priority
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import count_queries, login
from tests.import_support import check, check_and_confirm

TODAY = date.today()
HEADER = [
    "id",
    "title",
    "description",
    "owner_email",
    "clusters",
    "start_date",
    "due_date",
    "status",
    "progress",
    "priority",
    "weight",
    "workshop_id",
    "indicators",
    "planned_hours",
    "spent_hours",
    "planned_money",
    "spent_money",
]


def _user_id(email):
    return db.session.scalar(select(User.id).where(User.email == email))


def _plan(app, tenant, cluster_id=None, title="Growth plan 2025", actions=()):
    """A plan with actions, made through the services; returns its id."""
    from portal.plans.services import create_action, create_plan

    with app.test_request_context(), tenant_scope(tenant.id):
        cluster = db.session.get(Cluster, cluster_id) if cluster_id else None
        programme = None
        if cluster is None:
            from portal.programmes.services import create_programme

            programme = create_programme(
                None,
                {
                    "name": f"Programme {title}",
                    "start_date": TODAY,
                    "end_date": TODAY + timedelta(days=365),
                },
                tenant.id,
            )
        plan = create_plan(
            None,
            {"title": title, "start_date": TODAY, "end_date": TODAY + timedelta(days=365)},
            tenant_id=tenant.id,
            cluster=cluster,
            programme=programme,
        )
        for data, cluster_ids in actions:
            data = dict(data)
            if "owner" in data:
                data["owner_id"] = _user_id(data.pop("owner"))
            create_action(None, plan, data, cluster_ids=cluster_ids)
        return plan.id


@pytest.fixture
def plan_world(app, world):
    c1, c2 = world["c1"].id, world["c2"].id
    plan_id = _plan(
        app,
        world["a"],
        c1,
        actions=[
            (
                {
                    "title": "Map the members' needs",
                    "description": "Survey,\nthen a report",
                    "owner": "manager@a.example",
                    "start_date": date(2025, 1, 6),
                    "due_date": date(2025, 3, 31),
                    "status": "in_progress",
                    "progress": 40,
                    "priority": "high",
                    "weight": 2.5,
                },
                [c1, c2],
            ),
            ({"title": "=SUM(A1:A2) is not a formula", "status": "planned"}, []),
            (
                {
                    "title": "Hold the kick-off",
                    "owner": "coord@a.example",
                    "status": "done",
                    "due_date": date(2025, 2, 1),
                },
                None,
            ),
        ],
    )
    empty_id = _plan(app, world["a"], c2, title="Empty plan")
    return SimpleNamespace(id=plan_id, empty_id=empty_id, a=world["a"], c1=c1, c2=c2)


def _actions(app, plan_id):
    with app.app_context(), unscoped():
        rows = db.session.scalars(
            select(Action).where(Action.plan_id == plan_id).order_by(Action.id)
        ).all()
        return [
            {
                "id": a.id,
                "title": a.title,
                "description": a.description,
                "owner": a.owner.email if a.owner else None,
                "clusters": sorted(c.name for c in a.clusters),
                "start": a.start_date,
                "due": a.due_date,
                "status": a.status,
                "progress": a.progress,
                "priority": a.priority,
                "weight": a.weight,
                "version": a.version,
            }
            for a in rows
        ]


def _all_actions(app):
    with app.app_context(), unscoped():
        return [(a.id, a.title, a.version) for a in db.session.scalars(select(Action))]


def _upload(client, plan_id, content: bytes, *, dry_run=False, as_new=False, name="actions.csv"):
    """The check (dry_run) or the check and its confirm."""
    url = f"/nordland/plans/{plan_id}/import"
    fields = {"as_new": "y"} if as_new else {}
    if dry_run:
        return check(client, url, content, name, **fields)
    return check_and_confirm(client, url, url + "/confirm", content, name, **fields)


def _xlsx(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- export -------------------------------------------------------------------------------


def test_plan_exports_as_xlsx(client, plan_world):
    login(client, "observer@a.example")  # reading is enough
    response = client.get(f"/nordland/plans/{plan_world.id}/actions.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".xlsx" in disposition
    assert f"plan-{plan_world.id}-growth-plan-2025-actions.xlsx" in disposition
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert ws["A1"].font.bold and ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width > 10
    by_title = {row[1]: row for row in rows[1:]}
    first = by_title["Map the members' needs"]
    assert first[2] == "Survey,\nthen a report"
    assert first[3] == "manager@a.example"
    assert first[4] == "Arctic Minerals; Helgeland Health"
    assert first[5] == datetime(2025, 1, 6) and first[6] == datetime(2025, 3, 31)
    assert ws.cell(row=rows.index(first) + 1, column=6).is_date
    assert first[7:11] == ("in_progress", 40, "high", 2.5)
    done = by_title["Hold the kick-off"]
    assert done[4] == "Arctic Minerals"  # the plan's cluster by default
    assert done[7:10] == ("done", 100, "normal") and done[10] == 1
    # Text that looks like a formula stays text.
    formula_cell = ws.cell(row=rows.index(by_title["=SUM(A1:A2) is not a formula"]) + 1, column=2)
    assert formula_cell.data_type == "s"


def test_plan_exports_as_csv_with_bom(client, plan_world):
    login(client, "member@a.example")
    response = client.get(f"/nordland/plans/{plan_world.id}/actions.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert list(rows[0].keys()) == HEADER
    by_title = {row["title"]: row for row in rows}
    first = by_title["Map the members' needs"]
    assert first["start_date"] == "2025-01-06" and first["due_date"] == "2025-03-31"
    assert first["clusters"] == "Arctic Minerals; Helgeland Health"
    assert first["weight"] == "2.5" and first["progress"] == "40"
    assert first["description"] == "Survey,\nthen a report"
    # A formula-like cell is defused with an apostrophe.
    assert "'=SUM(A1:A2) is not a formula" in by_title


def test_plan_export_queries_do_not_grow_with_actions(app, client, plan_world):
    login(client, "coord@a.example")
    few = _plan(
        app,
        plan_world.a,
        plan_world.c1,
        title="Few",
        actions=[({"title": "One", "owner": "member@a.example"}, None)],
    )
    many = _plan(
        app,
        plan_world.a,
        plan_world.c1,
        title="Many",
        actions=[
            ({"title": f"Action {i}", "owner": email}, [plan_world.c1, plan_world.c2])
            for i, email in enumerate(
                ["member@a.example", "coord@a.example", "manager@a.example"] * 8
            )
        ],
    )
    counts = []
    for plan_id in (few, many):
        for kind in ("xlsx", "csv"):
            with count_queries(app) as statements:
                assert client.get(f"/nordland/plans/{plan_id}/actions.{kind}").status_code == 200
            counts.append(len(statements))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts


def test_programme_status_exports(app, client, world):
    from portal.plans.services import create_action, create_plan
    from portal.programmes.services import add_participant, create_programme

    tenant = world["a"]
    yesterday = TODAY - timedelta(days=1)
    with app.test_request_context(), tenant_scope(tenant.id):
        programme = create_programme(
            None,
            {"name": "Arctic Growth", "start_date": TODAY, "end_date": TODAY + timedelta(days=300)},
            tenant.id,
        )
        c1 = db.session.get(Cluster, world["c1"].id)
        c2 = db.session.get(Cluster, world["c2"].id)
        add_participant(None, programme, c1, goal="Double exports")
        add_participant(None, programme, c2)
        own = create_plan(
            None,
            {"title": "Minerals plan", "start_date": TODAY, "end_date": TODAY},
            tenant_id=tenant.id,
            cluster=c1,
            programme=programme,
        )
        joint = create_plan(
            None,
            {"title": "Joint plan", "start_date": TODAY, "end_date": TODAY},
            tenant_id=tenant.id,
            programme=programme,
        )
        create_action(None, own, {"title": "Done", "status": "done"})
        create_action(None, own, {"title": "Late", "due_date": yesterday, "progress": 50})
        create_action(None, own, {"title": "Dropped", "status": "cancelled"})
        create_action(None, joint, {"title": "Late too", "due_date": yesterday})
        programme_id = programme.id
    login(client, "observer@a.example")
    response = client.get(f"/nordland/programmes/{programme_id}/status.xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Clusters", "Plans"]
    clusters = list(wb["Clusters"].iter_rows(values_only=True))
    assert clusters[0] == (
        "Cluster",
        "Goal",
        "Individual plan progress %",
        "Actions",
        "Done",
        "Overdue",
    )
    assert clusters[1] == ("Arctic Minerals", "Double exports", 75, 2, 1, 1)
    assert clusters[2] == ("Helgeland Health", None, 0, 0, 0, 0)
    plans = list(wb["Plans"].iter_rows(values_only=True))
    assert plans[0][0] == "Plan" and wb["Plans"].freeze_panes == "A2"
    assert ("Minerals plan", "Individual plan", "Arctic Minerals", 75, 2, 1, 1) in plans
    assert ("Joint plan", "Joint plan", None, 0, 1, 0, 1) in plans
    csv_response = client.get(f"/nordland/programmes/{programme_id}/status.csv")
    rows = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig"))))
    assert rows[0][0] == "Cluster" and rows[1] == [
        "Arctic Minerals",
        "Double exports",
        "75.0",
        "2",
        "1",
        "1",
    ]
    assert client.get("/nordland/programmes/999999/status.csv").status_code == 404


# --- import -------------------------------------------------------------------------------


def test_import_creates_and_updates_all_rows(app, client, plan_world):
    login(client, "manager@a.example")  # manages the plans of Arctic Minerals
    existing = _actions(app, plan_world.id)
    target = next(a for a in existing if a["title"] == "Map the members' needs")
    content = (
        "title;owner_email;clusters;start_date;due_date;status;progress;priority;weight;id\n"
        "New survey;Member@A.example;helgeland health;2025-04-01;30.06.2025;In progress;"
        "25%;High;1,5;\n"
        "Second new;;;;;;;;;\n"
        f"Map the members' needs (v2);;Arctic Minerals;;;blocked;;low;;{target['id']}\n"
    ).encode("utf-8-sig")
    preview = _upload(client, plan_world.id, content, dry_run=True)
    assert preview.status_code == 200, preview.get_data(as_text=True)[-2000:]
    page = preview.get_data(as_text=True)
    assert "New actions: 2, changed: 1, unchanged: 0" in page
    assert ">new<" in page and ">update<" in page
    assert _actions(app, plan_world.id) == existing  # the preview writes nothing
    response = _upload(client, plan_world.id, content)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    after = {a["title"]: a for a in _actions(app, plan_world.id)}
    assert len(after) == len(existing) + 2
    new = after["New survey"]
    assert new["owner"] == "member@a.example" and new["clusters"] == ["Helgeland Health"]
    assert (new["start"], new["due"]) == (date(2025, 4, 1), date(2025, 6, 30))
    assert (new["status"], new["progress"], new["priority"], new["weight"]) == (
        ActionStatus.IN_PROGRESS,
        25,
        Priority.HIGH,
        1.5,
    )
    second = after["Second new"]
    assert second["status"] == ActionStatus.PLANNED and second["owner"] is None
    assert second["clusters"] == [] and second["weight"] == 1.0
    changed = after["Map the members' needs (v2)"]
    assert changed["id"] == target["id"] and changed["version"] == target["version"] + 1
    assert changed["owner"] is None and changed["clusters"] == ["Arctic Minerals"]
    assert changed["status"] == ActionStatus.BLOCKED and changed["priority"] == Priority.LOW
    # Columns the file leaves out, and empty progress/weight, stay as they were; empty dates
    # are cleared.
    assert changed["description"] == target["description"] and changed["progress"] == 40
    assert changed["weight"] == 2.5 and changed["due"] is None and changed["start"] is None


def test_import_tells_plugins_and_audits(app, client, plan_world, monkeypatch):
    from portal.audit.models import AuditEntry
    from portal.plans import action_writes as spreadsheets

    events = []

    def record(name, tenant_id, **kw):
        kw["who"] = kw["user"].email  # while the request still runs
        events.append((name, tenant_id, kw))

    monkeypatch.setattr(spreadsheets, "emit", record)
    login(client, "coord@a.example")
    target = next(a for a in _actions(app, plan_world.id) if a["title"] == "Hold the kick-off")
    content = f"id,title,priority\n,Audited action,\n{target['id']},Hold the kick-off,high\n"
    assert _upload(client, plan_world.id, content.encode(), dry_run=True).status_code == 200
    assert _upload(client, plan_world.id, b"title,status\nBad,zzz\n").status_code == 422
    assert events == []  # nothing written, nothing told
    response = _upload(client, plan_world.id, content.encode())
    assert response.status_code == 302
    assert [(e[0], e[1], e[2]["created"]) for e in events] == [
        ("action_saved", plan_world.a.id, True),
        ("action_saved", plan_world.a.id, False),
    ]
    assert events[1][2]["changes"] == {"priority": (Priority.NORMAL, Priority.HIGH)}
    assert events[0][2]["who"] == "coord@a.example"
    with app.app_context(), unscoped():
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.object_type == "plan_action")
            .order_by(AuditEntry.id.desc())
        ).all()
        assert {(e.actor, e.action) for e in entries[:2]} == {
            ("coord@a.example", "create"),
            ("coord@a.example", "update"),
        }


def _zip(name: str, data: bytes) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, data)
    return out.getvalue()


BAD_FILES = [
    (b"", "The file is empty"),
    (b"\xef\xbb\xbf  \n\n", "The file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00binary\xff\xfe", "neither an Excel"),
    (b"PK\x03\x04this is no zip at all", "not a readable Excel"),
    (_zip("notes.txt", b"title\nA\n"), "not a readable Excel"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\xff", "neither an Excel"),
    (b"title\n", "no rows"),
    (b"title,colour\nA,red\n", "Unknown column"),
    (b"description,status\nA,planned\n", "is missing"),
    (b"title,title\nA,B\n", "twice in the header"),
    (b"title,status\n,planned\n", "The title is missing"),
    (b"title,owner_email\nA,nobody@nowhere.example\n", "is not a person of this region"),
    (b"title,owner_email\nA,secret@bravo.example\n", "is not a person of this region"),
    (b"title,clusters\nA,Arctic Minerals; Atlantis\n", "no cluster named “Atlantis"),
    (b"title,due_date\nA,next tuesday\n", "is not a date"),
    (b"title,start_date,due_date\nA,2025-05-01,2025-04-01\n", "due date comes before the start"),
    (b"title,status\nA,finished\n", "Unknown value “finished"),
    (b"title,priority\nA,urgent\n", "Unknown value “urgent"),
    (b"title,progress\nA,101\n", "Progress is a whole number"),
    (b"title,progress\nA,half\n", "Progress is a whole number"),
    (b"title,weight\nA,0\n", "The weight is a number above 0"),
    (b"title,weight\nA,-2\n", "The weight is a number above 0"),
    (b"title,workshop_id\nA,987654\n", "no workshop with the id 987654"),
    (b"title,id\nA,987654\n", "987654 is not an action of this plan"),
    (b"title,id\nA,abc\n", "is not a number"),
    (b"title,id\nA,99999999999999999999999\n", "is not a number"),
    (b"title,workshop_id\nA,99999999999\n", "is not a number"),
    (b"title\nA,extra\n", "cells"),
    ("title\n" + "x" * 201 + "\n", "At most 200 characters"),
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES, ids=range(len(BAD_FILES)))
def test_bad_files_are_explained_and_write_nothing(app, client, plan_world, content, message):
    login(client, "coord@a.example")
    content = content.encode() if isinstance(content, str) else content
    good_row = b"Good action,planned\n"
    if content.startswith(b"title,status\n"):
        content += good_row  # a good row does not get written either
    before = _all_actions(app)
    response = _upload(client, plan_world.id, content)
    assert response.status_code == 422, (content, response.status_code)
    text = response.get_data(as_text=True)
    assert message in text, (content, message, text[-3000:])
    assert "Nothing was imported" in text
    assert _all_actions(app) == before


def test_errors_name_row_and_column(app, client, plan_world):
    login(client, "coord@a.example")
    content = b"title,progress,weight\nFine,10,1\nBad,200,1\nAlso bad,5,zero\n"
    response = _upload(client, plan_world.id, content)
    assert response.status_code == 422
    text = " ".join(response.get_data(as_text=True).split())
    assert "<td>3</td><td>progress</td>" in text.replace("> <", "><")
    assert "<td>4</td><td>weight</td>" in text.replace("> <", "><")
    assert "2 problems found" in text


def test_duplicate_ids_and_ids_of_other_plans(app, client, plan_world):
    login(client, "coord@a.example")
    ids = [a["id"] for a in _actions(app, plan_world.id)]
    other = _plan(
        app, plan_world.a, plan_world.c2, title="Other", actions=[({"title": "Not yours"}, None)]
    )
    other_id = _actions(app, other)[0]["id"]
    content = f"id,title\n{ids[0]},A\n{ids[0]},B\n{other_id},C\n".encode()
    before = _all_actions(app)
    response = _upload(client, plan_world.id, content)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "appears twice in the file" in text and "is not an action of this plan" in text
    assert _all_actions(app) == before


def test_more_than_5000_rows_is_refused(app, client, plan_world, monkeypatch):
    login(client, "coord@a.example")
    content = ("title\n" + "".join(f"Action {i}\n" for i in range(5001))).encode()
    before = _all_actions(app)
    # A file of this many rows is checked by a job: its page says why nothing is kept.
    monkeypatch.setitem(app.config, "IMPORT_JOBS_IN_REQUEST", True)
    response = _upload(client, plan_world.id, content)
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "more than 5000 rows" in job_page and "Nothing was written." in job_page
    assert _all_actions(app) == before


def test_missing_file_is_a_form_error(client, plan_world):
    login(client, "coord@a.example")
    response = client.post(
        f"/nordland/plans/{plan_world.id}/import", data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 422 and "Choose a file" in response.get_data(as_text=True)


def test_xlsx_import_with_date_cells(app, client, plan_world):
    login(client, "coord@a.example")
    content = _xlsx(
        [
            ["Title", "Due_Date", "Progress", "Weight", None],
            ["From Excel", datetime(2025, 9, 1), 30, 2, None],
            [None, None, None, None, None],
            ["Second from Excel", None, 0.0, 1.0, None],
        ]
    )
    response = _upload(client, plan_world.id, content, name="whatever.bin")
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    after = {a["title"]: a for a in _actions(app, plan_world.id)}
    assert after["From Excel"]["due"] == date(2025, 9, 1)
    assert after["From Excel"]["progress"] == 30 and after["From Excel"]["weight"] == 2.0
    assert after["From Excel"]["clusters"] == ["Arctic Minerals"]  # the plan's cluster
    bad = _upload(client, plan_world.id, _xlsx([["title", "due_date"], ["X", 45000.5]]))
    assert bad.status_code == 422 and "is not a date" in bad.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_round_trip_into_the_same_plan_changes_nothing(app, client, plan_world, kind):
    login(client, "coord@a.example")
    exported = client.get(f"/nordland/plans/{plan_world.id}/actions.{kind}").data
    before = _actions(app, plan_world.id)
    preview = _upload(client, plan_world.id, exported, dry_run=True, name=f"a.{kind}")
    assert preview.status_code == 200, preview.get_data(as_text=True)[-3000:]
    assert "New actions: 0, changed: 0, unchanged: 3" in preview.get_data(as_text=True)
    response = _upload(client, plan_world.id, exported, name=f"a.{kind}")
    assert response.status_code == 302
    assert _actions(app, plan_world.id) == before  # versions included: nothing was touched


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_round_trip_into_an_empty_plan_recreates_the_actions(app, client, plan_world, kind):
    login(client, "coord@a.example")
    exported = client.get(f"/nordland/plans/{plan_world.id}/actions.{kind}").data
    # The ids belong to the other plan: refused, unless every row is imported as new.
    refused = _upload(client, plan_world.empty_id, exported)
    assert refused.status_code == 422 and "is not an action of this plan" in refused.get_data(
        as_text=True
    )
    response = _upload(client, plan_world.empty_id, exported, as_new=True)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]

    def comparable(actions):
        return sorted(
            (tuple((k, v) for k, v in a.items() if k not in {"id", "version"}) for a in actions),
            key=str,
        )

    assert comparable(_actions(app, plan_world.empty_id)) == comparable(
        _actions(app, plan_world.id)
    )


def test_import_of_a_file_exported_in_another_language(app, client, plan_world):
    login(client, "coord@a.example")
    client.post("/language", data={"locale": "nb", "next": "/"})
    exported = client.get(f"/nordland/plans/{plan_world.id}/actions.xlsx").data
    header = next(load_workbook(io.BytesIO(exported)).active.iter_rows(values_only=True))
    assert list(header) == HEADER  # stable English keys in any language
    client.post("/language", data={"locale": "da", "next": "/"})
    response = _upload(client, plan_world.empty_id, exported, as_new=True, name="a.xlsx")
    assert response.status_code == 302
    assert len(_actions(app, plan_world.empty_id)) == 3


def test_translated_labels_and_errors(app, client, plan_world):
    from flask_babel import force_locale

    from portal.i18n import ACTION_STATUS_LABELS

    login(client, "coord@a.example")
    with app.test_request_context(), force_locale("nb"):
        label = str(ACTION_STATUS_LABELS["blocked"]).upper()
    client.post("/language", data={"locale": "nb", "next": "/"})
    ok = _upload(client, plan_world.id, f"title,status\nLabelled,{label}\n".encode())
    assert ok.status_code == 302
    statuses = {a["title"]: a["status"] for a in _actions(app, plan_world.id)}
    assert statuses["Labelled"] == ActionStatus.BLOCKED
    bad = _upload(client, plan_world.id, b"title,colour\nA,red\n")
    assert bad.status_code == 422 and "Unknown column" not in bad.get_data(as_text=True)


def test_import_page_explains_the_columns(client, plan_world):
    login(client, "coord@a.example")
    page = client.get(f"/nordland/plans/{plan_world.id}/import")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"/nordland/plans/{plan_world.id}/actions.xlsx" in text
    assert "owner_email" in text and 'enctype="multipart/form-data"' in text
    assert 'for="file"' in text and "<script>" not in text and "style=" not in text


def test_who_may_import(app, client, plan_world):
    for email, plan_id, expected in [
        ("observer@a.example", plan_world.id, 403),
        ("member@a.example", plan_world.id, 403),
        ("manager@a.example", plan_world.empty_id, 403),  # a plan of another cluster
        ("manager@a.example", plan_world.id, 200),
        ("coord@a.example", plan_world.empty_id, 200),
    ]:
        login(client, email)
        assert client.get(f"/nordland/plans/{plan_id}/import").status_code == expected, email
        posted = _upload(client, plan_id, b"title\nSneaky\n", dry_run=True)
        assert posted.status_code == expected, email
        client.post("/logout")
    before = _all_actions(app)
    login(client, "member@a.example")
    assert _upload(client, plan_world.id, b"title\nSneaky\n").status_code == 403
    assert _all_actions(app) == before
    assert client.get("/nordland/plans/999999/import").status_code == 404


def test_a_failed_write_leaves_nothing(app, client, plan_world, monkeypatch):
    """If the database refuses at the end, the rows written before are rolled back too."""
    from sqlalchemy.exc import IntegrityError

    from portal.plans import action_import as spreadsheets

    login(client, "coord@a.example")
    before = _all_actions(app)
    real_add_all = db.session.add_all

    def failing_add_all(objs):
        real_add_all(objs)
        raise IntegrityError("INSERT", {}, Exception("boom"))

    monkeypatch.setattr(spreadsheets.db.session, "add_all", failing_add_all)
    response = _upload(client, plan_world.id, b"title\nOne\nTwo\n")
    monkeypatch.undo()
    assert response.status_code == 422
    assert "nothing was written" in response.get_data(as_text=True)
    assert _all_actions(app) == before


def test_plans_of_the_plan_model_are_untouched_by_preview(app, client, plan_world):
    login(client, "coord@a.example")
    with app.app_context(), unscoped():
        before = db.session.scalar(select(Plan.updated_at).where(Plan.id == plan_world.id))
    _upload(client, plan_world.id, b"title\nOnly a preview\n", dry_run=True)
    with app.app_context(), unscoped():
        assert db.session.scalar(select(Plan.updated_at).where(Plan.id == plan_world.id)) == before
