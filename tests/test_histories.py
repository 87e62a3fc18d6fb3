"""Words, not codes: histories and the audit log in the reader's language, with people's
names; refused attempts never in an object's history; the audit log's filters and CSV; dates
as in the UK in English, in the region's time zone; amounts in the region's currency."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from flask import g
from flask_babel import force_locale
from sqlalchemy import update

from portal.extensions import db
from portal.i18n import ACTION_STATUS_LABELS
from portal.plans.models import Action
from portal.tenancy import unscoped
from portal.tenancy.models import Tenant
from tests.conftest import Factory, count_queries, login
from tests.locking_support import version_on
from tests.process_support import build_process


@pytest.fixture
def process(app, world):
    return build_process(app, world)


def _in(app, locale: str, text) -> str:
    with app.test_request_context(), force_locale(locale):
        return str(text)


def _start(client, action_id: int) -> None:
    url = f"/nordland/actions/{action_id}/edit"
    version = version_on(client, url)
    client.post(
        f"/nordland/actions/{action_id}/quick",
        data={"status": "in_progress", "progress": "20", "version": version},
    )


def _log(response) -> str:
    """The audit log's table (not the page's notices)."""
    page = response.get_data(as_text=True)
    return page.split('class="audit-table"')[1] if 'class="audit-table"' in page else ""


def _history(page: str) -> str:
    return page.split('id="history-heading"')[1].split("</section>")[0]


def test_action_history_reads_in_words_in_nb_and_en(client, process, app):
    action_id = process.action_ids[0]
    login(client, "manager@a.example")
    _start(client, action_id)
    client.post("/logout")
    login(client, "observer@a.example")  # a refused attempt: in the audit log only
    assert (
        client.post(f"/nordland/actions/{action_id}/quick", data={"status": "done"}).status_code
        == 403
    )
    client.post("/logout")
    login(client, "coord@a.example")
    english = _history(client.get(f"/nordland/actions/{action_id}").get_data(as_text=True))
    assert "Status: Planned → In progress" in english
    assert "Progress: 0% → 20%" in english
    assert "Manager" in english and "@" not in english
    assert "in_progress" not in english and "Denied" not in english
    client.post("/language", data={"locale": "nb", "next": "/"})
    norsk = _history(client.get(f"/nordland/actions/{action_id}").get_data(as_text=True))
    planned = _in(app, "nb", ACTION_STATUS_LABELS["planned"])
    started = _in(app, "nb", ACTION_STATUS_LABELS["in_progress"])
    assert planned != "Planned" and f"{planned} → {started}" in norsk
    assert "Manager" in norsk and "@" not in norsk and "in_progress" not in norsk
    # The refused attempt stays in the audit log, for coordinators.
    log = client.get("/nordland/audit?action=denied").get_data(as_text=True)
    assert "Observer" in log


def test_audit_log_filters_and_csv(client, process, app, world, factory):
    action_id = process.action_ids[0]
    factory.user("coord@b.example", tenant=world["b"], role="coordinator")
    other = app.test_client()
    login(other, "coord@b.example")
    other.post("/bravo/clusters/new", data={"name": "Bravo Secret Cluster"})
    login(client, "manager@a.example")
    _start(client, action_id)
    client.post("/logout")
    login(client, "coord@a.example")
    client.post("/nordland/clusters/new", data={"name": "Filtered Cluster"})
    client.get("/nordland/")  # the notice of the new cluster is shown and gone

    by_manager = _log(client.get("/nordland/audit?person=manag"))
    assert "Status: Planned → In progress" in by_manager and "Filtered Cluster" not in by_manager
    clusters = _log(client.get("/nordland/audit?object_type=cluster"))
    assert "Filtered Cluster" in clusters and "Status: Planned" not in clusters
    one = client.get(f"/nordland/audit?object_type=plan_action&object_id={action_id}&action=update")
    assert one.status_code == 200 and "In progress" in one.get_data(as_text=True)
    # The filter's days are the region's (Europe/Oslo): near midnight UTC they differ.
    with app.app_context():
        region_zone = ZoneInfo(db.session.get(Tenant, world["a"].id).timezone)
    today = datetime.now(region_zone).date().isoformat()
    assert "Filtered Cluster" in client.get(f"/nordland/audit?from={today}&to={today}").get_data(
        as_text=True
    )
    assert "Filtered Cluster" not in client.get("/nordland/audit?to=2000-01-01").get_data(
        as_text=True
    )

    csv = client.get("/nordland/audit.csv?object_type=cluster")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.data.startswith(b"\xef\xbb\xbf")
    text = csv.data.decode("utf-8-sig")
    assert "Filtered Cluster" in text and "Status" not in text and "Bravo Secret" not in text
    everything = client.get("/nordland/audit.csv").data.decode("utf-8-sig")
    assert "Bravo Secret" not in everything and "Planned → In progress" in everything

    for bad in (
        "from=2026-13-45",
        "object_id=abc",
        "object_id=99999999999",
        "from=2026-02-01&to=2026-01-01",
        "person=" + "x" * 300,
    ):
        page = client.get(f"/nordland/audit?{bad}")
        assert page.status_code == 400, bad
        assert 'class="field-error"' in page.get_data(as_text=True)
        assert client.get(f"/nordland/audit.csv?{bad}").status_code == 400
    client.post("/language", data={"locale": "nb", "next": "/"})
    told = client.get("/nordland/audit?from=nope").get_data(as_text=True)
    assert "YYYY-MM-DD" in told

    client.post("/logout")
    login(client, "observer@a.example")
    assert client.get("/nordland/audit.csv").status_code == 403
    client.post("/logout")
    login(client, "admin@portal.example")
    platform = client.get("/admin/audit.csv?person=coord%40b").data.decode("utf-8-sig")
    assert "Bravo Secret" in platform and "Filtered Cluster" not in platform
    assert client.get("/admin/audit?to=x").status_code == 400


def test_audit_page_queries_stay_flat(make_app):
    app = make_app()
    factory = Factory(app)
    tenant = factory.tenant("nordland")
    factory.user("coord@a.example", tenant=tenant, role="coordinator")
    client = app.test_client()
    login(client, "coord@a.example")

    def measure() -> int:
        with count_queries(app) as statements:
            assert client.get("/nordland/audit?person=coord&object_type=cluster").status_code == 200
        return len(statements)

    for i in range(2):
        client.post("/nordland/clusters/new", data={"name": f"Cluster {i}"})
    small = measure()
    for i in range(2, 40):
        client.post("/nordland/clusters/new", data={"name": f"Cluster {i}"})
    assert measure() == small


def test_dates_in_english_are_british_with_a_24_hour_clock(app):
    from portal.formatting import format_date, format_datetime, format_money

    moment = datetime(2026, 12, 6, 15, 4, tzinfo=UTC)
    with app.test_request_context():
        g.tenant = SimpleNamespace(timezone="Europe/Oslo", currency="NOK", default_locale="en")
        with force_locale("en"):
            shown = format_datetime(moment, "short")
            assert shown == "06/12/2026, 16:04"  # Oslo is an hour ahead in December
            assert "PM" not in format_datetime(moment, "medium")
            assert format_date(moment.date(), "medium") == "6 Dec 2026"
            assert format_money(1200) == "NOK1,200.00"
        with force_locale("nb"):
            assert "16:04" in format_datetime(moment, "short")
            assert "kr" in format_money(1200)


def test_amounts_on_the_action_page_carry_the_regions_currency(client, process, app, world):
    action_id = process.action_ids[0]
    with app.app_context(), unscoped():
        db.session.execute(update(Tenant).where(Tenant.id == world["a"].id).values(currency="SEK"))
        db.session.execute(update(Action).where(Action.id == action_id).values(planned_money=1500))
        db.session.commit()
    login(client, "coord@a.example")
    page = client.get(f"/nordland/actions/{action_id}").get_data(as_text=True)
    assert "SEK1,500.00 planned" in page


def test_plugins_register_words_for_their_objects(app):
    from portal.audit.models import AuditEntry
    from portal.audit.words import describe
    from portal.toolkit import FieldWords, register_history_words

    register_history_words(
        "probe_thing", "Probe thing", {"state": FieldWords("State", labels={"on": "Switched on"})}
    )
    entry = AuditEntry(
        action="update", object_type="probe_thing", actor="system", changes={"state": ["off", "on"]}
    )
    with app.test_request_context():
        words = describe([entry])[0]
    assert words.object == "Probe thing"
    assert words.changes_text == "State: off → Switched on"
