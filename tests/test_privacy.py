"""One privacy policy for benchmark values, obeyed everywhere.

Marker values are planted in one cluster (Helgeland Health, c2: its values, comments, round
notes, assessor and evidence); then every GET page, export and report of the region, the
plugins' too, is walked as every role, and the markers must be absent wherever the policy
says so and present where it allows them. A new page is walked as soon as it exists; a new
kind of id in a URL needs one line in ``tests/walk_support.ID_SOURCES``, a page that needs
query arguments one line in ``EXTRA_URLS``.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.tenancy import tenant_scope
from tests.conftest import ROLE_EMAILS, login
from tests.locking_support import version_on
from tests.process_support import build_process
from tests.registration_support import build_registration
from tests.walk_support import region_urls

VALUE = 3.17  # every indicator of c2's round
MARKERS = ("PRIVMARKCOMMENT", "PRIVMARKNOTES", "PRIVMARKASSESSOR", "PRIVMARKEVIDENCE")
NUMBER = re.compile(r"(?<![\d.,])3[.,]17(?![\d])")
PLUGINS = ("esca", "compare", "joint", "cluster_facts", "arena")

# Pages whose content depends on query arguments the walk would not guess.
EXTRA_URLS = (
    "/nordland/clusters/{c2}/rounds?old={r1}&new={r2}",
    "/nordland/compare/clusters/{c2}?set=esca-gold&version=2013",
    "/nordland/compare/clusters/{c2}/report?set=esca-gold&version=2013",
    "/nordland/compare/clusters/{c2}/report.pdf?set=esca-gold&version=2013",
    "/nordland/compare/clusters/{c2}/comparisons.xlsx?set=esca-gold&version=2013",
    "/nordland/compare/forum?set=esca-gold&version=2013",
    "/nordland/compare/forum/report?set=esca-gold&version=2013",
    "/nordland/compare/forum/comparisons.xlsx?set=esca-gold&version=2013",
    "/nordland/rounds/export.csv",
    "/nordland/rounds/export.xlsx",
)
# Pages that show c2's own values to whoever may see them.
VALUE_PAGES = (
    "/nordland/clusters/{c2}/rounds",
    "/nordland/compare/clusters/{c2}?set=esca-gold&version=2013",
    "/nordland/compare/clusters/{c2}/comparisons.xlsx?set=esca-gold&version=2013",
    "/nordland/compare/clusters/{c2}/report.pdf?set=esca-gold&version=2013",
)


def _text(response) -> str:
    """The body as text; the cells and strings of a workbook, the text of a PDF too."""
    data = response.get_data()
    if data[:5] == b"%PDF-":
        from pypdf import PdfReader

        return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return " ".join(
                archive.read(name).decode("utf-8", errors="replace")
                for name in archive.namelist()
                if name.endswith(".xml")
            )
    return data.decode("utf-8", errors="replace")


def _found(text: str) -> list[str]:
    found = [m for m in MARKERS if m in text]
    if NUMBER.search(text):
        found.append("the value")
    return found


@pytest.fixture
def planted(app, world, factory):
    """c1 and c2 benchmarked, c2 with marker values; a programme, plans, a joint action."""
    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster
    from portal.labels.services import record_evidence

    for name in PLUGINS:
        if name in app.extensions["portal_plugins"].plugins:
            factory.enable_plugin(world["a"], name)
    process = build_process(app, world)
    build_registration(app, world)  # the registration pages are walked too
    today = date.today()
    with app.test_request_context(), tenant_scope(world["a"].id):
        indicator_set = rounds.find_set("esca-gold", "2013")
        c1 = db.session.get(Cluster, world["c1"].id)
        c2 = db.session.get(Cluster, world["c2"].id)
        ids = []
        for n, day in enumerate((today - timedelta(days=500), today - timedelta(days=60))):
            rounds.save_round(
                None,
                c1,
                indicator_set,
                {"held_on": day},
                {i.id: (2.0, "") for i in indicator_set.indicators},
            )
            marked = {i.id: (VALUE, f"{MARKERS[0]} {i.id}") for i in indicator_set.indicators}
            data = {"held_on": day, "notes": MARKERS[1], "assessor": MARKERS[2], "audit": n == 1}
            ids.append(rounds.save_round(None, c2, indicator_set, data, marked).id)
        record_evidence(None, c2, "esca", "expert_review", MARKERS[3])
        record_evidence(None, c2, "esca", "improvement", MARKERS[3], "engagement")
    _joint_action(app, world, process)
    return {"c1": world["c1"].id, "c2": world["c2"].id, "r1": ids[0], "r2": ids[1]}


def _joint_action(app, world, process) -> None:
    """A done joint action of c2 alone, linked to an indicator: its effect would be c2's
    own change, were groups of one shown."""
    try:
        from portal_joint import services as joint
    except ImportError:
        return
    from portal.clusters.models import Cluster
    from portal.programmes.models import Programme

    with app.test_request_context(), tenant_scope(world["a"].id):
        programme = db.session.get(Programme, process.programme_id)
        action = joint.create_action(
            None,
            programme,
            {
                "title": "Shared press list",
                "start_date": date.today() - timedelta(days=300),
                "due_date": date.today() - timedelta(days=100),
                "status": "in_progress",
            },
            origin="manual",
        )
        joint.link_indicator(None, action, "esca-gold", "2013", "engagement")
        joint.join(
            None, action, db.session.get(Cluster, world["c2"].id), on=date.today() - timedelta(300)
        )
        joint.move(None, action, "done")


def _walk_urls(app, world, planted) -> list[str]:
    """Every GET URL of the region with every combination of its own ids, and the extras."""
    urls = [url for _rule, url in region_urls(app, world["a"].id, "nordland")]
    return urls + [url.format(**planted) for url in EXTRA_URLS]


def _leaks(client, urls) -> list[tuple[str, list[str]]]:
    leaks = []
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        found = _found(_text(response))
        if found:
            leaks.append((url, found))
    return leaks


@pytest.mark.parametrize("role", ["cluster_manager", "observer"])
def test_nobody_outside_the_circle_sees_a_clusters_values(app, world, planted, role):
    """c1's manager and the observer see aggregates only, and no group of one is shown."""
    client = app.test_client()
    login(client, ROLE_EMAILS[role])
    urls = _walk_urls(app, world, planted)
    assert len(urls) > 60
    assert _leaks(client, urls) == []


