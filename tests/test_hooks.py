"""Every hook is documented and tested; plugins load, switch on and off, and fail safely."""

from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import hookspecs
from portal.extensions import db
from portal.plugin_incidents import PluginIncident
from tests.conftest import Factory, login
from tests.locking_support import version_on
from tests.plugins import broken, recorder

ROOT = Path(__file__).parent.parent
HOOKS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "portal_spec")
)


def test_every_hook_is_documented():
    docs = (ROOT / "docs" / "plugins.md").read_text()
    documented = set(re.findall(r"^### (\w+)$", docs, re.MULTILINE))
    assert documented == set(HOOKS)


def test_every_hook_has_a_test():
    tests = {name for name, _ in inspect.getmembers(sys.modules[__name__], inspect.isfunction)}
    missing = [hook for hook in HOOKS if f"test_hook_{hook}" not in tests]
    assert not missing, f"hooks without a test: {missing}"


def test_every_hook_has_a_docstring_and_types():
    for name in HOOKS:
        fn = getattr(hookspecs, name)
        assert fn.__doc__ and fn.__doc__.strip(), name
        assert "return" in fn.__annotations__, name


@pytest.fixture
def rec(make_app):
    recorder.calls.clear()
    app = make_app(plugins=[("recorder", recorder)])
    factory = Factory(app)
    tenant = factory.tenant("nordland", "Nordland")
    other = factory.tenant("other", "Other")
    cluster = factory.cluster(tenant, "Arctic Minerals", members=2)
    factory.user("coord@a.example", tenant=tenant, role="coordinator")
    factory.user("coord@other.example", tenant=other, role="coordinator")
    factory.user("observer@a.example", tenant=tenant, role="observer")
    factory.enable_plugin(tenant, "recorder")
    client = app.test_client()
    login(client, "coord@a.example")
    return app, client, tenant, cluster, factory


def test_hook_plugin_info(rec):
    app, client, *_ = rec
    assert app.extensions["portal_plugins"].plugins["recorder"].info["title"] == "Recorder"
    assert b"Recorder" in client.get("/nordland/settings/plugins").data


def test_hook_blueprints(rec):
    app, client, tenant, *_ = rec
    assert client.get("/nordland/recorder/").data == b"recorder page"
    assert client.get("/recorder-plain/").data == b"plain page"
    other = app.test_client()
    login(other, "coord@other.example")
    assert other.get("/other/recorder/").status_code == 404  # switched off there


def test_hook_api_blueprints(rec):
    from tests.api_support import bearer, make_token

    app, client, *_ = rec
    token = make_token(app, "coord@a.example", "nordland")
    answer = client.get("/api/v1/nordland/recorder/ping", headers=bearer(token))
    assert answer.status_code == 200 and answer.json == {"plugin": "recorder"}
    assert client.get("/api/v1/nordland/recorder/ping").status_code == 401
    assert "/api/v1/{tenant}/recorder/ping" in client.get("/api/v1/openapi.json").json["paths"]
    other = make_token(app, "coord@other.example", "other")
    # Switched off in the other region: not there.
    assert client.get("/api/v1/other/recorder/ping", headers=bearer(other)).status_code == 404


def test_hook_template_folders(rec):
    _app, client, _tenant, cluster, _ = rec
    assert (
        b'class="recorder-panel">Recorded in Arctic Minerals'
        in client.get(f"/nordland/clusters/{cluster.id}").data
    )


def test_hook_static_folders(rec):
    _app, client, *_ = rec
    response = client.get("/plugins/recorder/static/recorder.css")
    assert response.status_code == 200 and response.data == b"body{}\n"
    assert client.get("/plugins/nobody/static/x.css").status_code == 404
    assert client.get("/plugins/recorder/static/../recorder.py").status_code == 404


def test_hook_translation_folders(rec):
    _app, client, _tenant, cluster, _ = rec
    client.post("/language", data={"locale": "nb", "next": "/"})
    assert "Registrert i Arctic Minerals" in client.get(
        f"/nordland/clusters/{cluster.id}"
    ).get_data(as_text=True)


def test_hook_cli_commands(rec):
    app, *_ = rec
    result = app.test_cli_runner().invoke(args=["recorder-hello"])
    assert result.exit_code == 0 and "hello from the recorder" in result.output


