"""Two writers on every editable form: the second gets 409, sees what the first saved, keeps
their own input in the form, and nothing of theirs is written (portal.locking).

The forms are a TABLE: a new editable form is one ``Edit(...)`` line. A test walks every model
with a version column and fails when no form of the table (nor a reason in NOT_EDITED) names it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from tests import improvement_support as improvement
from tests import locking_support as build
from tests import webhook_support as webhooks
from tests.conftest import ROLE_EMAILS, login


@dataclass(frozen=True)
class Edit:
    """One editable form: ``url`` of the object built by ``make``; ``first`` and ``second`` are
    what the two writers post (``mark`` a value of ``first`` the conflict shows, ``kept`` a
    value of ``second`` its form keeps); ``stored`` reads the written value back."""

    name: str
    model: str
    make: Callable
    url: str
    first: dict
    second: dict
    mark: str
    kept: str
    stored: Callable
    role: str = "coordinator"
    get_url: str | None = None  # the page that carries the form, when it is not ``url``
    htmx: bool = False
    ok: tuple = (302,)
    version_field: str = "version"
    # What ``stored`` reads after each save, when it is not ``mark`` / ``kept`` themselves.
    expect_first: object = None
    expect_second: object = None


ACTION = {"status": "planned", "priority": "normal", "progress": "0", "weight": "1"}
SOON = (date.today() + timedelta(days=40)).isoformat()
LATELY = (date.today() - timedelta(days=4)).isoformat()
WORKSHOP = {"day": SOON, "start_time": "09:00", "end_time": "12:00"}
REGION = {"default_locale": "en", "timezone": "Europe/Oslo", "accent_color": "#0b6e4f"}
ROUND = {"held_on": LATELY, "kind": "benchmarking", "v-{indicator}": "3"}
JOINT = {"lead_user_id": "", "lead_cluster_id": ""}
PART = {"part-{part_id}-status": "in_progress", "part-{part_id}-progress": "10"}
FIGURES = {"year": "2020", "employees": "950"}
PLANNED = {"scheme": "esca", "kind": "audit", "planned_on": SOON, "level": "gold"}

TABLE = [
    Edit(
        "cluster",
        "Cluster",
        build.cluster,
        "/nordland/clusters/{id}/edit",
        {"name": "Arctic Minerals North", "sector": "Mining"},
        {"name": "Arctic Minerals South", "sector": "Mining"},
        "Arctic Minerals North",
        "Arctic Minerals South",
        build.column("Cluster", "name"),
    ),
    Edit(
        "member",
        "MemberOrganisation",
        build.member,
        "/nordland/clusters/{cluster_id}/members/{id}/edit",
        {"name": "Fjord Drilling AS", "member_type": "company_sme", "city": "Bodø"},
        {"name": "Fjord Boring AS", "member_type": "company_sme", "city": "Mo"},
        "Fjord Drilling AS",
        "Fjord Boring AS",
        build.column("MemberOrganisation", "name"),
    ),
    Edit(
        "plan",
        "Plan",
        build.plan,
        "/nordland/plans/{id}/edit",
        {"title": "Plan North", "start_date": "2030-01-01", "end_date": "2030-12-31"},
        {"title": "Plan South", "start_date": "2030-01-01", "end_date": "2030-12-31"},
        "Plan North",
        "Plan South",
        build.column("Plan", "title"),
    ),
    Edit(
        "action",
        "Action",
        build.action,
        "/nordland/actions/{id}/edit",
        {**ACTION, "title": "Survey the members"},
        {**ACTION, "title": "Ask the members"},
        "Survey the members",
        "Ask the members",
        build.column("Action", "title"),
    ),
    Edit(
        "action indicators",
        "Action",
        improvement.locking_action,
        "/nordland/actions/{id}/edit",
        {**ACTION, "title": "Member survey", "indicators": "esca-gold/2013/engagement"},
        {**ACTION, "title": "Member survey", "indicators": "esca-gold/2013/cooperation"},
        "Engagement of participants",
        'value="esca-gold/2013/cooperation" checked',
        improvement.linked_indicators,
        expect_first=["esca-gold/2013/engagement"],
        expect_second=["esca-gold/2013/cooperation"],
    ),
    Edit(
        "programme",
        "Programme",
        build.programme,
        "/nordland/programmes/{id}/edit",
        {"name": "Arena North", "start_date": "2030-01-01", "end_date": "2030-12-31"},
        {"name": "Arena South", "start_date": "2030-01-01", "end_date": "2030-12-31"},
        "Arena North",
        "Arena South",
        build.column("Programme", "name"),
    ),
    Edit(
        "workshop",
        "Workshop",
        build.workshop,
        "/nordland/workshops/{id}/edit",
        {**WORKSHOP, "title": "Kick-off in Bodø"},
        {**WORKSHOP, "title": "Kick-off in Mo"},
        "Kick-off in Bodø",
        "Kick-off in Mo",
        build.column("Workshop", "title"),
    ),
    Edit(
        "workshop minutes",
        "Workshop",
        build.workshop,
        "/nordland/workshops/{id}/minutes",
        {"minutes": "We agreed on branding."},
        {"minutes": "We agreed on a survey."},
        "We agreed on branding.",
        "We agreed on a survey.",
        build.column("Workshop", "minutes_md"),
        get_url="/nordland/workshops/{id}",
    ),
    Edit(
        "milestone done",
        "Milestone",
        build.milestone,
        "/nordland/programmes/{programme_id}/milestones/{id}/done",
        {"done": "1"},
        {"done": ""},
        "Mid-term review",
        "",
        build.column("Milestone", "done"),
        get_url="/nordland/programmes/{programme_id}",
        expect_first=True,
    ),
    Edit(
        "programme participant goal",
        "ProgrammeCluster",
        build.participant,
        "/nordland/programmes/{programme_id}/participants/{id}/goal",
        {"goal": "Silver label by 2027"},
        {"goal": "Gold label by 2028"},
        "Silver label by 2027",
        "Gold label by 2028",
        build.column("ProgrammeCluster", "goal"),
        get_url="/nordland/programmes/{programme_id}/participants/{id}",
    ),
    Edit(
        "workshop attendance",
        "Workshop",
        build.workshop_with_two_registered,
        "/nordland/workshops/{id}/attendance",
        {"attended": "{observer}"},
        {"attended": "{member}"},
        "<dd>Observer</dd>",  # who the first writer marked, as the conflict shows it
        'value="{member}" checked',  # the second writer's tick, kept
        build.attended,
        get_url="/nordland/workshops/{id}",
        expect_first=["Observer"],
        expect_second=["Member"],
    ),
    Edit(
        "round",
        "BenchmarkRound",
        build.round_,
        "/nordland/rounds/{id}/edit",
        {**ROUND, "assessor": "Dr Aune"},
        {**ROUND, "assessor": "Dr Berg"},
        "Dr Aune",
        "Dr Berg",
        build.column("BenchmarkRound", "assessor"),
    ),
    Edit(
        "region role",
        "Membership",
        build.membership,
        "/nordland/people/{id}",
        {"role": "member", "clusters": ["1"]},
        {"role": "assessor"},
        "Member",
        "assessor",
        build.column("Membership", "role"),
        expect_first="member",
        expect_second="assessor",
    ),
    Edit(
        "region settings",
        "Tenant",
        build.tenant,
        "/nordland/settings",
        {**REGION, "name": "Nordland Cluster Forum"},
        {**REGION, "name": "Nordland Forum of Clusters"},
        "Nordland Cluster Forum",
        "Nordland Forum of Clusters",
        build.column("Tenant", "name"),
    ),
    Edit(
        "benchmark value settings",
        "Tenant",
        build.tenant,
        "/nordland/settings/values",
        {"min_group": "7"},
        {"min_group": "9"},
        "7",
        "9",
        build.column("Tenant", "values_min_group"),
        expect_first=7,
        expect_second=9,
    ),
    Edit(
        "joint action",
        "JointAction",
        build.joint_action,
        "/nordland/joint/actions/{id}/edit",
        {**JOINT, "title": "Joint branding North"},
        {**JOINT, "title": "Joint branding South"},
        "Joint branding North",
        "Joint branding South",
        build.column("JointAction", "title"),
    ),
    Edit(
        "joint contribution",
        "Participation",
        build.joint_action,
        "/nordland/joint/actions/{id}/parts/{part_id}",
        {**PART, "part-{part_id}-tasks": "Print the brochure"},
        {**PART, "part-{part_id}-tasks": "Film the video"},
        "Print the brochure",
        "Film the video",
        build.part_tasks,
        version_field="part-{part_id}-version",
    ),
    Edit(
        "joint contribution, htmx fragment",
        "Participation",
        build.joint_action,
        "/nordland/joint/actions/{id}/parts/{part_id}",
        {**PART, "part-{part_id}-tasks": "Hire the hall"},
        {**PART, "part-{part_id}-tasks": "Book the boat"},
        "Hire the hall",
        "Book the boat",
        build.part_tasks,
        version_field="part-{part_id}-version",
        htmx=True,
        ok=(200,),
    ),
    Edit(
        "key figures",
        "KeyFigure",
        build.key_figure,
        "/nordland/facts/clusters/{cluster_id}",
        {**FIGURES, "note": "Register of firms"},
        {**FIGURES, "note": "Annual survey"},
        "Register of firms",
        "Annual survey",
        build.column("KeyFigure", "note"),
        get_url="/nordland/facts/clusters/{cluster_id}?year=2020",
    ),
    Edit(
        "registration question",
        "RegistrationQuestion",
        build.registration_question,
        "/nordland/workshops/{workshop_id}/questions/{id}/edit",
        {"label": "What do you hope to learn?"},
        {"label": "What would you like to show?"},
        "What do you hope to learn?",
        "What would you like to show?",
        build.column("RegistrationQuestion", "label"),
    ),
    Edit(
        "registration answers",
        "RegistrationAnswers",
        build.registration_answers,
        "/nordland/workshops/{id}/answers",
        {"q{question_id}": "Vegetarian"},
        {"q{question_id}": "Vegan"},
        "Vegetarian",
        "Vegan",
        build.answer,
        role="member",
        get_url="/nordland/workshops/{id}",
    ),
    Edit(
        "planned assessment",
        "PlannedAssessment",
        build.planned_assessment,
        "/nordland/clusters/{cluster_id}/labels/planned/{id}/edit",
        {**PLANNED, "notes": "Book Dr Aune"},
        {**PLANNED, "notes": "Book Dr Berg"},
        "Book Dr Aune",
        "Book Dr Berg",
        build.column("PlannedAssessment", "notes"),
    ),
    Edit(
        "webhook",
        "Webhook",
        webhooks.locking_webhook,
        "/nordland/settings/webhooks/{id}",
        {"url": "https://93.184.215.14/north", "events": ["action.done"], "active": "y"},
        {"url": "https://93.184.215.14/south", "events": ["action.done"], "active": "y"},
        "https://93.184.215.14/north",
        "https://93.184.215.14/south",
        build.column("Webhook", "url"),
    ),
]

TABLE.append(
    Edit(
        "comment",
        "ActionComment",
        build.comment,
        "/nordland/actions/{action_id}/comments/{id}/edit",
        {"body": "Ask in April"},
        {"body": "Ask in May"},
        "Ask in April",
        "Ask in May",
        build.column("ActionComment", "body"),
        role="member",
    )
)

# Models with a version column that no form edits, and why.
NOT_EDITED: dict[str, str] = {}


_version = build.version_in


def _problems(html: str) -> list[str]:
    return re.findall(r'class="(?:field-error|flash flash-error)"[^>]*>(.*?)</', html, re.S)


def _data(values: dict, ids: dict, version_field: str, version=None) -> dict:
    """What a writer posts (keys and text values may name the ids); no version field when
    ``version`` is None."""
    data = {
        key.format(**ids): value.format(**ids) if isinstance(value, str) else value
        for key, value in values.items()
    }
    return data if version is None else data | {version_field: version}


@pytest.mark.parametrize("edit", TABLE, ids=[e.name for e in TABLE])
def test_the_second_writer_gets_409_with_the_current_values_and_keeps_their_input(app, world, edit):
    ids = build.run(app, world, edit.make)
    url = edit.url.format(**ids)
    first, second = app.test_client(), app.test_client()
    login(first, ROLE_EMAILS[edit.role])
    login(second, ROLE_EMAILS[edit.role])
    page = first.get((edit.get_url or edit.url).format(**ids))
    assert page.status_code == 200
    field = edit.version_field.format(**ids)
    version = _version(page.get_data(as_text=True), field)
    assert version, "the form carries no version"
    headers = {"HX-Request": "true"} if edit.htmx else {}
    first_value = edit.mark if edit.expect_first is None else edit.expect_first
    second_value = edit.kept if edit.expect_second is None else edit.expect_second

    saved = first.post(url, data=_data(edit.first, ids, field, version), headers=headers)
    assert saved.status_code in edit.ok, _problems(saved.get_data(as_text=True))
    refused = second.post(url, data=_data(edit.second, ids, field, version), headers=headers)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409, body[:2000]
    assert edit.mark.format(**ids) in body  # what the first writer saved
    assert edit.kept.format(**ids) in body  # the second writer's own input, still in the form
    assert build.run(app, world, edit.stored, ids) == first_value

    # Saving again on purpose (the form now names the current version) overwrites.
    newer = _version(body, field)
    if newer:
        again = second.post(url, data=_data(edit.second, ids, field, newer), headers=headers)
        assert again.status_code in edit.ok, again.get_data(as_text=True)[:2000]
        assert build.run(app, world, edit.stored, ids) == second_value


@pytest.mark.parametrize("edit", TABLE, ids=[e.name for e in TABLE])
def test_an_edit_posted_without_its_version_is_refused_and_changes_nothing(app, world, edit):
    """An edit must say which version it was made on: without one it is a 409 with the values
    stored now and the input kept, and the form then names the stored version, so saving it
    again is a knowing overwrite."""
    ids = build.run(app, world, edit.make)
    url = edit.url.format(**ids)
    client = app.test_client()
    login(client, ROLE_EMAILS[edit.role])
    before = build.run(app, world, edit.stored, ids)
    field = edit.version_field.format(**ids)
    headers = {"HX-Request": "true"} if edit.htmx else {}

    refused = client.post(url, data=_data(edit.second, ids, field), headers=headers)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409, body[:2000]
    assert build.run(app, world, edit.stored, ids) == before
    assert edit.kept.format(**ids) in body  # the input, still in the form
    if edit.htmx:
        assert "<html" not in body

    newer = _version(body, field)
    if newer:
        again = client.post(url, data=_data(edit.second, ids, field, newer), headers=headers)
        assert again.status_code in edit.ok, again.get_data(as_text=True)[:2000]
        second_value = edit.kept if edit.expect_second is None else edit.expect_second
        assert build.run(app, world, edit.stored, ids) == second_value


def test_the_missing_version_is_told_in_the_users_language(app, world):
    ids = build.run(app, world, build.cluster)
    client = app.test_client()
    login(client, ROLE_EMAILS["coordinator"])
    client.post("/language", data={"locale": "nb", "next": "/"})
    refused = client.post(f"/nordland/clusters/{ids['id']}/edit", data={"name": "Sør"})
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "Arctic Minerals" in body and "Sør" in body  # stored now, and the input kept
    from flask_babel import force_locale

    from portal.locking import missing_version_message

    with app.test_request_context():
        english = missing_version_message()
        with force_locale("nb"):
            told = missing_version_message()
    assert told != english and told in body


def test_creation_forms_need_no_version(app, world):
    """No object yet, nothing to be stale: a new cluster is saved as before."""
    client = app.test_client()
    login(client, ROLE_EMAILS["coordinator"])
    created = client.post("/nordland/clusters/new", data={"name": "Salten Seafood"})
    assert created.status_code == 302, created.get_data(as_text=True)[:2000]


def test_every_versioned_model_has_a_form_in_the_table(app):
    from portal.db import Base
    from portal.locking import is_versioned

    versioned = {m.class_.__name__ for m in Base.registry.mappers if is_versioned(m.class_)}
    covered = {e.model for e in TABLE} | set(NOT_EDITED)
    assert versioned - covered == set(), "add a line to TABLE for these editable models"
    assert covered - versioned == set(), "these models of the TABLE have no version column"


def test_the_conflict_is_told_in_the_users_language(app, world):
    ids = build.run(app, world, build.cluster)
    first, second = app.test_client(), app.test_client()
    login(first, ROLE_EMAILS["coordinator"])
    login(second, ROLE_EMAILS["coordinator"])
    second.post("/language", data={"locale": "nb", "next": "/"})
    url = f"/nordland/clusters/{ids['id']}/edit"
    version = _version(first.get(url).get_data(as_text=True))
    first.post(url, data={"name": "Nord", "version": version})
    refused = second.post(url, data={"name": "Sør", "version": version})
    assert refused.status_code == 409
    body = refused.get_data(as_text=True)
    assert "Ikke lagret" in body and "Nord" in body and "Sør" in body


def test_a_stale_save_no_view_caught_answers_409_not_500(app, world):
    """The safety net: StaleDataError anywhere in a request is a 409 page."""
    from flask import Blueprint
    from sqlalchemy.orm.exc import StaleDataError

    blueprint = Blueprint("stale_probe", __name__)

    @blueprint.route("/stale-probe")
    def probe():
        raise StaleDataError("UPDATE statement on table 'cluster' expected to update 1 row")

    app.register_blueprint(blueprint)
    client = app.test_client()
    response = client.get("/stale-probe")
    assert response.status_code == 409
    assert "someone else saved" in response.get_data(as_text=True).lower()
    response = client.get("/stale-probe", headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "<html" not in response.get_data(as_text=True)