@pytest.mark.parametrize("role", ["coordinator", "assessor", "member"])
def test_the_clusters_own_circle_sees_its_values(app, world, planted, role):
    """c2's member, the coordinators and the assessors see c2's values where they are shown."""
    client = app.test_client()
    login(client, ROLE_EMAILS[role])
    for url in VALUE_PAGES:
        response = client.get(url.format(**planted))
        assert response.status_code == 200, url
        assert "the value" in _found(_text(response)), url
    page = _text(client.get(f"/nordland/clusters/{planted['c2']}/rounds"))
    assert MARKERS[1] not in page or role != "member"  # notes are on the edit form only


def test_a_cluster_shares_its_report_with_the_observers(app, world, planted):
    """c2's own people decide: a recorded choice (who, when), and the observer sees it."""
    from portal.privacy.models import ValuesSharing

    observer, manager = app.test_client(), app.test_client()
    login(observer, ROLE_EMAILS["observer"])
    rounds_page = f"/nordland/clusters/{planted['c2']}/rounds"
    assert _found(_text(observer.get(rounds_page))) == []
    # Only the cluster's managers share; c1's manager may not share c2's report.
    login(manager, ROLE_EMAILS["cluster_manager"])
    share = f"/nordland/clusters/{planted['c2']}/values/sharing"
    assert manager.post(share, data={"shared": "1"}).status_code == 403
    coordinator = app.test_client()
    login(coordinator, ROLE_EMAILS["coordinator"])
    assert coordinator.post(share, data={"shared": "1"}).status_code == 403
    with app.app_context():
        _make_manager_of_c2(world)
    assert manager.post(share, data={"shared": "1"}).status_code == 302
    assert "the value" in _found(_text(observer.get(rounds_page)))
    with app.app_context(), tenant_scope(world["a"].id):
        (choice,) = db.session.scalars(select(ValuesSharing)).all()
        assert choice.started_by.email == ROLE_EMAILS["cluster_manager"]
        assert choice.ended_at is None and choice.cluster_id == planted["c2"]
    # Still nobody else's: c1's values stay hidden from the observer.
    assert "Arctic" in _text(observer.get(f"/nordland/clusters/{planted['c1']}/rounds"))
    assert manager.post(share, data={"shared": "0"}).status_code == 302
    assert _found(_text(observer.get(rounds_page))) == []
    with app.app_context(), tenant_scope(world["a"].id):
        (choice,) = db.session.scalars(select(ValuesSharing)).all()
        assert choice.ended_at is not None and choice.ended_by.email == choice.started_by.email