def test_hook_migration_branches(rec):
    from portal import migrations_runner

    app, *_ = rec
    with app.app_context():
        targets = {t.name: t for t in migrations_runner.targets(app)}
    assert targets["recorder"].config.attributes["version_table"] == "alembic_version_recorder"
    assert targets["cluster_facts"].config.attributes["owned_tables"] == {"facts_key_figure"}
    # The first-party plugin's own table was created by its own branch.
    from sqlalchemy import inspect as sa_inspect

    with app.app_context():
        tables = sa_inspect(db.engine).get_table_names()
    assert "facts_key_figure" in tables and "alembic_version_cluster_facts" in tables


def test_hook_nav_items(rec):
    _app, client, *_ = rec
    page = client.get("/nordland/").get_data(as_text=True)
    assert '<a href="/nordland/recorder/"' in page and "Recorder nav" in page
    assert ("nav_items", ("nordland", "coord@a.example")) in recorder.calls


def test_hook_dashboard_panels(rec):
    _app, client, *_ = rec
    page = client.get("/nordland/").get_data(as_text=True)
    assert "Recorder dashboard panel" in page and "Recorded in dashboard" in page


def test_hook_cluster_panels(rec):
    _app, client, _tenant, cluster, _ = rec
    page = client.get(f"/nordland/clusters/{cluster.id}").get_data(as_text=True)
    assert "Recorder cluster panel" in page


def test_hook_check_permission(rec):
    from portal.accounts.models import User
    from portal.permissions import may
    from portal.tenancy.models import Tenant

    app, _client, tenant, *_ = rec
    with app.test_request_context():
        region = db.session.get(Tenant, tenant.id)
        coord = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        observer = db.session.scalar(select(User).where(User.email == "observer@a.example"))
        assert may(coord, "recorder.poke", region) is True
        assert may(observer, "recorder.poke", region) is False
        assert may(coord, "nobody.knows", region) is False


def test_hook_tenant_created(rec):
    assert ("tenant_created", ("nordland",)) in recorder.calls
    assert ("tenant_created", ("other",)) in recorder.calls  # before any plugin is on


def test_hook_cluster_created(rec):
    _app, client, *_ = rec
    client.post("/nordland/clusters/new", data={"name": "Polar Life"})
    assert ("cluster_created", ("Polar Life",)) in recorder.calls


def test_hook_cluster_updated(rec):
    _app, client, _tenant, cluster, _ = rec
    url = f"/nordland/clusters/{cluster.id}/edit"
    client.post(
        url,
        data={"name": "Arctic Minerals", "sector": "Metals", "version": version_on(client, url)},
    )
    assert ("cluster_updated", ("Arctic Minerals", ("sector",))) in recorder.calls


def test_hook_member_added(rec):
    import io

    from tests.import_support import token_of

    _app, client, _tenant, cluster, _ = rec
    client.post(
        f"/nordland/clusters/{cluster.id}/members/new",
        data={"name": "Rana kommune", "member_type": "public_body"},
    )
    url = f"/nordland/clusters/{cluster.id}/members/import"
    checked = client.post(
        url,
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"name,member_type\nNord universitet,university\n"), "m.csv")},
    )
    assert ("member_added", ("Nord universitet",)) not in recorder.calls  # checked only
    client.post(url.replace("/import", "/import/confirm"), data={"pending": token_of(checked)})
    assert ("member_added", ("Rana kommune",)) in recorder.calls
    assert ("member_added", ("Nord universitet",)) in recorder.calls


def test_hook_demo_data(rec):
    from portal.demo.data import load_demo

    app, *_ = rec
    with app.test_request_context():
        load_demo()
    assert ("demo_data", ("nordland",)) in recorder.calls


def test_hooks_do_not_run_where_the_plugin_is_off(rec):
    app, _client, tenant, cluster, factory = rec
    factory.enable_plugin(tenant, "recorder", enabled=False)
    recorder.calls.clear()
    client = app.test_client()
    login(client, "coord@a.example")
    page = client.get(f"/nordland/clusters/{cluster.id}").get_data(as_text=True)
    assert "Recorder" not in page
    assert client.get("/nordland/recorder/").status_code == 404
    assert recorder.calls == []


