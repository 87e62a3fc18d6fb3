"""A workshop with registration questions, a registrant's answers and a seat asked for, in the
first region of the ``world`` fixture: for the walks over every URL (generated requests,
privacy), so that the routes of questions, answers and seat requests have ids to walk."""

from __future__ import annotations

import csv
import io
from datetime import date, time, timedelta
from types import SimpleNamespace

import openpyxl
from sqlalchemy import select

from portal.accounts.models import Membership, MembershipCluster, Role, User
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.tenancy import tenant_scope, unscoped
from portal.workshops import services
from portal.workshops.models import Registration, Workshop
from portal.workshops.registration_models import (
    RegistrationAnswers,
    RegistrationQuestion,
    SeatRequest,
)
from tests.conftest import login


def build_registration(app, world) -> SimpleNamespace:
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.tenancy import tenant_scope
    from portal.workshops import questions, seat_requests, services
    from portal.workshops.models import Registration, RegistrationStatus

    with app.test_request_context(), tenant_scope(world["a"].id):
        workshop = services.create_workshop(
            None,
            {
                "title": "Registration workshop",
                "day": date.today() + timedelta(days=20),
                "start_time": time(9),
                "end_time": time(12),
                "capacity": 5,
            },
            world["a"].id,
        )
        question = questions.add_question(
            None, workshop, {"kind": "choice", "label": "Session", "options": "A\nB"}
        )
        questions.add_question(None, workshop, {"kind": "dietary", "required": True})
        member = db.session.scalar(select(User).where(User.email == "member@a.example"))
        registration = Registration(
            tenant_id=workshop.tenant_id,
            workshop_id=workshop.id,
            user_id=member.id,
            status=RegistrationStatus.REGISTERED,
        )
        db.session.add(registration)
        db.session.flush()
        questions.store_answers(registration, {str(question.id): "A"})
        db.session.commit()
        manager = db.session.scalar(select(User).where(User.email == "manager@a.example"))
        asked = seat_requests.ask(manager, workshop, "May I come?", {str(question.id): "B"})
        return SimpleNamespace(
            workshop_id=workshop.id, question_id=question.id, request_id=asked.id
        )


# --- helpers of the registration tests (tests/test_workshop_registration*.py) ---------------


def ask_four_questions(app, world, client) -> dict:
    """A workshop the member's cluster (c2) is invited to, with four questions: on site or
    online (required), dietary needs, a required choice, a free text question."""
    wid = make_workshop(app, world["a"])
    login(client, "coord@a.example")
    invite_clusters(client, wid, world["c2"].id)
    assert add_question(client, wid, kind="attendance_mode", required="y").status_code == 302
    assert add_question(client, wid, kind="dietary").status_code == 302
    assert (
        add_question(
            client,
            wid,
            kind="choice",
            label="Which session?",
            options="Morning\nAfternoon\n\nMorning",
            required="y",
        ).status_code
        == 302
    )
    assert (
        add_question(client, wid, kind="text", label="What do you hope to learn?").status_code
        == 302
    )
    client.post("/logout")
    ids = question_ids(app, wid)
    return {
        "wid": wid,
        "mode": ids["attendance_mode"],
        "diet": ids["dietary"],
        "session": ids["Which session?"],
        "hope": ids["What do you hope to learn?"],
    }


def make_workshop(app, tenant, *, days=7, capacity=None, title="Silver workshop") -> int:
    with app.test_request_context(), tenant_scope(tenant.id):
        return services.create_workshop(
            None,
            {
                "title": title,
                "day": date.today() + timedelta(days=days),
                "start_time": time(9, 30),
                "end_time": time(15, 0),
                "capacity": capacity,
            },
            tenant.id,
        ).id


def invite_clusters(client, wid, *cluster_ids):
    response = client.post(
        f"/nordland/workshops/{wid}/invites", data={"cluster_ids": list(cluster_ids)}
    )
    assert response.status_code == 302


def add_question(client, wid, **data):
    return client.post(f"/nordland/workshops/{wid}/questions", data=data)


