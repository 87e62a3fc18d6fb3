"""The portal command line."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from portal.accounts.models import Membership, User
from portal.clusters.models import Cluster, MemberOrganisation
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.tenancy import unscoped
from portal.tenancy.models import Tenant


def _count(app, model):
    with app.app_context(), unscoped():
        return db.session.scalar(select(func.count()).select_from(model))


def test_demo_loads_once_and_twice_changes_nothing(app, runner):
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "coordinator@nordland.example" in result.output and "cluster-forum-demo" in result.output
    counts = {
        m.__name__: _count(app, m) for m in (Tenant, Cluster, MemberOrganisation, User, Membership)
    }
    assert counts["Tenant"] == 2 and counts["Cluster"] == 9 and counts["MemberOrganisation"] > 300
    again = runner.invoke(args=["demo", "--no-serve"])
    assert again.exit_code == 0
    assert {
        m.__name__: _count(app, m) for m in (Tenant, Cluster, MemberOrganisation, User, Membership)
    } == counts
    from portal_cluster_facts.models import KeyFigure

    assert _count(app, KeyFigure) == 27  # 9 clusters x 3 years, not doubled


def test_demo_users_can_sign_in(app, runner):
    runner.invoke(args=["demo", "--no-serve"])
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "observer@nordland.example", "password": "cluster-forum-demo"}
    )
    assert response.status_code == 302
    page = client.get("/nordland/", follow_redirects=True)
    assert "Lofoten Sjømatinnovasjon" in page.get_data(as_text=True)


def test_tenant_create(app, runner):
    result = runner.invoke(args=["tenant", "create", "troms", "Troms Forum", "--locale", "nb"])
    assert result.exit_code == 0 and "created region troms" in result.output
    bad = runner.invoke(args=["tenant", "create", "Bad Slug!", "X"])
    assert bad.exit_code != 0 and "short name" in bad.output
    clash = runner.invoke(args=["tenant", "create", "admin", "X"])
    assert clash.exit_code != 0
    wrong_tz = runner.invoke(args=["tenant", "create", "tz", "X", "--timezone", "Mars/Olympus"])
    assert wrong_tz.exit_code != 0 and "time zone" in wrong_tz.output


def test_user_create_with_role_and_clusters(app, runner, factory):
    tenant = factory.tenant("troms")
    factory.cluster(tenant, "Ocean Tech")
    result = runner.invoke(
        args=[
            "user",
            "create",
            "Boss@Troms.example",
            "--name",
            "Boss",
            "--password",
            "long-password-1",
            "--tenant",
            "troms",
            "--role",
            "cluster_manager",
            "--cluster",
            "Ocean Tech",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context(), unscoped():
        membership = db.session.scalar(
            select(Membership).join(User).where(User.email == "boss@troms.example")
        )
        assert membership.role.value == "cluster_manager" and [
            c.name for c in membership.clusters
        ] == ["Ocean Tech"]
    dup = runner.invoke(
        args=[
            "user",
            "create",
            "boss@troms.example",
            "--name",
            "B",
            "--password",
            "long-password-1",
        ]
    )
    assert dup.exit_code != 0 and "exists already" in dup.output
    short = runner.invoke(
        args=["user", "create", "x@troms.example", "--name", "X", "--password", "short"]
    )
    assert short.exit_code != 0 and "at least" in short.output
    nocluster = runner.invoke(
        args=[
            "user",
            "create",
            "y@troms.example",
            "--name",
            "Y",
            "--password",
            "long-password-1",
            "--tenant",
            "troms",
            "--role",
            "member",
            "--cluster",
            "Nope",
        ]
    )
    assert nocluster.exit_code != 0 and _count(app, User) == 1


def test_user_invite_sends_a_link(app, runner, factory):
    factory.tenant("troms")
    result = runner.invoke(
        args=["user", "invite", "troms", "new@troms.example", "--role", "observer"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
    assert message.recipient == "new@troms.example" and "/invitations/" in message.body
    unknown = runner.invoke(args=["user", "invite", "nowhere", "a@b.example", "--role", "observer"])
    assert unknown.exit_code != 0


def test_plugins_list(app, runner, factory):
    tenant = factory.tenant("troms")
    factory.enable_plugin(tenant, "cluster_facts")
    result = runner.invoke(args=["plugins", "list", "--json"])
    data = {p["name"]: p for p in json.loads(result.output)}
    assert data["cluster_facts"]["enabled_in"] == ["troms"]
    assert (
        "blueprints" in data["cluster_facts"]["hooks"] and data["cluster_facts"]["status"] == "ok"
    )
    text = runner.invoke(args=["plugins", "list"]).output
    assert "cluster_facts" in text and "enabled in: troms" in text


def test_plugin_cli_command_with_progress(app, runner):
    runner.invoke(args=["demo", "--no-serve"])
    result = runner.invoke(args=["facts", "summary", "nordland"])
    assert result.exit_code == 0 and "Arktisk Mineralklynge\t2025" in result.output
    assert runner.invoke(args=["facts", "summary", "nowhere"]).exit_code != 0


def test_db_commands(app, runner):
    heads = runner.invoke(args=["db", "heads"])
    assert heads.exit_code == 0 and "core:" in heads.output and "cluster_facts:" in heads.output
    assert runner.invoke(args=["db", "current"]).exit_code == 0
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0


def test_console_script_help_lists_commands():
    from click.testing import CliRunner

    from portal.cli import main

    result = CliRunner().invoke(main, ["--help"])
    for command in ("demo", "serve", "db", "tenant", "user", "plugins", "routes", "shell"):
        assert command in result.output


def test_demo_rounds_tell_three_label_stories(app, runner):
    """One cluster holds bronze (expiring soon), one is eligible for silver, one is close to
    gold; shown by the same check the pages use."""
    import json

    from portal.labels.models import Label

    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    with app.app_context(), unscoped():
        names = db.session.scalars(
            select(Cluster.name)
            .join(Tenant, Tenant.id == Cluster.tenant_id)
            .where(Tenant.slug == "nordland")
            .order_by(Cluster.name)
        ).all()
        labels = _count(app, Label)

    def levels(name):
        result = runner.invoke(
            args=["labels", "check", "nordland", name, "--scheme", "esca", "--json"]
        )
        assert result.exit_code == 0, result.output
        data = json.loads(result.output)
        return data["next_level"], {lvl["id"]: lvl for lvl in data["levels"]}

    nxt, first = levels(names[0])
    assert nxt == "silver" and first["bronze"]["eligible"]
    nxt, second = levels(names[1])
    assert nxt == "silver" and second["silver"]["eligible"]
    nxt, third = levels(names[2])
    gold = {r["rule"]: r["verdict"] for r in third["gold"]["rules"]}
    assert nxt == "gold" and gold == {"minimums": "not_met", "total": "met"}
    # idempotent: a second run adds no rounds or labels
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    assert _count(app, Label) == labels
    login_page = app.test_client()
    login_page.post(
        "/login", data={"email": "coordinator@nordland.example", "password": "cluster-forum-demo"}
    )
    register = login_page.get("/nordland/labels/?within=6").get_data(as_text=True)
    assert names[0] in register


def test_demo_shows_round_kinds_corrections_and_a_partial_draft(app, runner):
    """A locked audit with a correction, a self-assessment, a partial draft, an assessor."""
    from portal.benchmarking.models import BenchmarkRound, RoundKind

    result = runner.invoke(args=["demo", "--no-serve"])
    assert "assessor@nordland.example" in result.output
    with app.app_context(), unscoped():
        nordland = db.session.scalar(select(Tenant.id).where(Tenant.slug == "nordland"))
        rounds = db.session.scalars(
            select(BenchmarkRound).where(BenchmarkRound.tenant_id == nordland)
        ).all()
        audits = [r for r in rounds if r.kind == RoundKind.AUDIT]
        assert [(r.locked, r.revision, len(r.corrections)) for r in audits] == [(True, 2, 1)]
        assert any(r.kind == RoundKind.SELF_ASSESSMENT for r in rounds)
        drafts = [r for r in rounds if r.kind == RoundKind.BENCHMARKING and not r.confirmed]
        assert len(drafts) == 1 and len(drafts[0].values) == 18  # of 31: a partial round