def test_plugin_raising_in_a_hook_is_disabled_and_the_page_still_works(make_app):
    app = make_app(
        plugins=[("raiser", broken.RaisesInHook()), ("badtemplate", broken.BadTemplate())]
    )
    factory = Factory(app)
    tenant = factory.tenant("nordland")
    cluster = factory.cluster(tenant, "Arctic Minerals")
    factory.user("coord@a.example", tenant=tenant, role="coordinator")
    factory.enable_plugin(tenant, "raiser")
    factory.enable_plugin(tenant, "badtemplate")
    client = app.test_client()
    login(client, "coord@a.example")
    assert client.get("/nordland/").status_code == 200
    assert client.get(f"/nordland/clusters/{cluster.id}").status_code == 200
    host = app.extensions["portal_plugins"]
    assert "boom in dashboard_panels" in host.broken["raiser"]
    assert "badtemplate" in host.broken
    with app.app_context():
        incidents = db.session.scalars(select(PluginIncident.plugin_name)).all()
    assert {"raiser", "badtemplate"} <= set(incidents)
    admin = factory.user("admin@portal.example", admin=True)
    del admin
    client.post("/logout")
    login(client, "admin@portal.example")
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert "boom in dashboard_panels" in page and "Out of order" in page


def test_plugin_failing_at_load_is_reported_and_the_portal_serves(make_app, tmp_path, monkeypatch):
    package = tmp_path / "site"
    (package / "exploding_plugin").mkdir(parents=True)
    (package / "exploding_plugin" / "__init__.py").write_text(
        "raise ImportError('missing dependency')\n"
    )
    dist = package / "exploding_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: exploding-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[portal.plugins]\nexploding = exploding_plugin\n")
    monkeypatch.syspath_prepend(str(package))
    app = make_app()
    host = app.extensions["portal_plugins"]
    assert "missing dependency" in host.plugins["exploding"].load_error
    assert host.plugins["exploding"].version == "1.0"
    assert app.test_client().get("/login").status_code == 200
    result = app.test_cli_runner().invoke(args=["plugins", "list"])
    assert "exploding 1.0" in result.output and "broken" in result.output


def test_first_party_plugin_loads_through_its_entry_point(app):
    plugin = app.extensions["portal_plugins"].plugins["cluster_facts"]
    assert plugin.distribution == "cluster-forum-portal" and not plugin.load_error
    assert "cluster_panels" in plugin.hooks


def test_core_never_imports_a_plugin():
    for path in (ROOT / "portal").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith("portal_"), f"{path} imports {name}"


def test_bundled_plugins_use_only_the_toolkit():
    for path in (ROOT / "plugins").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("portal."):
                assert node.module == "portal.toolkit", f"{path} imports {node.module}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("portal."), f"{path} imports {alias.name}"


def test_coordinator_switches_a_plugin_on_and_off(app, world):
    client = app.test_client()
    login(client, "coord@a.example")
    assert client.get("/nordland/facts/").status_code == 404
    assert (
        client.post("/nordland/settings/plugins/cluster_facts", data={"enabled": "1"}).status_code
        == 302
    )
    assert client.get("/nordland/facts/").status_code == 200
    client.post("/nordland/settings/plugins/cluster_facts", data={"enabled": "0"})
    assert client.get("/nordland/facts/").status_code == 404
    assert (
        client.post("/nordland/settings/plugins/not_installed", data={"enabled": "1"}).status_code
        == 404
    )
    client.post("/logout")
    login(client, "manager@a.example")
    assert (
        client.post("/nordland/settings/plugins/cluster_facts", data={"enabled": "1"}).status_code
        == 403
    )


def test_admin_plugin_page_lists_versions_hooks_and_tenant_state(app, world, factory):
    factory.enable_plugin(world["a"], "cluster_facts")
    client = app.test_client()
    login(client, "admin@portal.example")
    page = client.get("/admin/plugins").get_data(as_text=True)
    assert "cluster-forum-portal" in page and "cluster_panels" in page and "nordland" in page


def test_docs_example_plugin_shape_matches_toolkit():
    """The toolkit names the docs list exist."""
    from portal import toolkit

    docs = (ROOT / "docs" / "plugins.md").read_text()
    table = docs.split("| name | what it is |")[1].split("## Models")[0]
    first_cells = re.findall(r"^\| (.+?) \|", table, re.MULTILINE)
    documented = {n for cell in first_cells for n in re.findall(r"`([A-Za-z_][A-Za-z_0-9]*)", cell)}
    for name in documented:
        assert hasattr(toolkit, name), name
    assert set(toolkit.__all__) <= documented, set(toolkit.__all__) - documented