def question_ids(app, wid) -> dict[str, int]:
    """The workshop's questions (removed ones too): kind or label -> id."""
    with app.app_context(), unscoped():
        rows = db.session.scalars(
            select(RegistrationQuestion).where(RegistrationQuestion.workshop_id == wid)
        )
        return {q.label or q.kind.value: q.id for q in rows}


def answers_of(app, wid, email) -> dict | None:
    with app.app_context(), unscoped():
        row = db.session.scalar(
            select(RegistrationAnswers)
            .join(Registration, Registration.id == RegistrationAnswers.registration_id)
            .join(User, User.id == Registration.user_id)
            .where(Registration.workshop_id == wid, User.email == email)
        )
        return dict(row.answers) if row is not None else None


def status_of(app, wid, email) -> str | None:
    with app.app_context(), unscoped():
        status = db.session.scalar(
            select(Registration.status)
            .join(User, User.id == Registration.user_id)
            .where(Registration.workshop_id == wid, User.email == email)
        )
        return status.value if status is not None else None


def mails_to(app, email) -> list[OutboxMessage]:
    with app.app_context(), unscoped():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == email).order_by(OutboxMessage.id)
        )
        return [(m.subject, m.body) for m in rows]


def good_answers(q, **over) -> dict:
    data = {
        f"q{q['mode']}": "online",
        f"q{q['diet']}": "Vegetarian",
        f"q{q['session']}": "Afternoon",
        f"q{q['hope']}": "Benchmarking",
    }
    return data | {f"q{q[k]}": v for k, v in over.items()}


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    assert response.status_code == 200 and response.mimetype.endswith("sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    return [[cell if cell is not None else "" for cell in row] for row in sheet.values]


def registration_id(app, wid, email) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(
            select(Registration.id)
            .join(User, User.id == Registration.user_id)
            .where(Registration.workshop_id == wid, User.email == email)
        )


def minutes_of(app, wid) -> str:
    with app.app_context(), unscoped():
        return db.session.get(Workshop, wid).minutes_md


def user_id_of(email):
    return db.session.scalar(select(User.id).where(User.email == email))


def request_id_of(app, wid, email) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(
            select(SeatRequest.id).where(
                SeatRequest.workshop_id == wid, SeatRequest.user_id == user_id_of(email)
            )
        )


def grow(app, tenant_id, wid, n, asked, start=0):
    """n more people with a cluster, registered with answers (every third on the waiting
    list)."""
    with app.test_request_context(), tenant_scope(tenant_id):
        from portal.clusters.models import Cluster

        cluster = db.session.scalar(select(Cluster.id).order_by(Cluster.id))
        for i in range(start, start + n):
            user = User(email=f"person{i}@a.example", name=f"Person {i:03d}")
            db.session.add(user)
            db.session.flush()
            membership = Membership(tenant_id=tenant_id, user_id=user.id, role=Role.MEMBER)
            db.session.add(membership)
            db.session.flush()
            db.session.add(
                MembershipCluster(
                    tenant_id=tenant_id, membership_id=membership.id, cluster_id=cluster
                )
            )
            registration = Registration(
                tenant_id=tenant_id,
                workshop_id=wid,
                user_id=user.id,
                status="registered" if i % 3 else "waitlisted",
                attended=bool(i % 2),
            )
            db.session.add(registration)
            db.session.flush()
            db.session.add(
                RegistrationAnswers(
                    tenant_id=tenant_id,
                    registration_id=registration.id,
                    workshop_id=wid,
                    answers={str(asked["diet"]): f"Diet {i}", str(asked["mode"]): "online"},
                )
            )
            db.session.add(
                SeatRequest(
                    tenant_id=tenant_id,
                    workshop_id=wid,
                    user_id=user.id,
                    status="pending",
                    answers={},
                )
            )
        db.session.commit()


def begin(app, wid) -> None:
    """The workshop held yesterday: it has begun (attendance can be marked), registration is
    over. Set after people registered, as the real clock would move on."""
    with app.test_request_context(), unscoped():
        workshop = db.session.get(Workshop, wid)
        with tenant_scope(workshop.tenant_id):
            workshop.day = date.today() - timedelta(days=1)
            db.session.commit()
