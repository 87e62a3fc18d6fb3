"""Registration that fits real meetings (issue 14, item 5), part one: questions a workshop's
coordinators set, asked and checked by the register form, answers changed while registered;
the registrants with their answers and the attendance as CSV and XLSX; the attendance copied
into the minutes. Seats asked for, who may do what, bad input and query counts:
tests/test_workshop_seat_requests.py."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.tenancy import unscoped
from portal.workshops.registration_models import RegistrationQuestion
from tests.conftest import login
from tests.locking_support import version_in, version_on
from tests.registration_support import (
    add_question,
    answers_of,
    ask_four_questions,
    begin,
    good_answers,
    grow,
    make_workshop,
    minutes_of,
    question_ids,
    read_csv,
    read_xlsx,
    registration_id,
    status_of,
)


@pytest.fixture
def asked(app, world, client):
    """A workshop the member's cluster is invited to, asking four questions."""
    return ask_four_questions(app, world, client)


# --- questions set, asked, checked ----------------------------------------------------------


def test_questions_are_set_and_the_register_form_asks_them(app, world, client, asked):
    with app.app_context(), unscoped():
        session = db.session.get(RegistrationQuestion, asked["session"])
        assert session.option_list == ["Morning", "Afternoon"]  # blank and repeated dropped
    login(client, "coord@a.example")
    page = client.get(f"/nordland/workshops/{asked['wid']}/questions").get_data(as_text=True)
    assert "Which session?" in page and "Morning · Afternoon" in page
    # A free question needs its words; a choice two options.
    refused = add_question(client, asked["wid"], kind="choice", label="Pick", options="Only one")
    assert refused.status_code == 422 and "at least two options" in refused.get_data(as_text=True)
    assert add_question(client, asked["wid"], kind="text").status_code == 422
    assert add_question(client, asked["wid"], kind="nonsense", label="x").status_code == 422
    client.post("/logout")

    login(client, "member@a.example")
    page = client.get(f"/nordland/workshops/{asked['wid']}").get_data(as_text=True)
    form = page.split('id="registration"')[1].split("</section>")[0]
    for words in ("on site or online", "Dietary needs", "Which session?", "hope to learn"):
        assert words in form
    assert f'name="q{asked["mode"]}" required type="radio" value="online"' in form


def test_required_answers_are_checked_and_the_input_kept(app, world, client, asked):
    wid = asked["wid"]
    login(client, "member@a.example")
    missing = good_answers(asked)
    del missing[f"q{asked['mode']}"]
    missing[f"q{asked['session']}"] = "Evening"  # not an option
    response = client.post(f"/nordland/workshops/{wid}/register", data=missing)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Answer this question." in body and "Choose one of the options." in body
    assert "Vegetarian" in body and "Benchmarking" in body  # the input kept
    assert status_of(app, wid, "member@a.example") is None

    too_long = good_answers(asked, diet="x" * 501)
    response = client.post(f"/nordland/workshops/{wid}/register", data=too_long)
    assert response.status_code == 422 and "At most 500 characters." in response.get_data(
        as_text=True
    )

    # In the person's language.
    client.post("/language", data={"locale": "nb", "next": "/"})
    response = client.post(f"/nordland/workshops/{wid}/register", data=missing)
    assert response.status_code == 422 and "Answer this question." not in response.get_data(
        as_text=True
    )
    client.post("/language", data={"locale": "en", "next": "/"})

    assert (
        client.post(f"/nordland/workshops/{wid}/register", data=good_answers(asked)).status_code
        == 302
    )
    assert status_of(app, wid, "member@a.example") == "registered"
    assert answers_of(app, wid, "member@a.example") == {
        str(asked["mode"]): "online",
        str(asked["diet"]): "Vegetarian",
        str(asked["session"]): "Afternoon",
        str(asked["hope"]): "Benchmarking",
    }


def test_a_workshop_without_questions_registers_as_before(app, world, client):
    wid = make_workshop(app, world["a"])
    login(client, "coord@a.example")
    assert client.post(f"/nordland/workshops/{wid}/register").status_code == 302
    assert status_of(app, wid, "coord@a.example") == "registered"
    assert answers_of(app, wid, "coord@a.example") is None