# --- the joint process --------------------------------------------------------------------


@pytest.fixture
def rec_process(rec):
    from datetime import date, time, timedelta

    from portal.clusters.models import Cluster
    from portal.plans import services as plans
    from portal.programmes import services as programmes
    from portal.tenancy import tenant_scope
    from portal.workshops import services as workshops

    app, client, tenant, cluster, factory = rec
    with app.test_request_context(), tenant_scope(tenant.id):
        programme = programmes.create_programme(
            None,
            {"name": "Forum", "start_date": date(2026, 1, 1), "end_date": date(2027, 12, 31)},
            tenant.id,
        )
        plan = plans.create_plan(
            None,
            {"title": "Joint plan", "start_date": date(2026, 1, 1), "end_date": date(2027, 1, 1)},
            tenant_id=tenant.id,
            programme=programme,
        )
        action = plans.create_action(None, plan, {"title": "Branding"}, [cluster.id])
        workshop = workshops.create_workshop(
            None,
            {
                "title": "Kick-off",
                "programme_id": programme.id,
                "day": date.today() + timedelta(days=5),
                "start_time": time(9),
                "end_time": time(15),
                "capacity": 10,
            },
            tenant.id,
        )
        ids = {
            "programme": programme.id,
            "plan": plan.id,
            "action": action.id,
            "workshop": workshop.id,
        }
        db.session.get(Cluster, cluster.id)
    return app, client, tenant, ids


def test_hook_programme_panels(rec_process):
    _app, client, _tenant, ids = rec_process
    assert "Recorder programme panel" in client.get(
        f"/nordland/programmes/{ids['programme']}"
    ).get_data(as_text=True)


def test_hook_programme_report_sections(rec_process):
    from datetime import date

    _app, client, _tenant, ids = rec_process
    page = client.get(f"/nordland/programmes/{ids['programme']}/report").get_data(as_text=True)
    assert "Recorder report section" in page
    assert f"on {date.today().isoformat()}" in page


def test_hook_workshop_panels(rec_process):
    _app, client, _tenant, ids = rec_process
    assert "Recorder workshop panel" in client.get(
        f"/nordland/workshops/{ids['workshop']}"
    ).get_data(as_text=True)


def test_hook_plan_panels(rec_process):
    _app, client, _tenant, ids = rec_process
    assert "Recorder plan panel" in client.get(f"/nordland/plans/{ids['plan']}").get_data(
        as_text=True
    )


def test_hook_programme_saved(rec_process):
    _app, client, _tenant, ids = rec_process
    assert ("programme_saved", ("Forum", True, ())) in recorder.calls
    url = f"/nordland/programmes/{ids['programme']}/edit"
    client.post(
        url,
        data={
            "name": "Forum 2026",
            "start_date": "2026-01-01",
            "end_date": "2027-12-31",
            "version": version_on(client, url),
        },
    )
    assert ("programme_saved", ("Forum 2026", False, ("name",))) in recorder.calls


def test_hook_workshop_saved(rec_process):
    assert ("workshop_saved", ("Kick-off", True, ())) in recorder.calls


def test_hook_plan_saved(rec_process):
    _app, client, _tenant, ids = rec_process
    assert ("plan_saved", ("Joint plan", True, ())) in recorder.calls
    url = f"/nordland/plans/{ids['plan']}/edit"
    client.post(
        url,
        data={
            "title": "Joint plan",
            "start_date": "2026-01-01",
            "end_date": "2027-06-01",
            "version": version_on(client, url),
        },
    )
    assert ("plan_saved", ("Joint plan", False, ("end_date",))) in recorder.calls


def test_hook_action_saved(rec_process):
    _app, client, _tenant, ids = rec_process
    assert ("action_saved", ("Branding", True, ())) in recorder.calls
    client.post(
        f"/nordland/actions/{ids['action']}/quick",
        data={"status": "in_progress", "progress": "20", "version": "1"},
    )
    assert ("action_saved", ("Branding", False, ("progress", "status"))) in recorder.calls