def _make_manager_of_c2(world) -> None:
    from portal.accounts.models import Membership, MembershipCluster, User

    with tenant_scope(world["a"].id):
        user = db.session.scalar(select(User).where(User.email == ROLE_EMAILS["cluster_manager"]))
        membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id))
        db.session.add(
            MembershipCluster(
                tenant_id=world["a"].id, membership_id=membership.id, cluster_id=world["c2"].id
            )
        )
        db.session.commit()


def test_the_region_shares_named_values_inside_the_forum(app, world, planted):
    manager, observer, coordinator = app.test_client(), app.test_client(), app.test_client()
    login(manager, ROLE_EMAILS["cluster_manager"])
    login(observer, ROLE_EMAILS["observer"])
    login(coordinator, ROLE_EMAILS["coordinator"])
    rounds_page = f"/nordland/clusters/{planted['c2']}/rounds"
    assert _found(_text(manager.get(rounds_page))) == []
    # Only coordinators change the region's settings; the smallest group has limits.
    assert manager.get("/nordland/settings/values").status_code == 403
    for bad in ("2", "51", "", "five"):
        response = coordinator.post("/nordland/settings/values", data={"min_group": bad})
        assert response.status_code == 422, bad
    settings = "/nordland/settings/values"
    response = coordinator.post(
        settings,
        data={"min_group": "4", "forum_shared": "y", "version": version_on(coordinator, settings)},
    )
    assert response.status_code == 302
    assert "the value" in _found(_text(manager.get(rounds_page)))
    assert _found(_text(observer.get(rounds_page))) == []  # observers are not the forum
    page = coordinator.get("/nordland/settings/values").get_data(as_text=True)
    assert "Named values are shared inside the forum since" in page and "in force" in page
    coordinator.post(
        settings, data={"min_group": "4", "version": version_on(coordinator, settings)}
    )
    assert _found(_text(manager.get(rounds_page))) == []
    with app.app_context():
        from portal.tenancy.models import Tenant

        assert db.session.get(Tenant, world["a"].id).values_min_group == 4


def test_the_label_path_hides_reasons_and_evidence_from_others(app, world, planted):
    observer = app.test_client()
    login(observer, ROLE_EMAILS["observer"])
    page = observer.get(f"/nordland/clusters/{planted['c2']}/labels").get_data(as_text=True)
    assert "Labels held" in page and "quotes the cluster" in page
    assert "Bronze" not in page.split("Labels held")[1] or "rule-met" not in page
    member = app.test_client()
    login(member, ROLE_EMAILS["member"])
    page = member.get(f"/nordland/clusters/{planted['c2']}/labels").get_data(as_text=True)
    assert "rule-met" in page or "rule-not_met" in page