def test_a_registrant_changes_their_answers(app, world, client, asked):
    wid = asked["wid"]
    login(client, "member@a.example")
    client.post(f"/nordland/workshops/{wid}/register", data=good_answers(asked))
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "Change my answers" in page and "Vegetarian" in page
    version = version_in(page.split('id="my-answers"')[1], "version")
    changed = good_answers(asked, diet="Vegan", mode="on_site")
    saved = client.post(f"/nordland/workshops/{wid}/answers", data=changed | {"version": version})
    assert saved.status_code == 302
    assert answers_of(app, wid, "member@a.example")[str(asked["diet"])] == "Vegan"
    # The same stale form again (another tab): refused, the input kept.
    stale = good_answers(asked, diet="Gluten free")
    refused = client.post(f"/nordland/workshops/{wid}/answers", data=stale | {"version": version})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Vegan" in body and "Gluten free" in body
    assert answers_of(app, wid, "member@a.example")[str(asked["diet"])] == "Vegan"
    # A required answer cannot be taken back.
    empty = good_answers(asked, mode="")
    assert (
        client.post(
            f"/nordland/workshops/{wid}/answers", data=empty | {"version": version_in(body)}
        ).status_code
        == 422
    )
    # Someone not registered has no answers to change.
    client.post("/logout")
    login(client, "manager@a.example")
    response = client.post(f"/nordland/workshops/{wid}/answers", data=changed)
    assert response.status_code == 302
    assert answers_of(app, wid, "manager@a.example") is None


