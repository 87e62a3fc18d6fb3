"""Workshops: pages, registration with a waiting list, attendance, minutes, materials,
decisions that become actions, calendar files and the programme feed."""

from __future__ import annotations

import io
import re
from datetime import date, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Membership, Role, User
from portal.extensions import db
from portal.files.models import StoredFile
from portal.mail.models import OutboxMessage
from portal.plans.models import Action
from portal.tenancy import tenant_scope, unscoped
from portal.toolkit import hookimpl
from portal.workshops import services
from portal.workshops.models import AgendaItem, Registration, Workshop, WorkshopInvite
from tests.conftest import Factory, login, queries_per_page
from tests.data.uploads import corpus as upload_corpus
from tests.locking_support import version_on
from tests.registration_support import begin

PDF = upload_corpus.pdf()  # a real one: uploads are parsed


def _count(app, model, **where):
    with app.app_context(), unscoped():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return db.session.scalar(stmt)


def _workshop(app, tenant, *, days=7, capacity=None, programme_id=None, title="Silver workshop"):
    """A workshop made through the service; returns its id."""
    with app.test_request_context(), tenant_scope(tenant.id):
        workshop = services.create_workshop(
            None,
            {
                "title": title,
                "day": date.today() + timedelta(days=days),
                "start_time": time(9, 30),
                "end_time": time(15, 0),
                "location": "Bodø, Nord universitet",
                "capacity": capacity,
                "programme_id": programme_id,
            },
            tenant.id,
        )
        return workshop.id


def _programme(app, tenant, name="Road to silver"):
    from portal.programmes.models import Programme

    with app.test_request_context(), tenant_scope(tenant.id):
        programme = Programme(
            tenant_id=tenant.id,
            name=name,
            start_date=date.today() - timedelta(days=30),
            end_date=date.today() + timedelta(days=300),
        )
        db.session.add(programme)
        db.session.commit()
        return SimpleNamespace(id=programme.id, key=programme.calendar_key)


def _user_id(app, email):
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def _registrations(app, workshop_id):
    with app.app_context(), unscoped():
        rows = db.session.execute(
            select(User.email, Registration.status, Registration.attended)
            .join(User, User.id == Registration.user_id)
            .where(Registration.workshop_id == workshop_id)
            .order_by(Registration.id)
        ).all()
    return {email: (status.value, attended) for email, status, attended in rows}