def test_the_walk_finds_the_markers_where_they_are_shown(app, world, planted):
    """The walk can fail: as c2's member it finds the markers on the pages that show them."""
    client = app.test_client()
    login(client, ROLE_EMAILS["member"])
    leaks = dict(_leaks(client, _walk_urls(app, world, planted)))
    shown = {url.format(**planted).split("?")[0] for url in VALUE_PAGES}
    assert shown <= {url.split("?")[0] for url in leaks}, sorted(leaks)


WORKINGS = ("PRIVMARKSELF", "PRIVMARKDRAFT")


def _add_workings(app, world) -> int:
    """c2's workings: a self-assessment and a draft benchmarking, each naming its marker as
    the assessor (the grid shows it); the id of a confirmed round, whose history is asked."""
    from portal.benchmarking import services as rounds
    from portal.benchmarking.models import BenchmarkRound
    from portal.clusters.models import Cluster

    day = date.today() - timedelta(days=30)
    with app.test_request_context(), tenant_scope(world["a"].id):
        indicator_set = rounds.find_set("esca-gold", "2013")
        c2 = db.session.get(Cluster, world["c2"].id)
        for marker, kind, held_on in (
            (WORKINGS[0], "self_assessment", day),
            (WORKINGS[1], "benchmarking", day - timedelta(days=1)),
        ):
            values = {i.id: (1.0, "") for i in indicator_set.indicators}
            data = {"held_on": held_on, "kind": kind, "assessor": marker, "confirm": False}
            rounds.save_round(None, c2, indicator_set, data, values)
        return db.session.scalar(
            select(BenchmarkRound.id).where(
                BenchmarkRound.cluster_id == c2.id, BenchmarkRound.counts_as_evidence()
            )
        )


@pytest.mark.parametrize("circle", ["forum", "observers"])
def test_a_sharing_choice_shows_evidence_not_workings(app, world, planted, circle):
    """A wider circle (the forum, the observers) sees c2's confirmed benchmarkings and audits;
    its self-assessments, drafts and the rounds' history stay with its own circle."""
    confirmed = _add_workings(app, world)
    viewer, coordinator, member = app.test_client(), app.test_client(), app.test_client()
    login(viewer, ROLE_EMAILS["cluster_manager" if circle == "forum" else "observer"])
    login(coordinator, ROLE_EMAILS["coordinator"])
    login(member, ROLE_EMAILS["member"])  # c2's own member
    if circle == "forum":
        form = coordinator.get("/nordland/settings/values").get_data(as_text=True)
        version = re.search(r'name="version"[^>]*value="(\d+)"', form)
        data = {"min_group": "3", "forum_shared": "y"}
        data |= {"version": version.group(1)} if version else {}
        assert coordinator.post("/nordland/settings/values", data=data).status_code == 302
    else:
        with app.app_context():
            _make_manager_of_c2(world)
        share = f"/nordland/clusters/{planted['c2']}/values/sharing"
        assert viewer.post(share, data={"shared": "1"}).status_code == 403  # not theirs
        manager = app.test_client()
        login(manager, ROLE_EMAILS["cluster_manager"])
        assert manager.post(share, data={"shared": "1"}).status_code == 302
    rounds_page = f"/nordland/clusters/{planted['c2']}/rounds"
    history = f"/nordland/rounds/{confirmed}/history"
    shared = _text(viewer.get(rounds_page))
    assert "the value" in _found(shared)  # the evidence is shared
    assert not [m for m in WORKINGS if m in shared]
    assert "self-assessment" not in shared.split("<table", 1)[1] and history not in shared
    assert viewer.get(history).status_code == 403
    # The cluster page tells the shared circle of evidence rounds only.
    detail = _text(viewer.get(f"/nordland/clusters/{planted['c2']}"))
    assert "2 rounds, the latest on" in detail
    for own in (member, coordinator):
        page = _text(own.get(rounds_page))
        assert all(m in page for m in WORKINGS) and history in page
        assert own.get(history).status_code == 200
        assert "4 rounds, the latest on" in _text(own.get(f"/nordland/clusters/{planted['c2']}"))