def test_changing_a_question_keeps_answers_and_removing_hides_them(app, world, client, asked):
    wid = asked["wid"]
    login(client, "member@a.example")
    client.post(f"/nordland/workshops/{wid}/register", data=good_answers(asked))
    client.post("/logout")
    login(client, "coord@a.example")
    edit = f"/nordland/workshops/{wid}/questions/{asked['session']}/edit"
    version = version_on(client, edit)
    saved = client.post(
        edit,
        data={"label": "Which part?", "options": "Morning\nEvening", "version": version},
    )
    assert saved.status_code == 302
    rows = read_csv(client.get(f"/nordland/workshops/{wid}/registrants.csv"))
    assert rows[0][-2] == "Which part?" and rows[1][-2] == "Afternoon"  # the answer stays
    # The member may keep the answer the changed options no longer offer.
    client.post("/logout")
    login(client, "member@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    mine = page.split('id="my-answers"')[1]
    assert 'value="Afternoon"' in mine  # still offered to the one who chose it
    client.post("/logout")

    login(client, "coord@a.example")
    removed = client.post(f"/nordland/workshops/{wid}/questions/{asked['diet']}/remove")
    assert removed.status_code == 302
    rows = read_csv(client.get(f"/nordland/workshops/{wid}/registrants.csv"))
    assert "Vegetarian" not in str(rows) and len(rows[0]) == 6 + 3
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "Vegetarian" not in page
    assert answers_of(app, wid, "member@a.example")[str(asked["diet"])] == "Vegetarian"  # kept
    assert (
        client.get(f"/nordland/workshops/{wid}/questions/{asked['diet']}/edit").status_code == 404
    )


def test_questions_stay_as_they_were_once_the_workshop_is_over(app, world, client):
    wid = make_workshop(app, world["a"], days=-3)
    login(client, "coord@a.example")
    response = add_question(client, wid, kind="dietary")
    assert response.status_code == 422 and "can no longer change" in response.get_data(as_text=True)
    assert question_ids(app, wid) == {}


# --- the registrants, exports and the minutes -----------------------------------------------


def test_registrants_and_attendance_download_with_answers(app, world, client, asked):
    wid = asked["wid"]
    for email, answers in (
        ("member@a.example", good_answers(asked)),
        ("coord@a.example", good_answers(asked, mode="on_site", diet="=HYPERLINK(1)")),
    ):
        login(client, email)
        assert client.post(f"/nordland/workshops/{wid}/register", data=answers).status_code == 302
        client.post("/logout")
    login(client, "coord@a.example")
    header = ["Name", "E-mail", "Clusters", "Status", "Registered at", "Attended"]
    questions = [
        "Will you take part on site or online?",
        "Dietary needs (allergies, vegetarian, ...)",
        "Which session?",
        "What do you hope to learn?",
    ]
    rows = read_csv(client.get(f"/nordland/workshops/{wid}/registrants.csv"))
    assert rows[0] == header + questions
    member = next(r for r in rows if r[1] == "member@a.example")
    assert member[2] == "Helgeland Health" and member[3] == "Registered"
    assert member[6:] == ["Online", "Vegetarian", "Afternoon", "Benchmarking"]
    coordinator = next(r for r in rows if r[1] == "coord@a.example")
    assert coordinator[6:8] == ["On site", "'=HYPERLINK(1)"]  # never a formula
    sheet = read_xlsx(client.get(f"/nordland/workshops/{wid}/registrants.xlsx"))
    assert sheet[0] == header + questions and len(sheet) == 3
    assert ["Online", "Vegetarian", "Afternoon", "Benchmarking"] in [r[6:] for r in sheet]

    member_id = registration_id(app, wid, "member@a.example")
    begin(app, wid)  # attendance is marked once the workshop has begun
    version = version_on(client, f"/nordland/workshops/{wid}")
    client.post(
        f"/nordland/workshops/{wid}/attendance", data={"attended": [member_id], "version": version}
    )
    rows = read_csv(client.get(f"/nordland/workshops/{wid}/attendance.csv"))
    assert rows[0] == ["Name", "E-mail", "Clusters", "Attended"]
    assert ["Member", "member@a.example", "Helgeland Health", "Yes"] in rows
    assert ["Coord", "coord@a.example", "", "No"] in rows
    sheet = read_xlsx(client.get(f"/nordland/workshops/{wid}/attendance.xlsx"))
    assert ["Member", "member@a.example", "Helgeland Health", "Yes"] in sheet

    # In the coordinator's language.
    client.post("/language", data={"locale": "da", "next": "/"})
    rows = read_csv(client.get(f"/nordland/workshops/{wid}/registrants.csv"))
    assert rows[0][0] != "Name" and "Online" in rows[1] + rows[2]


def test_the_workshop_page_lists_registrants_with_answers_paged(app, world, client, asked):
    wid = asked["wid"]
    login(client, "member@a.example")
    client.post(f"/nordland/workshops/{wid}/register", data=good_answers(asked))
    client.post("/logout")
    login(client, "coord@a.example")
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    table = page.split('id="registrants"')[1].split("</section>")[0]
    assert "Member" in table and "Vegetarian" in table and "Helgeland Health" in table
    grow(app, world["a"].id, wid, 30, asked)
    page = client.get(f"/nordland/workshops/{wid}?page=2&per_page=25").get_data(as_text=True)
    table = page.split('id="registrants"')[1].split("</section>")[0]
    # Registered first, then the waiting list (every third person), in the order they asked.
    assert "Page 2 of 2" in table and "Person 027" in table and "Person 001" not in table


def test_attendance_is_copied_into_the_minutes(app, world, client, asked):
    wid = asked["wid"]
    login(client, "member@a.example")
    client.post(f"/nordland/workshops/{wid}/register", data=good_answers(asked))
    client.post("/logout")
    begin(app, wid)  # attendance is marked once the workshop has begun
    login(client, "coord@a.example")
    url = f"/nordland/workshops/{wid}/attendance/minutes"
    version = version_on(client, f"/nordland/workshops/{wid}", "version")
    nobody = client.post(url, data={"version": version}, follow_redirects=True)
    assert "mark the attendance first" in nobody.get_data(as_text=True)

    member_id = registration_id(app, wid, "member@a.example")
    client.post(
        f"/nordland/workshops/{wid}/attendance", data={"attended": [member_id], "version": version}
    )
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    version = version_in(page.split('action="' + url)[1])
    minutes_version = version_in(page.split("/minutes#minutes-section")[1])
    client.post(
        f"/nordland/workshops/{wid}/minutes",
        data={"minutes": "We agreed on a survey.", "version": minutes_version},
    )
    # The page was read before the minutes changed: refused, nothing appended.
    refused = client.post(url, data={"version": version})
    assert refused.status_code == 409
    assert "attendance was not copied" in refused.get_data(as_text=True)
    assert minutes_of(app, wid) == "We agreed on a survey."

    version = version_in(
        client.get(f"/nordland/workshops/{wid}").get_data(as_text=True).split('action="' + url)[1]
    )
    copied = client.post(url, data={"version": version})
    assert copied.status_code == 302
    minutes = minutes_of(app, wid)
    assert minutes.startswith("We agreed on a survey.\n\n<!-- portal:attendance -->\n## Attendance")
    assert "1 person attended." in minutes and "- **Helgeland Health**: Member" in minutes
    page = client.get(f"/nordland/workshops/{wid}").get_data(as_text=True)
    assert "<h4>Attendance</h4>" in page
    assert page.count("portal:attendance") == 2  # the two marks in the edit form, not shown
    # Copied again (the attendance corrected meanwhile): replaced, not added a second time.
    version = version_in(page.split('action="' + url)[1])
    assert client.post(url, data={"version": version}).status_code == 302
    assert minutes_of(app, wid) == minutes and minutes.count("## Attendance") == 1
