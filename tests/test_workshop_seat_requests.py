"""Registration that fits real meetings (issue 14, item 5), part two: seats asked for by
members who were not invited, accepted (a seat or the waiting list, as registering does) or
declined with a mail; only coordinators see answers and manage; no 500 on bad input; query
counts flat in the number of registrants."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.tenancy import unscoped
from portal.workshops.models import Registration, WorkshopInvite
from portal.workshops.registration_models import SeatRequest
from tests.conftest import login, queries_per_page
from tests.registration_support import (
    add_question,
    answers_of,
    ask_four_questions,
    good_answers,
    grow,
    invite_clusters,
    mails_to,
    make_workshop,
    read_csv,
    request_id_of,
    status_of,
    user_id_of,
)


@pytest.fixture
def asked(app, world, client):
    """A workshop the member's cluster is invited to, asking four questions."""
    return ask_four_questions(app, world, client)


# --- seats asked for ------------------------------------------------------------------------


def test_a_member_not_invited_asks_for_a_seat_and_is_accepted(app, world, client, asked):
    wid = asked["wid"]
    login(client, "manager@a.example")  # works for c1, which is not invited
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "Ask for a seat" in page
    url = f"/nordland/workshops/{wid}/seat-request"
    refused = client.post(url, data={"note": "I lead the export group."})
    assert refused.status_code == 422 and "I lead the export group." in refused.get_data(
        as_text=True
    )
    assert (
        client.post(
            url, data=good_answers(asked) | {"note": "I lead the export group."}
        ).status_code
        == 302
    )
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "You asked for a seat" in page
    client.post("/logout")

    login(client, "coord@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    requests = page.split('id="seat-requests"')[1].split("</section>")[0]
    assert "Manager" in requests and "I lead the export group." in requests
    assert "Vegetarian" in requests
    request_id = request_id_of(app, wid, "manager@a.example")
    accepted = client.post(f"/nordland/workshops/{wid}/seat-requests/{request_id}/accept")
    assert accepted.status_code == 302
    assert status_of(app, wid, "manager@a.example") == "registered"
    assert answers_of(app, wid, "manager@a.example")[str(asked["diet"])] == "Vegetarian"
    with app.app_context(), unscoped():
        invited = db.session.scalar(
            select(WorkshopInvite.id).where(
                WorkshopInvite.workshop_id == wid,
                WorkshopInvite.user_id == user_id_of("manager@a.example"),
            )
        )
    assert invited is not None
    subjects = [subject for subject, _body in mails_to(app, "manager@a.example")]
    assert subjects == ["You are registered: Silver workshop"]  # one mail, with the .ics
    # Deciding twice (two coordinators at once) decides once.
    again = client.post(
        f"/nordland/workshops/{wid}/seat-requests/{request_id}/decline", follow_redirects=True
    )
    assert "decided already" in again.get_data(as_text=True)
    assert status_of(app, wid, "manager@a.example") == "registered"


def test_a_seat_request_declined_with_a_reason_and_one_on_a_full_workshop(app, world, client):
    wid = make_workshop(app, world["a"], capacity=1)
    login(client, "coord@a.example")
    client.post(f"/nordland/workshops/{wid}/register")  # the only seat
    client.post("/logout")
    for email in ("manager@a.example", "member@a.example"):
        login(client, email)
        response = client.post(f"/nordland/workshops/{wid}/seat-request", data={"note": ""})
        assert response.status_code == 302
        client.post("/logout")
    login(client, "coord@a.example")
    declined = client.post(
        f"/nordland/workshops/{wid}/seat-requests/{request_id_of(app, wid, 'manager@a.example')}/decline",
        data={"reason": "The room is for the invited clusters."},
    )
    assert declined.status_code == 302
    mails = mails_to(app, "manager@a.example")
    assert mails[-1][0] == "Your request for a seat is declined: Silver workshop"
    assert "The room is for the invited clusters." in mails[-1][1]
    # Too long a reason is refused on the page, the request still pending.
    member_request = request_id_of(app, wid, "member@a.example")
    response = client.post(
        f"/nordland/workshops/{wid}/seat-requests/{member_request}/decline",
        data={"reason": "x" * 2001},
    )
    assert response.status_code == 422
    # Accepted when all seats are taken: the waiting list, as registering does.
    client.post(f"/nordland/workshops/{wid}/seat-requests/{member_request}/accept")
    assert status_of(app, wid, "member@a.example") == "waitlisted"
    assert "waiting list" in mails_to(app, "member@a.example")[-1][1]
    client.post("/logout")
    login(client, "manager@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "was declined" in page and "The room is for the invited clusters." in page
    again = client.post(f"/nordland/workshops/{wid}/seat-request", data={"note": "Please"})
    assert again.status_code == 422
    assert status_of(app, wid, "manager@a.example") is None


def test_a_request_is_withdrawn_and_asked_again(app, world, client):
    wid = make_workshop(app, world["a"])
    login(client, "member@a.example")
    client.post(f"/nordland/workshops/{wid}/seat-request", data={"note": "First"})
    assert client.post(f"/nordland/workshops/{wid}/seat-request/withdraw").status_code == 302
    client.post(f"/nordland/workshops/{wid}/seat-request", data={"note": "Second"})
    with app.app_context(), unscoped():
        rows = db.session.scalars(select(SeatRequest)).all()
        assert [(r.status.value, r.note) for r in rows] == [("pending", "Second")]


# --- who may see and do what ----------------------------------------------------------------


def test_only_coordinators_see_answers_and_manage(app, world, client, asked):
    wid = asked["wid"]
    login(client, "member@a.example")
    client.post(f"/nordland/workshops/{wid}/register", data=good_answers(asked, hope="SECRETHOPE"))
    client.post("/logout")
    login(client, "coord@a.example")
    invite_clusters(client, wid, world["c1"].id)
    client.post("/logout")
    login(client, "manager@a.example")
    client.post(f"/nordland/workshops/{wid}/register", data=good_answers(asked, hope="OWNHOPE"))
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "OWNHOPE" in page and "SECRETHOPE" not in page
    for path in ("registrants.csv", "registrants.xlsx", "attendance.csv", "attendance.xlsx"):
        assert client.get(f"/nordland/workshops/{wid}/{path}").status_code == 403
    assert client.get(f"/nordland/workshops/{wid}/questions").status_code == 403
    assert add_question(client, wid, kind="dietary").status_code == 403
    assert (
        client.post(f"/nordland/workshops/{wid}/questions/{asked['hope']}/remove").status_code
        == 403
    )
    assert (
        client.post(
            f"/nordland/workshops/{wid}/attendance/minutes", data={"version": "1"}
        ).status_code
        == 403
    )
    client.post("/logout")
    # The observer may not ask for a seat; the member, invited, need not.
    login(client, "observer@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "Ask for a seat" not in page and "SECRETHOPE" not in page
    assert client.post(f"/nordland/workshops/{wid}/seat-request").status_code == 403
    client.post("/logout")
    login(client, "member@a.example")
    assert client.post(f"/nordland/workshops/{wid}/seat-request").status_code == 403
    with app.app_context(), unscoped():
        other = db.session.scalar(select(Registration.id).where(Registration.workshop_id == wid))
    assert other is not None
    client.post("/logout")
    # Nobody but coordinators decides a request.
    login(client, "assessor@a.example")
    assert client.post(f"/nordland/workshops/{wid}/seat-requests/1/accept").status_code in (
        403,
        404,
    )


def test_bad_input_never_fails_with_500(app, world, client, asked):
    wid = asked["wid"]
    login(client, "coord@a.example")
    junk = [
        {"kind": "choice", "label": "\x00" * 400, "options": "\n" * 50},
        {"kind": "choice", "label": "Many", "options": "\n".join(str(i) for i in range(40))},
        {"kind": "choice", "label": "Long", "options": "a\n" + "b" * 300},
        {"kind": "text", "label": "y" * 400, "required": "maybe"},
        {f"q{asked['mode']}": ["online", "on_site"], f"q{asked['session']}": "\u202e" * 9},
        {"version": "abc", "reason": "z" * 9000, "note": "\x00"},
    ]
    urls = [
        f"/nordland/workshops/{wid}/questions",
        f"/nordland/workshops/{wid}/questions/{asked['session']}/edit",
        f"/nordland/workshops/{wid}/questions/999999/edit",
        f"/nordland/workshops/{wid}/register",
        f"/nordland/workshops/{wid}/answers",
        f"/nordland/workshops/{wid}/seat-request",
        f"/nordland/workshops/{wid}/seat-requests/999999/decline",
        f"/nordland/workshops/{wid}/attendance/minutes",
    ]
    for url in urls:
        for data in junk:
            response = client.post(url, data=data)
            assert response.status_code < 500, (url, data, response.status_code)
    for query in ("?page=-1", "?page=99999&per_page=0", "?per_page=abc"):
        assert client.get(f"/nordland/workshops/{wid}{query}").status_code == 200


# --- query counts -------------------------------------------------------------------------


def test_query_counts_do_not_grow_with_the_registrants(app, world, client, asked):
    wid = asked["wid"]
    grow(app, world["a"].id, wid, 2, asked)
    login(client, "coord@a.example")
    pages = [
        f"/nordland/workshops/{wid}",
        f"/nordland/workshops/{wid}/registrants.csv",
        f"/nordland/workshops/{wid}/registrants.xlsx",
        f"/nordland/workshops/{wid}/attendance.csv",
        f"/nordland/workshops/{wid}/questions",
    ]

    def counts():
        return queries_per_page(app, client, pages)

    client.get(pages[0])
    small = counts()
    grow(app, world["a"].id, wid, 40, asked, start=2)
    large = counts()
    assert small == large
    rows = read_csv(client.get(pages[1]))
    assert len(rows) == 43 and re.search(r"Diet 41", str(rows))