def test_the_cluster_page_tells_outsiders_nothing_of_its_rounds(app, world, planted):
    """How many rounds a cluster has and when the last was held are its own circle's."""
    outsider = app.test_client()
    login(outsider, ROLE_EMAILS["observer"])
    page = _text(outsider.get(f"/nordland/clusters/{planted['c2']}"))
    assert "the latest on" not in page and "No benchmarking round yet" not in page
    assert "seen by its own people" in page


def _api_urls(app, world, planted) -> list[str]:
    """Every GET operation of the JSON API with the region's own ids, and its lists asked
    for c2 (so that a page of one shows c2's values, were they leaked)."""
    urls = [url for _rule, url in region_urls(app, world["a"].id, "nordland") if "/api/" in url]
    c2 = planted["c2"]
    return urls + [
        f"/api/v1/nordland/rounds?cluster_id={c2}",
        f"/api/v1/nordland/rounds?cluster_id={c2}&kind=self_assessment",
        f"/api/v1/nordland/clusters/{c2}/labels",
    ]


def _api_texts(app, role: str, urls) -> dict[str, str]:
    """Each URL's answer to a token of the role."""
    from tests.api_support import bearer, make_token

    client = app.test_client()
    headers = bearer(make_token(app, ROLE_EMAILS[role], "nordland"))
    texts = {}
    for url in urls:
        response = client.get(url, headers=headers)
        assert response.status_code < 500, url
        texts[url] = _text(response)
    return texts


def _api_leaks(texts: dict[str, str]) -> dict[str, list[str]]:
    found = {url: _found(text) + [m for m in WORKINGS if m in text] for url, text in texts.items()}
    return {url: markers for url, markers in found.items() if markers}


@pytest.mark.parametrize("role", ["cluster_manager", "observer"])
def test_the_api_shows_no_value_outside_the_circle(app, world, planted, role):
    """Every API operation that can carry a cluster's values (rounds, label checks, label
    scores) obeys the policy: c1's manager and the observer get none of c2's."""
    _add_workings(app, world)
    urls = _api_urls(app, world, planted)
    assert len(urls) > 15
    assert _api_leaks(_api_texts(app, role, urls)) == {}


@pytest.mark.parametrize("role", ["coordinator", "member"])
def test_the_api_shows_the_values_to_the_circle(app, world, planted, role):
    """The walk can fail: c2's own circle finds the markers, its workings too."""
    _add_workings(app, world)
    leaks = _api_leaks(_api_texts(app, role, _api_urls(app, world, planted)))
    one = f"/api/v1/nordland/rounds/{planted['r2']}"
    assert "the value" in leaks[one] and MARKERS[0] in leaks[one]
    assert (
        WORKINGS[0]
        in leaks[f"/api/v1/nordland/rounds?cluster_id={planted['c2']}&kind=self_assessment"]
    )
    joint = [url for url in leaks if "/api/v1/nordland/joint/actions/" in url]
    if "joint" in app.extensions["portal_plugins"].plugins:
        # The joint action of c2 alone: its effect (c2's own values) shown to c2's circle.
        assert any("the value" in leaks[url] for url in joint), sorted(leaks)


def test_a_shared_report_shows_the_observers_evidence_not_workings_in_the_api(app, world, planted):
    """c2 shares its report with the observers: the API shows them its confirmed rounds
    and never its self-assessments or drafts."""
    _add_workings(app, world)
    with app.app_context():
        _make_manager_of_c2(world)
    manager = app.test_client()
    login(manager, ROLE_EMAILS["cluster_manager"])
    share = f"/nordland/clusters/{planted['c2']}/values/sharing"
    assert manager.post(share, data={"shared": "1"}).status_code == 302
    leaks = _api_leaks(_api_texts(app, "observer", _api_urls(app, world, planted)))
    assert "the value" in leaks[f"/api/v1/nordland/rounds/{planted['r2']}"]
    assert not [m for found in leaks.values() for m in found if m in WORKINGS]