def test_hook_registration_changed(rec_process):
    _app, client, _tenant, ids = rec_process
    client.post(f"/nordland/workshops/{ids['workshop']}/register")
    client.post(f"/nordland/workshops/{ids['workshop']}/cancel")
    assert ("registration_changed", ("registered", None)) in recorder.calls
    assert ("registration_changed", ("cancelled", None)) in recorder.calls


def test_hook_workshop_ended(rec_process):
    from datetime import datetime, timedelta

    import time_machine

    from portal.errors import ServiceError
    from portal.tenancy import tenant_scope
    from portal.workshops import closing
    from portal.workshops.models import Workshop

    app, _client, tenant, ids = rec_process
    with app.test_request_context(), tenant_scope(tenant.id):
        workshop = db.session.get(Workshop, ids["workshop"])
        with pytest.raises(ServiceError):  # in five days: not over, so not ended
            closing.end_workshop(workshop)
    assert ("workshop_ended", ("Kick-off",)) not in recorder.calls
    with time_machine.travel(datetime.now().astimezone() + timedelta(days=6), tick=False):
        with app.app_context():
            assert closing.close_ended()["workshops_ended"] == 1  # the schedule's job
            assert closing.close_ended()["workshops_ended"] == 0  # once only
        with app.test_request_context(), tenant_scope(tenant.id):
            workshop = db.session.get(Workshop, ids["workshop"])
            assert closing.end_workshop(workshop) is False
    assert recorder.calls.count(("workshop_ended", ("Kick-off",))) == 1


def test_hook_indicator_sets(make_app):
    from portal.benchmarking.services import registry

    app = make_app(plugins=[("recorder", recorder)])
    with app.app_context():
        sets = registry()
    assert sets[("recorder-set", "1")][0] == "recorder"
    assert sets[("esca-gold", "2013")][0] == "esca"


def test_hook_round_saved(rec):
    from datetime import date

    from portal.benchmarking import services
    from portal.clusters.models import Cluster
    from portal.tenancy import tenant_scope

    app, _client, tenant, cluster, _factory = rec
    with app.test_request_context(), tenant_scope(tenant.id):
        indicator_set = services.find_set("recorder-set", "1")
        services.save_round(
            None,
            db.session.get(Cluster, cluster.id),
            indicator_set,
            {"held_on": date(2025, 1, 1)},
            {"speed": (3.0, "")},
        )
    assert ("round_saved", ("2025-01-01", True)) in recorder.calls


def test_hook_label_schemes(make_app):
    from datetime import date

    from portal.labels.registry import schemes
    from portal.labels.scheme import ClusterEvidence

    app = make_app(plugins=[("recorder", recorder)])
    with app.app_context():
        found = schemes()
        plugin, scheme = found[("recorder-scheme", "1")]
        assert (
            plugin == "recorder"
            and scheme.evaluate(ClusterEvidence(), date(2025, 1, 1))[0].eligible
        )
        assert {("esca", "2013"), ("esca", "2020")} <= set(found)


def test_hook_comparison_kinds(rec):
    from datetime import date

    from portal.benchmarking import services
    from portal.benchmarking.comparisons import ComparisonContext, comparison_kinds
    from portal.clusters.models import Cluster
    from portal.tenancy import tenant_scope

    app, _client, tenant, cluster, factory = rec
    with app.test_request_context(), tenant_scope(tenant.id):
        indicator_set = services.find_set("recorder-set", "1")
        for day in (date(2024, 1, 1), date(2025, 1, 1)):
            services.save_round(
                None,
                db.session.get(Cluster, cluster.id),
                indicator_set,
                {"held_on": day},
                {"speed": (3.0, "")},
            )
        kinds = {k.id: k for k in comparison_kinds(tenant.id)}
        kind = kinds["recorder-count"]
        assert kind.works_on(indicator_set) and kind.scope == "forum"
        assert kind.compute(ComparisonContext(tenant, None, indicator_set)) == 1
    factory.enable_plugin(tenant, "recorder", False)
    with app.test_request_context(), tenant_scope(tenant.id):
        assert "recorder-count" not in {k.id for k in comparison_kinds(tenant.id)}