@pytest.fixture
def uploads(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def _files_in(folder) -> list:
    """The stored files (keys are paths in the folder: t<region>/files/<name>)."""
    return [path for path in folder.rglob("*") if path.is_file()]


VALID = {
    "title": "Joint improvement workshop",
    # Ahead of today whatever day the tests run: a past workshop takes no registrations and
    # may be closed (a fixed day, 2031-03-04, would turn this test's workshop past in 2031).
    "day": (date.today() + timedelta(days=90)).isoformat(),
    "start_time": "09:00",
    "end_time": "15:30",
    "location": "Bodø",
    "online_url": "https://meet.example/forum",
    "description": "Reports and the scorecard.",
    "capacity": "20",
}


# --- creating and changing ------------------------------------------------------------------


def test_coordinator_creates_and_edits_a_workshop(client, world, app):
    programme = _programme(app, world["a"])
    login(client, "coord@a.example")
    form = client.get(f"/nordland/workshops/new?programme_id={programme.id}")
    assert form.status_code == 200
    assert re.search(
        rf'<option selected value="{programme.id}">|value="{programme.id}" selected',
        form.get_data(as_text=True),
    )
    response = client.post("/nordland/workshops/new", data={**VALID, "programme_id": programme.id})
    assert response.status_code == 302
    with app.app_context(), unscoped():
        workshop = db.session.scalar(select(Workshop).where(Workshop.title == VALID["title"]))
    assert workshop.tenant_id == world["a"].id and workshop.programme_id == programme.id
    assert workshop.start_time == time(9, 0) and workshop.capacity == 20
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and b"Joint improvement workshop" in page.data
    assert b"Road to silver" in page.data and b"Subscribe to the calendar" in page.data
    url = f"/nordland/workshops/{workshop.id}/edit"
    edit = client.post(
        url,
        data={
            **VALID,
            "title": "Renamed",
            "capacity": "",
            "programme_id": "",
            "version": version_on(client, url),
        },
    )
    assert edit.status_code == 302
    with app.app_context(), unscoped():
        workshop = db.session.get(Workshop, workshop.id)
        assert (workshop.title, workshop.capacity, workshop.programme_id) == ("Renamed", None, None)
    index = client.get("/nordland/workshops/")
    assert b"Renamed" in index.data and b"New workshop" in index.data


def test_bad_workshop_input_is_explained_and_writes_nothing(client, world, app):
    login(client, "coord@a.example")
    before = _count(app, Workshop)
    for change, message in [
        ({"title": "  "}, b"This field is required"),
        ({"day": "2031-02-30"}, b"Not a valid date"),
        ({"day": "0001-01-01"}, b"between 1990 and 2100"),
        ({"day": ""}, b"This field is required"),
        ({"start_time": "25:00"}, b"Not a valid time"),
        ({"end_time": "08:00"}, b"must end after it starts"),
        ({"capacity": "0"}, b"from 1 to 100000"),
        ({"capacity": "9" * 40}, b"from 1 to 100000"),
        ({"capacity": "9" * 400}, b"from 1 to 100000"),
        ({"capacity": "lots"}, b"Not a valid integer"),
        ({"online_url": "javascript://x.example/%0aalert(1)"}, b"https://"),
        ({"online_url": "not a link"}, b"Invalid URL"),
        ({"programme_id": "abc"}, b"Invalid Choice"),
        ({"programme_id": "999999"}, b"Not a valid choice"),
        ({"title": "x" * 201}, b"longer than 200"),
    ]:
        response = client.post("/nordland/workshops/new", data={**VALID, **change})
        assert response.status_code == 422, change
        assert message in response.data, (change, response.data[-2000:])
    # Missing fields altogether.
    assert client.post("/nordland/workshops/new", data={}).status_code == 422
    assert _count(app, Workshop) == before
    wid = _workshop(app, world["a"])
    url = f"/nordland/workshops/{wid}/edit"
    bad_edit = client.post(
        url, data={**VALID, "end_time": "01:00", "version": version_on(client, url)}
    )
    assert bad_edit.status_code == 422
    with app.app_context(), unscoped():
        assert db.session.get(Workshop, wid).end_time == time(15, 0)


def test_only_coordinators_create_and_change_workshops(client, world, app):
    wid = _workshop(app, world["a"])
    for email in ("manager@a.example", "member@a.example", "observer@a.example"):
        login(client, email)
        assert client.get("/nordland/workshops/new").status_code == 403
        assert client.post("/nordland/workshops/new", data=VALID).status_code == 403
        assert client.post(f"/nordland/workshops/{wid}/edit", data=VALID).status_code == 403
        assert (
            client.post(f"/nordland/workshops/{wid}/agenda", data={"agenda-title": "X"}).status_code
            == 403
        )
        assert (
            client.post(f"/nordland/workshops/{wid}/minutes", data={"minutes": "x"}).status_code
            == 403
        )
        assert client.post(f"/nordland/workshops/{wid}/end").status_code == 403
        assert client.post(f"/nordland/workshops/{wid}/delete").status_code == 403
        page = client.get(f"/nordland/workshops/{wid}")
        assert page.status_code == 200 and b"Add an agenda item" not in page.data
        client.post("/logout")
    assert _count(app, Workshop) == 1


def test_index_lists_upcoming_and_past_with_counts(client, world, app):
    login(client, "observer@a.example")
    empty = client.get("/nordland/workshops/")
    assert b"No workshops are planned" in empty.data and b"No past workshops yet" in empty.data
    assert b"New workshop" not in empty.data
    soon = _workshop(app, world["a"], title="Coming soon", capacity=12)
    _workshop(app, world["a"], days=-40, title="Long ago")
    with app.test_request_context(), tenant_scope(world["a"].id):
        db.session.add(
            Registration(
                tenant_id=world["a"].id,
                workshop_id=soon,
                user_id=_user_id(app, "member@a.example"),
                status="registered",
            )
        )
        db.session.commit()
    page = client.get("/nordland/workshops/").get_data(as_text=True)
    upcoming, past = page.split('id="past-heading"')
    assert "Coming soon" in upcoming and "1 of 12" in upcoming and "Long ago" in past
    assert client.get("/nordland/workshops/?page=99&per_page=-3").status_code == 200


# --- registration --------------------------------------------------------------------------


def test_who_may_register(client, world, app):
    wid = _workshop(app, world["a"])
    login(client, "observer@a.example")
    assert client.post(f"/nordland/workshops/{wid}/register").status_code == 403
    client.post("/logout")
    login(client, "member@a.example")
    page = client.get(f"/nordland/workshops/{wid}")
    assert b">Register<" not in page.data
    assert client.post(f"/nordland/workshops/{wid}/register").status_code == 403
    client.post("/logout")
    # The coordinator invites the member's cluster.
    login(client, "coord@a.example")
    response = client.post(
        f"/nordland/workshops/{wid}/invites", data={"cluster_ids": [world["c2"].id]}
    )
    assert response.status_code == 302
    assert (
        client.post(f"/nordland/workshops/{wid}/invites", data={"cluster_ids": ["abc"]}).status_code
        == 422
    )
    client.post("/logout")
    login(client, "member@a.example")
    assert b">Register<" in client.get(f"/nordland/workshops/{wid}").data
    assert client.post(f"/nordland/workshops/{wid}/register").status_code == 302
    assert _registrations(app, wid) == {"member@a.example": ("registered", None)}
    client.post("/logout")
    # The manager works for the other cluster: not invited.
    login(client, "manager@a.example")
    assert client.post(f"/nordland/workshops/{wid}/register").status_code == 403


def test_a_person_invitation_and_its_withdrawal(client, world, app):
    wid = _workshop(app, world["a"])
    other = _workshop(app, world["a"], title="Other")
    manager = _user_id(app, "manager@a.example")
    login(client, "coord@a.example")
    assert (
        client.post(f"/nordland/workshops/{wid}/invites", data={"user_ids": [manager]}).status_code
        == 302
    )
    with app.app_context(), unscoped():
        invite_id = db.session.scalar(
            select(WorkshopInvite.id).where(WorkshopInvite.workshop_id == wid)
        )
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "Manager" in page.split('id="invitations"')[1]
    assert client.post(f"/nordland/workshops/{other}/invites/{invite_id}/delete").status_code == 404
    assert client.post(f"/nordland/workshops/{wid}/invites/{invite_id}/delete").status_code == 302
    assert _count(app, WorkshopInvite) == 0


def test_capacity_waiting_list_and_promotion_by_mail(client, world, app):
    wid = _workshop(app, world["a"], capacity=2)
    login(client, "coord@a.example")
    client.post(
        f"/nordland/workshops/{wid}/invites", data={"cluster_ids": [world["c1"].id, world["c2"].id]}
    )
    client.post("/logout")
    for email in ("coord@a.example", "manager@a.example", "member@a.example"):
        login(client, email)
        response = client.post(f"/nordland/workshops/{wid}/register", follow_redirects=True)
        assert response.status_code == 200
        client.post("/logout")
    assert _registrations(app, wid) == {
        "coord@a.example": ("registered", None),
        "manager@a.example": ("registered", None),
        "member@a.example": ("waitlisted", None),
    }
    login(client, "member@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "number 1 on the waiting list" in page and "2 of 2 taken" in page
    client.post("/logout")
    login(client, "coord@a.example")
    cancelled = client.post(f"/nordland/workshops/{wid}/cancel", follow_redirects=True)
    assert b"Your registration is cancelled" in cancelled.data
    assert _registrations(app, wid)["member@a.example"] == ("registered", None)
    assert _registrations(app, wid)["coord@a.example"] == ("cancelled", None)
    with app.app_context():
        mail = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.recipient == "member@a.example")
        )
    assert mail is not None and "Silver workshop" in mail.subject
    # Cancelling twice, or without a registration, is calm.
    assert (
        b"were not registered"
        not in client.post(f"/nordland/workshops/{wid}/cancel", follow_redirects=True).data
    )
    client.post("/logout")
    login(client, "observer@a.example")
    assert (
        b"were not registered"
        in client.post(f"/nordland/workshops/{wid}/cancel", follow_redirects=True).data
    )


