"""The public label register: what a region publishes, and nothing else, without a sign-in."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from defusedxml import ElementTree
from sqlalchemy import select

from portal.extensions import db
from portal.labels.models import Label
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant
from tests.conftest import count_queries, login

ATOM = "{http://www.w3.org/2005/Atom}"
TODAY = date.today()
SECRET_TEXTS = ("Comment-8q7w", "Evidence-5k2m", "Label-note-3x9z", "Round-note-6v4b")
ROUND_VALUE = 4.321  # every indicator of the cluster's round: a number found nowhere else


def _publish(app, tenant, published=True, scores=False):
    with app.test_request_context():
        row = db.session.get(Tenant, tenant.id)
        row.register_published = published
        row.register_scores_published = scores
        db.session.commit()


def _label(app, tenant, cluster, level, *, awarded_days_ago, valid_days, score=None, **kw):
    with app.test_request_context(), tenant_scope(tenant.id):
        label = Label(
            tenant_id=tenant.id,
            cluster_id=cluster.id,
            scheme="esca",
            scheme_version="2013",
            level=level,
            awarded_on=TODAY - timedelta(days=awarded_days_ago),
            expires_on=TODAY + timedelta(days=valid_days),
            score=score,
            notes=kw.get("notes", ""),
        )
        db.session.add(label)
        db.session.commit()
        return label.id


@pytest.fixture
def register(app, world, factory):
    """Nordland: a current gold label with a score, a silver one expiring within two months,
    an expired bronze one; rounds, evidence and notes with words that must never leave.
    Bravo: a label of its own."""
    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster
    from portal.labels import services as labels

    a, b = world["a"], world["b"]
    bravo_cluster = factory.cluster(b, "Bravo Boats")
    with app.test_request_context(), tenant_scope(a.id):
        indicator_set = rounds.find_set("esca-gold", "2013")
        cluster = db.session.get(Cluster, world["c1"].id)
        rounds.save_round(
            None,
            cluster,
            indicator_set,
            {"held_on": TODAY - timedelta(days=40), "notes": SECRET_TEXTS[3]},
            {i.id: (ROUND_VALUE, SECRET_TEXTS[0]) for i in indicator_set.indicators},
        )
        labels.record_evidence(None, cluster, "esca", "expert_review", SECRET_TEXTS[1])
        db.session.commit()
    ids = {
        "gold": _label(
            app,
            a,
            world["c1"],
            "gold",
            awarded_days_ago=30,
            valid_days=700,
            score=87.5,
            notes=SECRET_TEXTS[2],
        ),
        "silver": _label(app, a, world["c2"], "silver", awarded_days_ago=600, valid_days=45),
        "bronze": _label(app, a, world["c2"], "bronze", awarded_days_ago=1200, valid_days=-300),
        "bravo": _label(app, b, bravo_cluster, "gold", awarded_days_ago=10, valid_days=900),
    }
    return dict(world, ids=ids, bravo_cluster=bravo_cluster)


URLS = ("/register/{}/", "/register/{}/labels.csv", "/register/{}/labels.json")
ALL_URLS = (*URLS, "/register/{}/feed.atom")


def test_a_region_that_does_not_publish_is_not_found(client, register):
    for url in ALL_URLS:
        for slug in ("nordland", "nowhere", "bravo"):
            assert client.get(url.format(slug)).status_code == 404, (url, slug)
    page = client.get("/register/").get_data(as_text=True)
    assert "Arctic Minerals" not in page and "Bravo Boats" not in page
    assert "No region publishes its label register yet." in page
    assert client.get("/register/labels.json").get_json()["items"] == []


def test_the_settings_switch_publishes(client, register, app):
    login(client, "coord@a.example")
    form = client.get("/nordland/settings").get_data(as_text=True)
    assert "Publish our label register" in form
    with app.test_request_context():
        tenant = db.session.get(Tenant, register["a"].id)
        data = {
            "name": tenant.name,
            "default_locale": tenant.default_locale,
            "timezone": tenant.timezone,
            "accent_color": tenant.accent_color,
            "currency": tenant.currency,
            "version": tenant.version,
            "register_published": "y",
        }
    assert client.post("/nordland/settings", data=data).status_code == 302
    register_page = client.get("/nordland/labels/").get_data(as_text=True)
    assert "/register/nordland/" in register_page
    client.post("/logout")
    anonymous = client.application.test_client()
    assert anonymous.get("/register/nordland/").status_code == 200


def test_published_shows_its_own_labels_only_and_no_scores(client, register, app):
    _publish(app, register["a"])
    page = client.get("/register/nordland/").get_data(as_text=True)
    assert "Arctic Minerals" in page and "Helgeland Health" in page
    assert "Bravo Boats" not in page
    assert "label-gold" in page and "expired" in page
    assert "87.5" not in page and "Score" not in page
    platform = client.get("/register/").get_data(as_text=True)
    assert "Arctic Minerals" in platform and "Bravo Boats" not in platform
    _publish(app, register["b"])
    platform = client.get("/register/").get_data(as_text=True)
    assert "Bravo Boats" in platform
    only_bravo = client.get("/register/?region=bravo").get_data(as_text=True)
    assert "Bravo Boats" in only_bravo and "Arctic Minerals" not in only_bravo


def test_scores_only_where_published(client, register, app):
    _publish(app, register["a"], scores=True)
    assert "87.5" in client.get("/register/nordland/").get_data(as_text=True)
    items = client.get("/register/nordland/labels.json").get_json()["items"]
    gold = next(i for i in items if i["id"] == register["ids"]["gold"])
    assert gold["score"] == "87.5"
    _publish(app, register["a"], scores=False)
    items = client.get("/register/nordland/labels.json").get_json()["items"]
    assert all("score" not in i for i in items)
    assert "87.5" not in client.get("/register/nordland/labels.csv").get_data(as_text=True)


def test_nothing_but_the_labels_leaves(client, register, app):
    _publish(app, register["a"], scores=True)
    _publish(app, register["b"], scores=True)
    for slug in ("nordland", "bravo"):
        for url in ALL_URLS:
            body = client.get(url.format(slug)).get_data(as_text=True)
            for secret in (*SECRET_TEXTS, "4.321", "4,321", "4.32", "coord@a.example", "Coord"):
                assert secret not in body, (url, secret)
    for url in ("/register/", "/register/labels.csv", "/register/labels.json"):
        body = client.get(url).get_data(as_text=True)
        assert all(secret not in body for secret in (*SECRET_TEXTS, "4.321", "4.32"))
    # The numbers are there (the region's members see them): only the register leaves.
    from portal.benchmarking.models import IndicatorValue

    with app.test_request_context(), tenant_scope(register["a"].id):
        stored = db.session.scalars(select(IndicatorValue.value)).all()
    assert stored and {float(v) for v in stored} == {ROUND_VALUE}
    # An anonymous answer carries no session (shared caches keep it).
    response = client.get("/register/nordland/")
    assert "Set-Cookie" not in response.headers and "csrf" not in response.get_data(as_text=True)


def test_filters(client, register, app):
    _publish(app, register["a"])
    soon = client.get("/register/nordland/?within=3").get_data(as_text=True)
    assert "label-silver" in soon and "label-gold" not in soon and "label-bronze" not in soon
    expired = client.get("/register/nordland/?status=expired").get_data(as_text=True)
    assert "label-bronze" in expired and "label-silver" not in expired
    current = client.get("/register/nordland/labels.json?status=current").get_json()
    assert {i["level"]["id"] for i in current["items"]} == {"gold", "silver"}
    gold = client.get("/register/nordland/labels.json?level=gold&scheme=esca").get_json()
    assert [i["id"] for i in gold["items"]] == [register["ids"]["gold"]]
    none = client.get("/register/nordland/?scheme=nothing").get_data(as_text=True)
    assert "No label matches." in none
    for junk in ("?within=-1", "?status=nothing", "?page=99999&per_page=0", "?region=x" * 30):
        assert client.get("/register/nordland/" + junk).status_code == 200
    # A NUL byte is refused site-wide before any view runs (portal.web.security).
    assert client.get("/register/nordland/?status=%00").status_code == 400


def test_csv_and_json_hold_the_page(client, register, app):
    _publish(app, register["a"])
    page = client.get("/register/nordland/").get_data(as_text=True)
    data = client.get("/register/nordland/labels.json").get_json()
    ids = [i["id"] for i in data["items"]]
    assert ids == [register["ids"][k] for k in ("gold", "silver", "bronze")]
    positions = [page.index(f'id="label-{i}"') for i in ids]
    assert positions == sorted(positions)
    text = client.get("/register/nordland/labels.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert [r[0] for r in rows[1:]] == [i["cluster"] for i in data["items"]]
    assert rows[1][5:7] == [data["items"][0]["awarded_on"], data["items"][0]["valid_until"]]
    paged = client.get("/register/nordland/labels.json?per_page=2&page=2").get_json()
    assert [i["id"] for i in paged["items"]] == ids[2:]
    assert paged["links"]["prev"].startswith("http://") and "next" not in paged["links"]
    assert paged["total"] == 3 and paged["pages"] == 2


def test_etag_and_cache_headers(client, register, app):
    _publish(app, register["a"])
    for url in ALL_URLS:
        first = client.get(url.format("nordland"))
        assert first.headers["Cache-Control"] == "public, max-age=300", url
        etag = first.headers["ETag"]
        again = client.get(url.format("nordland"), headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        weakened = client.get(url.format("nordland"), headers={"If-None-Match": f"W/{etag}"})
        assert weakened.status_code == 304, url
    etag = client.get("/register/nordland/labels.json").headers["ETag"]
    _label(app, register["a"], register["c1"], "bronze", awarded_days_ago=1, valid_days=30)
    changed = client.get("/register/nordland/labels.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.get_json()["items"]) == 4
    other_language = client.get("/register/nordland/?lang=nb", headers={"If-None-Match": etag})
    assert other_language.status_code == 200


def test_the_feed(client, register, app):
    _publish(app, register["a"])
    response = client.get("/register/nordland/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ElementTree.fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    ids = [e.find(f"{ATOM}id").text for e in entries]
    gold, silver = register["ids"]["gold"], register["ids"]["silver"]
    assert f"http://localhost/register/nordland/#label-{silver}-expiring" in ids
    assert ids[0] == f"http://localhost/register/nordland/#label-{gold}-awarded"
    assert len(ids) == len(set(ids)) == 4  # three awards, one expiring soon
    assert all(e.find(f"{ATOM}link").get("href").startswith("http://") for e in entries)
    again = ElementTree.fromstring(client.get("/register/nordland/feed.atom").data)
    assert ids == [e.find(f"{ATOM}id").text for e in again.findall(f"{ATOM}entry")]
    assert response.data == client.get("/register/nordland/feed.atom").data  # stable


def _more_labels(app, world, count):
    for i in range(count):
        _label(app, world["a"], world["c2"], "bronze", awarded_days_ago=i, valid_days=i - 20)


@pytest.mark.parametrize("url", [*(u.format("nordland") for u in ALL_URLS), "/register/"])
def test_fixed_queries(client, register, app, url):
    _publish(app, register["a"], scores=True)
    _publish(app, register["b"])
    with count_queries(app) as few:
        assert client.get(url).status_code == 200
    _more_labels(app, register, 30)
    with count_queries(app) as many:
        assert client.get(url).status_code == 200
    assert len(few) == len(many) <= 3, (few, many)


def test_each_address_is_rate_limited(make_app):
    from tests.conftest import Factory

    app = make_app({"RATELIMIT_ENABLED": True, "PUBLIC_REGISTER_RATE_LIMIT": "3 per minute"})
    region = Factory(app).tenant("limited", "Limited Region")
    _publish(app, region)
    client = app.test_client()
    answers = [client.get("/register/limited/labels.json").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    # One budget per address for the whole register, not one per URL.
    assert client.get("/register/limited/").status_code == 429