def test_hook_followup_targets(rec):
    from portal.plans.followups import followup_targets
    from portal.tenancy.models import Tenant

    app, client, tenant, *_ = rec
    with app.test_request_context():
        targets = followup_targets(db.session.get(Tenant, tenant.id))
    assert [t.id for t in targets] == ["joint_goal", "joint_plan_action", "recorder"]
    assert ("followup_targets", ("nordland",)) in recorder.calls
    answer = client.post("/nordland/recorder/followup", data={"title": "Weak spot"})
    assert answer.data == b"followed up"
    assert ("followup", ("", "Weak spot", "", "", "", "")) in recorder.calls


def test_hook_indicator_work(rec):
    """A plugin's work on an indicator counts as the region's: it is listed with the core's
    actions, and its clusters are left out of the others when another action is measured."""
    from datetime import date, timedelta

    from portal.clusters.models import Cluster
    from portal.improvement.measure import Measurer
    from portal.improvement.work import region_work
    from portal.plans.services import create_action, create_plan
    from portal.privacy.policy import values_view
    from portal.tenancy import tenant_scope
    from portal.tenancy.models import Tenant

    app, _client, tenant, cluster, factory = rec
    key = ("demo-set", "1", "strategy")
    with app.test_request_context(), tenant_scope(tenant.id):
        plan = create_plan(
            None,
            {"title": "Plan", "start_date": date(2020, 1, 1), "end_date": date(2021, 1, 1)},
            tenant_id=tenant.id,
            cluster=db.session.get(Cluster, cluster.id),
        )
        today = date.today()
        action = create_action(
            None,
            plan,
            {"title": "Ours", "status": "done", "due_date": today - timedelta(days=30)},
        )
        from portal.plans.models import ActionIndicator

        db.session.add(
            ActionIndicator(
                tenant_id=tenant.id,
                action_id=action.id,
                indicator_set=key[0],
                set_version=key[1],
                indicator_id=key[2],
            )
        )
        db.session.commit()
        other = factory.cluster(tenant, "Ocean Tech")
        recorder.RECORDED_WORK_CLUSTERS.clear()
        recorder.RECORDED_WORK_CLUSTERS.add(other.id)
        region = db.session.get(Tenant, tenant.id)
        found = region_work(region, [key])
        assert sorted((w.kind, w.title) for w in found) == [
            ("action", "Ours"),
            ("recorded", "Recorded work"),
        ]
        assert ("indicator_work", ("nordland", (key,))) in recorder.calls
        measurer = Measurer(region, [key], view=values_view(None, region), work=found)
        measured = measurer.measure(next(w for w in found if w.kind == "action"))
        assert measured.window.over
        assert measured.effect.reason == "no_data"  # no rounds yet: nothing to compare
    recorder.RECORDED_WORK_CLUSTERS.clear()


def test_hook_reminders(rec):
    from datetime import date

    from sqlalchemy import select

    from portal.mail.models import OutboxMessage
    from portal.reminders import send_reminders

    app, *_ = rec
    with app.app_context():
        counts = send_reminders(date(2026, 11, 23))
        again = send_reminders(date(2026, 11, 23))
        mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.recipient)).all()
        sent = [(m.recipient, m.kind, m.body, m.html) for m in mails]
    # people of the tenant only (not the other tenant's coordinator), each item once, in the
    # person's one digest of the day: a section under the plugin's heading, linked
    assert [m[:2] for m in sent] == [
        ("coord@a.example", "digest"),
        ("observer@a.example", "digest"),
    ]
    for _to, _kind, body, html in sent:
        assert "Recorder\n--------\n- Recorded item\n" in body
        assert "http://127.0.0.1:5000/nordland/recorder" in body
        assert ">Recorder</h2>" in html and ">Recorded item</a>" in html
    assert counts["plugin"] == 2 and counts["digests"] == 2
    assert again["plugin"] == 0 and again["digests"] == 0  # told today: left out
    assert ("reminders", ("nordland", "2026-11-23")) in recorder.calls


def test_hook_notification_kinds(app, world, factory):
    """The joint plugin registers its kinds; they word its notices and are offered on the
    people's notification settings page."""
    from portal.notifications.kinds import kinds

    with app.test_request_context():
        registered = kinds()
        status = registered["joint.status"]
        assert status.subject_type == "joint_action" and status.default == "digest"
        assert "Joint" in status.text({"detail": "done"}, "Joint branding", "")
    client = app.test_client()
    login(client, "member@a.example")
    page = client.get("/profile/notifications").get_data(as_text=True)
    assert "Joint actions: a status changed" in page and 'name="kind-joint.status"' in page