def test_registration_closes_when_the_workshop_is_over(client, world, app):
    wid = _workshop(app, world["a"], days=-2)
    login(client, "coord@a.example")
    response = client.post(f"/nordland/workshops/{wid}/register", follow_redirects=True)
    assert response.status_code == 200 and b"This workshop is over" in response.data
    assert _registrations(app, wid) == {}


def test_attendance_marking(client, world, app):
    wid = _workshop(app, world["a"])
    login(client, "coord@a.example")
    client.post(f"/nordland/workshops/{wid}/invites", data={"cluster_ids": [world["c2"].id]})
    client.post(f"/nordland/workshops/{wid}/register")
    client.post("/logout")
    login(client, "member@a.example")
    client.post(f"/nordland/workshops/{wid}/register")
    client.post("/logout")
    # Before the workshop begins, attendance is not offered, and a post of it is refused.
    login(client, "coord@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert 'name="attended"' not in page
    assert "Attendance can be marked once the workshop has begun." in page
    with app.app_context(), unscoped():
        early_reg = db.session.scalar(
            select(Registration.id).where(
                Registration.workshop_id == wid,
                Registration.user_id == _user_id(app, "member@a.example"),
            )
        )
    version = version_on(client, f"/nordland/workshops/{wid}", "version")
    refused = client.post(
        f"/nordland/workshops/{wid}/attendance",
        data={"attended": [early_reg], "version": version},
    )
    assert refused.status_code == 422
    assert "Attendance can be marked once the workshop has begun." in refused.get_data(as_text=True)
    assert not _registrations(app, wid)["member@a.example"][1]  # nothing marked
    begin(app, wid)
    with app.app_context(), unscoped():
        member_reg = db.session.scalar(
            select(Registration.id).where(
                Registration.workshop_id == wid,
                Registration.user_id == _user_id(app, "member@a.example"),
            )
        )
    # The form names the workshop's version (portal.locking).
    version = version_on(client, f"/nordland/workshops/{wid}", "version")
    assert (
        client.post(
            f"/nordland/workshops/{wid}/attendance",
            data={"attended": [member_reg], "version": version},
        ).status_code
        == 302
    )
    assert _registrations(app, wid) == {
        "coord@a.example": ("registered", False),
        "member@a.example": ("registered", True),
    }
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert re.search(rf'value="{member_reg}"\s+checked', page)
    # An id that is not a registration of this workshop is refused.
    assert (
        client.post(
            f"/nordland/workshops/{wid}/attendance", data={"attended": ["999999"]}
        ).status_code
        == 422
    )
    assert (
        client.post(f"/nordland/workshops/{wid}/attendance", data={"attended": ["x"]}).status_code
        == 422
    )


# --- agenda and minutes ---------------------------------------------------------------------


def test_agenda_items(client, world, app):
    wid = _workshop(app, world["a"])
    other = _workshop(app, world["a"], title="Other")
    login(client, "coord@a.example")
    response = client.post(
        f"/nordland/workshops/{wid}/agenda",
        data={
            "agenda-start_time": "10:00",
            "agenda-title": "Benchmarking reports",
            "agenda-presenter": "ESCA",
        },
    )
    assert response.status_code == 302
    bad = client.post(f"/nordland/workshops/{wid}/agenda", data={"agenda-start_time": "99:99"})
    assert bad.status_code == 422 and b"Not a valid time" in bad.data
    assert _count(app, AgendaItem) == 1
    page = client.get(f"/nordland/workshops/{wid}")
    assert b"Benchmarking reports" in page.data and b"ESCA" in page.data
    with app.app_context(), unscoped():
        item_id = db.session.scalar(select(AgendaItem.id))
    assert client.post(f"/nordland/workshops/{other}/agenda/{item_id}/delete").status_code == 404
    assert client.post(f"/nordland/workshops/{wid}/agenda/{item_id}/delete").status_code == 302
    assert _count(app, AgendaItem) == 0


def test_minutes_are_sanitised(client, world, app):
    wid = _workshop(app, world["a"])
    login(client, "coord@a.example")
    text = (
        "We agreed on **joint branding**.\n\n"
        "<script>alert('x')</script>\n\n"
        '<p onclick="steal()">Click</p>\n\n'
        "[report](javascript:alert(1)) and [scorecard](https://esca.example/report)\n"
    )
    version = version_on(client, f"/nordland/workshops/{wid}")
    assert (
        client.post(
            f"/nordland/workshops/{wid}/minutes", data={"minutes": text, "version": version}
        ).status_code
        == 302
    )
    with app.app_context(), unscoped():
        assert db.session.get(Workshop, wid).minutes_md == text
    client.post("/logout")
    login(client, "member@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    minutes = page.split('id="minutes-section"')[1].split("</section>")[0]
    assert "<strong>joint branding</strong>" in minutes
    assert "<script" not in minutes and "onclick" not in minutes and "javascript:" not in minutes
    assert 'href="https://esca.example/report"' in minutes
    assert "<script>alert" not in page and "onclick" not in page and "javascript:" not in page


# --- materials ------------------------------------------------------------------------------


def _xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Indicator", "Score"])
    book.active.append(["Share of private funds", 3])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(client, wid, content: bytes, name: str):
    return client.post(
        f"/nordland/workshops/{wid}/materials",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_materials_are_checked_by_content(client, world, app, uploads):
    wid = _workshop(app, world["a"])
    login(client, "coord@a.example")
    assert _upload(client, wid, PDF, "Scorecard 2024.pdf").status_code == 302
    assert _upload(client, wid, _xlsx(), "../../results.xlsx").status_code == 302
    for content, name, message in [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00program", "report.pdf", "Only PDF"),
        (b"<html><script>alert(1)</script></html>", "report.pdf", "contains HTML"),
        (b"", "empty.pdf", "The file is empty"),
    ]:
        response = _upload(client, wid, content, name)
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True)
    no_file = client.post(
        f"/nordland/workshops/{wid}/materials", data={}, content_type="multipart/form-data"
    )
    assert no_file.status_code == 422 and b"Choose a file" in no_file.data
    with app.app_context(), unscoped():
        stored = db.session.scalars(select(StoredFile).order_by(StoredFile.id)).all()
    assert [(s.filename, s.content_type) for s in stored] == [
        ("Scorecard 2024.pdf", "application/pdf"),
        ("results.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ]
    assert len(_files_in(uploads)) == 2
    pdf_id = stored[0].id
    client.post("/logout")
    login(client, "member@a.example")
    assert _upload(client, wid, PDF, "x.pdf").status_code == 403
    download = client.get(f"/nordland/workshops/{wid}/materials/{pdf_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "Scorecard 2024.pdf" in download.headers["Content-Disposition"]
    # The file of one workshop is not found under another.
    other = _workshop(app, world["a"], title="Other")
    assert client.get(f"/nordland/workshops/{other}/materials/{pdf_id}").status_code == 404
    assert client.post(f"/nordland/workshops/{wid}/materials/{pdf_id}/delete").status_code == 403
    client.post("/logout")
    login(client, "coord@a.example")
    assert client.post(f"/nordland/workshops/{other}/materials/{pdf_id}/delete").status_code == 404
    assert client.post(f"/nordland/workshops/{wid}/materials/{pdf_id}/delete").status_code == 302
    assert _count(app, StoredFile) == 1 and len(_files_in(uploads)) == 1
    assert client.get(f"/nordland/workshops/{wid}/materials/{pdf_id}").status_code == 404


def test_too_large_material_is_refused(make_app, tmp_path):
    app = make_app({"FILE_MAX_BYTES": 1024 * 1024, "UPLOAD_DIR": str(tmp_path / "up")})
    factory = Factory(app)
    tenant = factory.tenant("nordland")
    factory.user("coord@a.example", tenant=tenant, role="coordinator")
    wid = _workshop(app, tenant)
    client = app.test_client()
    login(client, "coord@a.example")
    response = _upload(client, wid, PDF + b"0" * (1024 * 1024), "big.pdf")
    assert response.status_code == 422 and b"larger than 1 MB" in response.data
    assert _count(app, StoredFile) == 0


# --- decisions, calendar, feed --------------------------------------------------------------


def test_a_decision_becomes_an_action(client, world, app):
    from portal.clusters.models import Cluster
    from portal.plans import services as plans

    wid = _workshop(app, world["a"])
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.scalar(select(Cluster).where(Cluster.id == world["c1"].id))
        plan = plans.create_plan(
            None,
            {
                "title": "Arctic plan",
                "start_date": date(2025, 1, 1),
                "end_date": date(2026, 12, 31),
            },
            tenant_id=world["a"].id,
            cluster=cluster,
        )
        plan_id = plan.id
    manager = _user_id(app, "manager@a.example")
    login(client, "member@a.example")
    page = client.get(f"/nordland/workshops/{wid}")
    assert b"Record a decision" not in page.data
    assert client.post(f"/nordland/workshops/{wid}/decisions", data={}).status_code == 403
    client.post("/logout")
    login(client, "manager@a.example")  # manages the plan of their cluster
    assert b"Record a decision" in client.get(f"/nordland/workshops/{wid}").data
    bad = client.post(
        f"/nordland/workshops/{wid}/decisions",
        data={"decision-plan_id": plan_id, "decision-due_date": "soon"},
    )
    assert bad.status_code == 422 and b"This field is required" in bad.data
    response = client.post(
        f"/nordland/workshops/{wid}/decisions",
        data={
            "decision-title": "Shared branding campaign",
            "decision-plan_id": plan_id,
            "decision-owner_id": manager,
            "decision-due_date": "2026-06-30",
        },
    )
    assert response.status_code == 302
    with app.app_context(), unscoped():
        action = db.session.scalar(select(Action).where(Action.title == "Shared branding campaign"))
    assert action.workshop_id == wid and action.plan_id == plan_id
    assert action.owner_id == manager and action.due_date == date(2026, 6, 30)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<a href="/nordland/actions/{action.id}">Shared branding campaign</a>' in page


def test_calendar_file_of_a_workshop(client, world, app):
    from icalendar import Calendar

    wid = _workshop(app, world["a"])
    login(client, "observer@a.example")
    response = client.get(f"/nordland/workshops/{wid}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = Calendar.from_ical(response.data)
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert str(start.tzinfo) == "Europe/Oslo" and start.time() == time(9, 30)
    assert b"TZID=Europe/Oslo" in response.data
    assert str(event["summary"]) == "Silver workshop"
    assert f"/nordland/workshops/{wid}" in str(event["url"])


def test_programme_feed_needs_the_key_not_a_session(client, world, app):
    from icalendar import Calendar

    programme = _programme(app, world["a"])
    _workshop(app, world["a"], programme_id=programme.id, title="First")
    _workshop(app, world["a"], programme_id=programme.id, days=60, title="Second")
    _workshop(app, world["a"], title="Not in the programme")
    url = f"/nordland/workshops/feed/{programme.id}/{programme.key}.ics"
    response = client.get(url)  # nobody signed in
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    titles = sorted(str(e["summary"]) for e in Calendar.from_ical(response.data).walk("VEVENT"))
    assert titles == ["First", "Second"]
    wrong = client.get(f"/nordland/workshops/feed/{programme.id}/wrong-key.ics")
    assert wrong.status_code == 404 and b"Nordland Forum" not in wrong.data
    assert (
        client.get(f"/nordland/workshops/feed/{programme.id + 1}/{programme.key}.ics").status_code
        == 404
    )
    # The key of one region's programme does not open it under another region's address.
    assert (
        client.get(f"/bravo/workshops/feed/{programme.id}/{programme.key}.ics").status_code == 404
    )
    # Other workshop pages still want a sign-in.
    assert client.get("/nordland/workshops/").status_code == 302


# --- closing, hooks -------------------------------------------------------------------------


class HookRecorder:
    def __init__(self):
        self.calls = []

    @hookimpl
    def workshop_saved(self, workshop, created, changes, user):
        self.calls.append(("workshop_saved", workshop.title, created, tuple(sorted(changes))))

    @hookimpl
    def registration_changed(self, registration, user):
        self.calls.append(("registration_changed", registration.status.value))

    @hookimpl
    def workshop_ended(self, workshop):
        self.calls.append(("workshop_ended", workshop.title))


def test_hooks_and_closing_a_workshop(make_app):
    recorder = HookRecorder()
    app = make_app(plugins=[("rec", recorder)])
    factory = Factory(app)
    tenant = factory.tenant("nordland")
    factory.user("coord@a.example", tenant=tenant, role="coordinator")
    factory.enable_plugin(tenant, "rec")
    client = app.test_client()
    login(client, "coord@a.example")
    assert client.post("/nordland/workshops/new", data=VALID).status_code == 302
    with app.app_context(), unscoped():
        wid = db.session.scalar(select(Workshop.id))
    edit = f"/nordland/workshops/{wid}/edit"
    client.post(edit, data={**VALID, "title": "Renamed", "version": version_on(client, edit)})
    version = version_on(client, f"/nordland/workshops/{wid}")
    client.post(f"/nordland/workshops/{wid}/minutes", data={"minutes": "Done.", "version": version})
    client.post(f"/nordland/workshops/{wid}/register")
    client.post(f"/nordland/workshops/{wid}/cancel")
    # Not over yet: it cannot be closed.
    early = client.post(f"/nordland/workshops/{wid}/end", follow_redirects=True)
    assert b"once it is over" in early.data
    assert b"Close the workshop" not in client.get(f"/nordland/workshops/{wid}").data
    past = _workshop(app, tenant, days=-3, title="Held")
    assert b"Close the workshop" in client.get(f"/nordland/workshops/{past}").data
    assert client.post(f"/nordland/workshops/{past}/end").status_code == 302
    assert client.post(f"/nordland/workshops/{past}/end").status_code == 302  # once only
    with app.app_context(), unscoped():
        assert db.session.get(Workshop, past).ended_at is not None
    assert recorder.calls == [
        ("workshop_saved", "Joint improvement workshop", True, ()),
        ("workshop_saved", "Renamed", False, ("title",)),
        ("workshop_saved", "Renamed", False, ("minutes_md",)),
        ("registration_changed", "registered"),
        ("registration_changed", "cancelled"),
        ("workshop_saved", "Held", True, ()),
        ("workshop_ended", "Held"),
    ]


def test_coordinator_deletes_a_workshop(client, world, app, uploads):
    wid = _workshop(app, world["a"])
    login(client, "coord@a.example")
    _upload(client, wid, PDF, "a.pdf")
    assert client.post(f"/nordland/workshops/{wid}/delete").status_code == 302
    assert _count(app, Workshop) == 0 and _count(app, StoredFile) == 0
    assert _files_in(uploads) == []


# --- query counts ---------------------------------------------------------------------------


def _grow(app, tenant_id: int, wid: int, n: int, start: int) -> None:
    """n more people registered for the workshop, and n more workshops (half of them past)."""
    with app.test_request_context(), tenant_scope(tenant_id):
        for i in range(start, start + n):
            user = User(email=f"person{i}@a.example", name=f"Person {i:03d}")
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(tenant_id=tenant_id, user_id=user.id, role=Role.MEMBER))
            db.session.add(
                Registration(
                    tenant_id=tenant_id,
                    workshop_id=wid,
                    user_id=user.id,
                    status="registered" if i % 3 else "waitlisted",
                )
            )
            db.session.add(WorkshopInvite(tenant_id=tenant_id, workshop_id=wid, user_id=user.id))
            db.session.add(
                Workshop(
                    tenant_id=tenant_id,
                    title=f"Workshop {i:03d}",
                    day=date.today() + timedelta(days=(i % 2 * 2 - 1) * (i + 1)),
                    start_time=time(9),
                    end_time=time(12),
                    capacity=30,
                )
            )
            db.session.add(AgendaItem(tenant_id=tenant_id, workshop_id=wid, title=f"Item {i}"))
        db.session.commit()


def test_query_counts_do_not_grow_with_the_data(client, world, app, uploads):
    wid = _workshop(app, world["a"], capacity=100)
    _grow(app, world["a"].id, wid, 1, start=0)
    pages = [
        "/nordland/workshops/",
        "/nordland/workshops/?page=2&per_page=5",
        f"/nordland/workshops/{wid}",
    ]
    login(client, "coord@a.example")
    _upload(client, wid, PDF, "a.pdf")

    def counts():
        return queries_per_page(app, client, pages)

    client.get(pages[0])
    small = counts()
    _grow(app, world["a"].id, wid, 39, start=1)
    for _ in range(3):
        _upload(client, wid, PDF, "b.pdf")
    large = counts()
    assert small == large
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "Person 039" in page and "Workshop 038" not in page


def test_minutes_headings_sit_under_the_page_headings(app):
    from portal.workshops.services import render_minutes

    html = str(render_minutes("# Title\n\n## Decisions\n\ntext"))
    assert "<h3>Title</h3>" in html and "<h4>Decisions</h4>" in html and "<h2" not in html


def test_a_past_workshop_cannot_be_cancelled(app, world):
    from datetime import date, time, timedelta

    import pytest

    from portal.accounts.models import User
    from portal.errors import ServiceError
    from portal.tenancy import tenant_scope
    from portal.workshops import services
    from portal.workshops.models import Registration, RegistrationStatus

    with app.test_request_context(), tenant_scope(world["a"].id):
        workshop = services.create_workshop(
            None,
            {
                "title": "Held",
                "day": date.today() - timedelta(days=3),
                "start_time": time(9),
                "end_time": time(12),
            },
            world["a"].id,
        )
        coordinator = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        db.session.add(
            Registration(
                tenant_id=world["a"].id,
                workshop_id=workshop.id,
                user_id=coordinator.id,
                status=RegistrationStatus.REGISTERED,
                attended=True,
            )
        )
        db.session.commit()
        with pytest.raises(ServiceError):
            services.cancel(coordinator, workshop)
