"""Reminders by e-mail: one digest per person and day (due soon, overdue, workshops tomorrow,
labels lapsing); each item once; workshops ended."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from types import SimpleNamespace

import pytest
from babel.dates import format_date
from sqlalchemy import select, update

from portal.accounts.models import User
from portal.extensions import db
from portal.labels.models import Label
from portal.labels.scheme import add_months
from portal.mail.models import OutboxMessage
from portal.mail.preferences import choose as choose_mail
from portal.mail.preferences import opted_out
from portal.plans.models import ReminderSent
from portal.tenancy import tenant_scope, unscoped
from portal.toolkit import hookimpl
from tests.conftest import Factory, count_queries, login

TODAY = date.today()


class EndRecorder:
    """A plugin that notes each workshop_ended call."""

    def __init__(self):
        self.ended: list[int] = []
        self.old_style: list = []  # what a plugin written before the digest answers

    @hookimpl
    def workshop_ended(self, workshop):
        self.ended.append(workshop.id)

    @hookimpl
    def reminders(self, tenant, today):
        return self.old_style


@pytest.fixture
def rec():
    return EndRecorder()


@pytest.fixture
def app(make_app, rec):
    return make_app(plugins=[("rec", rec)])


@pytest.fixture
def region(app):
    factory = Factory(app)
    tenant = factory.tenant("nordland", "Nordland Forum")
    other = factory.tenant("bravo", "Bravo Region")
    cluster = factory.cluster(tenant, "Arctic Minerals")
    people = SimpleNamespace(
        coord=factory.user("coord@a.example", tenant=tenant, role="coordinator"),
        member=factory.user("member@a.example", tenant=tenant, role="member", clusters=[cluster]),
        quiet=factory.user("quiet@a.example", tenant=tenant, role="member", clusters=[cluster]),
        gone=factory.user("gone@a.example", tenant=tenant, role="member", clusters=[cluster]),
        other=factory.user("coord@b.example", tenant=other, role="coordinator"),
    )
    factory.enable_plugin(tenant, "rec")
    with app.app_context(), unscoped():
        choose_mail(db.session.get(User, people.quiet.id), set())  # no mail of any kind
        db.session.execute(update(User).where(User.id == people.gone.id).values(active=False))
        db.session.execute(update(User).where(User.id == people.member.id).values(locale="nb"))
        db.session.commit()
    plan_id = _plan(app, tenant, cluster.id)
    other_cluster = factory.cluster(other, "Bravo Cluster")
    other_plan_id = _plan(app, other, other_cluster.id)
    return SimpleNamespace(
        tenant=tenant,
        other=other,
        cluster=cluster,
        people=people,
        plan_id=plan_id,
        other_plan_id=other_plan_id,
    )


def _plan(app, tenant, cluster_id):
    from portal.clusters.models import Cluster
    from portal.plans.services import create_plan

    with app.test_request_context(), tenant_scope(tenant.id):
        plan = create_plan(
            None,
            {"title": "Growth plan", "start_date": TODAY, "end_date": TODAY + timedelta(days=300)},
            tenant_id=tenant.id,
            cluster=db.session.get(Cluster, cluster_id),
        )
        return plan.id


def _actions(app, tenant, plan_id, *specs):
    """specs: (title, owner id, due date, status)."""
    from portal.plans.models import Plan
    from portal.plans.services import create_action

    ids = []
    with app.test_request_context(), tenant_scope(tenant.id):
        plan = db.session.get(Plan, plan_id)
        for title, owner_id, due, status in specs:
            action = create_action(
                None,
                plan,
                {"title": title, "owner_id": owner_id, "due_date": due, "status": status},
            )
            ids.append(action.id)
    return ids


def _workshop(app, tenant, day, title="Benchmarking day", register=()):
    from portal.workshops.services import create_workshop
    from portal.workshops.services import register as register_for

    with app.test_request_context(), tenant_scope(tenant.id):
        workshop = create_workshop(
            None,
            {
                "title": title,
                "day": day,
                "start_time": time(9),
                "end_time": time(15),
                "location": "Bodø",
            },
            tenant.id,
        )
        for user_id in register:
            register_for(db.session.get(User, user_id), workshop)
        return workshop.id


def _send(app, today=TODAY, days=3):
    from portal.reminders import send_reminders

    with app.app_context():
        return send_reminders(today, days)


def _digests(app):
    with app.app_context():
        return db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "digest").order_by(OutboxMessage.id)
        ).all()


def _mails(app):
    """The digests sent (not other mail, such as a workshop's confirmation)."""
    return [(m.recipient, m.subject, m.body) for m in _digests(app)]


def _keys(app):
    with app.app_context(), unscoped():
        return sorted(
            (r.user_id, r.key, r.sent_on) for r in db.session.scalars(select(ReminderSent))
        )


def _digest_claim(tenant, day=TODAY):
    return f"digest:{tenant.id}:{day.isoformat()}"


def _html(app):
    with app.app_context():
        return [
            m.html for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def _fresh_start(app):
    """Forget what was reminded and sent: the next run sends everything again."""
    with app.app_context(), unscoped():
        db.session.query(ReminderSent).delete()
        db.session.query(OutboxMessage).delete()
        db.session.commit()


def _counted_send(app, today=TODAY, days=3):
    """A run and the statements it ran (not the delivery of its mails when its app context
    ends: that is the outbox's job, per message)."""
    from portal.reminders import send_reminders

    with app.app_context(), count_queries(app) as statements:
        counts = send_reminders(today, days)
    return counts, statements


def test_due_soon_and_overdue_actions(app, region):
    p = region.people
    due_soon, overdue, _late, _done, _far, _quiet, _gone = _actions(
        app,
        region.tenant,
        region.plan_id,
        ("Write the report", p.member.id, TODAY + timedelta(days=2), "in_progress"),
        ("Book the venue", p.coord.id, TODAY - timedelta(days=1), "blocked"),
        ("No owner", None, TODAY, "planned"),
        ("Finished", p.coord.id, TODAY + timedelta(days=1), "done"),
        ("Far away", p.coord.id, TODAY + timedelta(days=4), "planned"),
        ("Quiet person", p.quiet.id, TODAY, "planned"),
        ("Gone person", p.gone.id, TODAY, "planned"),
    )
    counts = _send(app)
    assert counts["due_soon"] == 1 and counts["overdue"] == 1 and counts["workshop"] == 0
    assert counts["digests"] == 2
    mails = _mails(app)
    assert [m[0] for m in mails] == ["coord@a.example", "member@a.example"]  # by due date
    late_mail = mails[0]
    day = format_date(TODAY, "long", locale="en_GB")
    assert late_mail[1] == f"Your digest of {day}: 1 reminder"
    assert "Overdue\n-------\n- Book the venue (" in late_mail[2]
    assert "Plan: Growth plan" in late_mail[2]
    assert f"http://127.0.0.1:5000/nordland/actions/{overdue}" in late_mail[2]
    assert "Write the report" not in late_mail[2]  # the owner's only
    stored = _digests(app)
    assert all(m.created_at is not None and m.transport == "log" for m in stored)
    assert all(m.status == "sent" for m in stored)  # handed over after the commit, delivered
    assert [m.key for m in stored] == [
        f"digest:{region.tenant.id}:{p.coord.id}:{TODAY.isoformat()}",
        f"digest:{region.tenant.id}:{p.member.id}:{TODAY.isoformat()}",
    ]
    html = _html(app)[0]
    assert f'href="http://127.0.0.1:5000/nordland/actions/{overdue}"' in html
    assert ">Book the venue</a>" in html and "Nordland Forum" in html
    soon_mail = mails[1]
    assert "Write the report" in soon_mail[2]
    # In the owner's language (Norwegian here): the subject, the heading, the date.
    assert format_date(TODAY, "long", locale="nb") in soon_mail[1]
    assert "Frist snart" in soon_mail[2]
    assert format_date(TODAY + timedelta(days=2), "long", locale="nb") in soon_mail[2]
    assert _keys(app) == sorted(
        [
            (
                p.coord.id,
                f"action-overdue:{overdue}:{(TODAY - timedelta(days=1)).isoformat()}",
                TODAY,
            ),
            (
                p.member.id,
                f"action-due:{due_soon}:{(TODAY + timedelta(days=2)).isoformat()}",
                TODAY,
            ),
            (p.coord.id, _digest_claim(region.tenant), TODAY),
            (p.member.id, _digest_claim(region.tenant), TODAY),
        ]
    )


def test_each_reminder_goes_out_once(app, region):
    p = region.people
    (action_id,) = _actions(
        app,
        region.tenant,
        region.plan_id,
        ("Write the report", p.coord.id, TODAY + timedelta(days=1), "planned"),
    )
    assert _send(app)["due_soon"] == 1
    again = _send(app)  # the same day: the person had the day's digest
    assert again["due_soon"] == 0 and again["digests"] == 0
    assert len(_mails(app)) == 1
    tomorrow = _send(app, today=TODAY + timedelta(days=1))  # still due soon: told already
    assert tomorrow["already_sent"] == 1 and tomorrow["digests"] == 0
    # Once past due, it is reminded of as overdue (once), not as due soon again.
    later = TODAY + timedelta(days=3)
    assert _send(app, today=later)["overdue"] == 1
    assert _send(app, today=later)["overdue"] == 0
    assert len(_mails(app)) == 2
    # A new due date is a new reminder (in the next day's digest: today's went out).
    from portal.plans.models import Action
    from portal.plans.services import update_action

    with app.test_request_context(), tenant_scope(region.tenant.id):
        action = db.session.get(Action, action_id)
        update_action(None, action, {"due_date": later + timedelta(days=2)}, expected_version=None)
    assert _send(app, today=later)["due_soon"] == 0
    assert _send(app, today=later + timedelta(days=1))["due_soon"] == 1
    assert len(_mails(app)) == 3


def test_no_reminders_when_switched_off(app, region, client):
    p = region.people
    _actions(app, region.tenant, region.plan_id, ("Write the report", p.coord.id, TODAY, "planned"))
    login(client, "coord@a.example")
    page = client.get("/profile").get_data(as_text=True)
    assert "Send me e-mail about" in page
    assert re.search(r'<input checked[^>]*value="actions_due"', page)
    # Everything but the actions due: none of those.
    others = ["workshops", "mentions", "label_expiry", "digest"]
    data = {"profile-name": "Coord", "profile-locale": "", "profile-mail": others}
    assert client.post("/profile", data=data).status_code == 302
    with app.app_context():
        assert opted_out(db.session.get(User, p.coord.id)) == {"actions_due"}
    counts = _send(app)
    assert counts["due_soon"] == 0 and _mails(app) == [] and _keys(app) == []
    data["profile-mail"] = ["actions_due"]
    client.post("/profile", data=data)
    with app.app_context():
        assert opted_out(db.session.get(User, p.coord.id)) == set(others)
    assert _send(app)["due_soon"] == 1
    bad = data | {"profile-mail": ["actions_due", "spam"]}
    assert client.post("/profile", data=bad).status_code == 422  # not a kind: nothing saved
    with app.app_context():
        assert opted_out(db.session.get(User, p.coord.id)) == set(others)


def test_a_plugin_written_before_the_digest_still_loads_and_is_heard(app, region, rec):
    """The toolkit's Reminder (a whole mail, before the digest) becomes an item of it."""
    from portal.toolkit import Reminder, reminder_footer

    p = region.people
    body = f"Three joint actions wait for you.\n\n-- \n{reminder_footer()}"
    rec.old_style = [Reminder(p.coord.id, "coord@a.example", "old:1", "Joint news", body)]
    assert _send(app)["plugin"] == 1
    (mail,) = _mails(app)
    assert mail[0] == "coord@a.example"
    assert "Joint news" in mail[2] and "Three joint actions wait for you." in mail[2]
    assert _send(app)["plugin"] == 0  # once, by its key


def test_workshop_tomorrow(app, region):
    p = region.people
    tomorrow = _workshop(app, region.tenant, TODAY + timedelta(days=1), register=[p.coord.id])
    _workshop(app, region.tenant, TODAY + timedelta(days=2), title="Later", register=[p.coord.id])
    counts = _send(app)
    assert counts["workshop"] == 1 and counts["digests"] == 1
    (mail,) = _mails(app)
    assert mail[0] == "coord@a.example" and mail[1].endswith(": 1 reminder")
    assert "Your workshops tomorrow\n" in mail[2] and "- Benchmarking day (" in mail[2]
    assert "Later" not in mail[2]
    assert "09:00" in mail[2] and "Bodø" in mail[2]
    assert f"http://127.0.0.1:5000/nordland/workshops/{tomorrow}" in mail[2]
    assert _keys(app) == sorted(
        [
            (p.coord.id, f"workshop:{tomorrow}:{(TODAY + timedelta(days=1)).isoformat()}", TODAY),
            (p.coord.id, _digest_claim(region.tenant), TODAY),
        ]
    )
    assert _send(app)["workshop"] == 0 and len(_mails(app)) == 1


def test_a_cancelled_workshop_is_not_reminded(app, region):
    from portal.db import utcnow
    from portal.workshops.models import Workshop

    p = region.people
    tomorrow = _workshop(app, region.tenant, TODAY + timedelta(days=1), register=[p.coord.id])
    with app.app_context(), unscoped():
        db.session.get(Workshop, tomorrow).cancelled_at = utcnow()
        db.session.commit()
    assert _send(app)["workshop"] == 0 and _mails(app) == []


def test_cancelled_registrations_get_no_reminder(app, region):
    from portal.workshops.models import Workshop
    from portal.workshops.services import cancel

    p = region.people
    workshop_id = _workshop(app, region.tenant, TODAY + timedelta(days=1), register=[p.coord.id])
    with app.test_request_context(), tenant_scope(region.tenant.id):
        cancel(db.session.get(User, p.coord.id), db.session.get(Workshop, workshop_id))
    assert _send(app)["workshop"] == 0 and _mails(app) == []


def test_past_workshops_are_ended_once(app, region, rec):
    from portal.workshops.models import Workshop

    past = _workshop(app, region.tenant, TODAY - timedelta(days=2), title="Over")
    _workshop(app, region.tenant, TODAY, title="Today")
    counts = _send(app)
    assert counts["workshops_ended"] == 1 and rec.ended == [past]
    assert _send(app)["workshops_ended"] == 0 and rec.ended == [past]
    with app.app_context(), unscoped():
        assert db.session.get(Workshop, past).ended_at is not None


def test_a_later_today_does_not_end_workshops_that_are_not_over(app, region, rec):
    """``--today`` in the future sends as of that day, but ends only what is really over."""
    from portal.workshops.models import Workshop

    past = _workshop(app, region.tenant, TODAY - timedelta(days=2), title="Over")
    soon = _workshop(app, region.tenant, TODAY + timedelta(days=1), title="Tomorrow")
    later = _workshop(app, region.tenant, TODAY + timedelta(days=5), title="Later")
    runner = app.test_cli_runner()
    day = (TODAY + timedelta(days=10)).isoformat()
    result = runner.invoke(args=["send-reminders", "--today", day])
    assert result.exit_code == 0, result.output
    assert "1 workshops ended" in result.output and rec.ended == [past]
    with app.app_context(), unscoped():
        assert db.session.get(Workshop, past).ended_at is not None
        assert db.session.get(Workshop, soon).ended_at is None
        assert db.session.get(Workshop, later).ended_at is None


def test_a_workshop_ends_at_its_end_time_in_the_regions_time_zone(app, region):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from portal.tenancy.models import Tenant
    from portal.workshops.models import Workshop

    with app.app_context(), unscoped():
        db.session.get(Tenant, region.other.id).timezone = "America/New_York"
        db.session.commit()
    day = TODAY + timedelta(days=30)  # 09:00-15:00 on the region's clock
    oslo = _workshop(app, region.tenant, day, title="In Oslo")
    new_york = _workshop(app, region.other, day, title="In New York")
    run_as_of = day + timedelta(days=1)

    def ended_at(hour, minute, zone):
        import time_machine

        from portal.reminders import send_reminders

        now = datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))
        with time_machine.travel(now, tick=False), app.app_context():
            send_reminders(run_as_of)  # the real clock is now, whatever the run's today
        with app.app_context(), unscoped():
            ended = select(Workshop.id).where(Workshop.ended_at.is_not(None))
            return sorted(db.session.scalars(ended.order_by(Workshop.id)))

    assert ended_at(14, 59, "Europe/Oslo") == []
    assert ended_at(15, 0, "Europe/Oslo") == [oslo]
    assert ended_at(14, 59, "America/New_York") == [oslo]  # 20:59 in Oslo
    assert ended_at(15, 0, "America/New_York") == [oslo, new_york]


def test_a_dry_run_sends_nothing_and_changes_nothing(app, region, rec):
    from portal.workshops.models import Workshop

    p = region.people
    _actions(
        app,
        region.tenant,
        region.plan_id,
        ("Write the report", p.member.id, TODAY + timedelta(days=2), "in_progress"),
        ("Book the venue", p.coord.id, TODAY - timedelta(days=1), "blocked"),
    )
    _workshop(app, region.tenant, TODAY + timedelta(days=1), register=[p.coord.id])
    past = _workshop(app, region.tenant, TODAY - timedelta(days=2), title="Over")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-reminders", "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    day = format_date(TODAY, "long", locale="en_GB")
    at = lines.index(f"[nordland] would send to coord@a.example: Your digest of {day}: 2 reminders")
    assert lines[at + 1 : at + 3] == [  # one digest with both
        "    - Overdue: Book the venue",
        "    - Your workshops tomorrow: Benchmarking day",
    ]
    assert "[nordland] would send to member@a.example: " in result.output
    assert format_date(TODAY, "long", locale="nb") in result.output  # the member's language
    assert "[nordland] would end the workshop “Over”" in lines
    assert "1 due soon, 1 overdue, 1 workshop" in result.output
    assert "1 workshops ended" in result.output
    assert lines[-1] == "This was a dry run: nothing was sent or changed."
    assert _mails(app) == [] and _keys(app) == [] and rec.ended == []
    with app.app_context(), unscoped():
        assert db.session.get(Workshop, past).ended_at is None
    # Again the same; then the real run does what the dry run told.
    again = runner.invoke(args=["send-reminders", "--dry-run"])
    assert again.output == result.output
    real = runner.invoke(args=["send-reminders"])
    assert "1 due soon, 1 overdue, 1 workshop" in real.output and "dry run" not in real.output
    assert "2 digests sent" in real.output
    assert len(_mails(app)) == 2 and rec.ended == [past]
    after = runner.invoke(args=["send-reminders", "--dry-run"])
    assert "would" not in after.output and "0 digests" in after.output


def test_every_tenant_is_covered(app, region):
    p = region.people
    _actions(
        app,
        region.other,
        region.other_plan_id,
        ("Other region's action", p.other.id, TODAY, "planned"),
    )
    _actions(app, region.tenant, region.plan_id, ("Ours", p.coord.id, TODAY, "planned"))
    counts = _send(app)
    assert counts["tenants"] == 2 and counts["due_soon"] == 2
    assert sorted(m[0] for m in _mails(app)) == ["coord@a.example", "coord@b.example"]
    with app.app_context(), unscoped():
        tenants = {r.key: r.tenant_id for r in db.session.scalars(select(ReminderSent))}
    assert tenants[_digest_claim(region.tenant)] == region.tenant.id
    assert tenants[_digest_claim(region.other)] == region.other.id
    assert sorted(set(tenants.values())) == sorted([region.tenant.id, region.other.id])


def test_queries_do_not_grow_with_actions_or_people(app, region):
    p = region.people
    _workshop(app, region.tenant, TODAY + timedelta(days=1), register=[p.coord.id])
    _actions(app, region.tenant, region.plan_id, ("First", p.coord.id, TODAY, "planned"))
    counts, few = _counted_send(app)
    assert counts["due_soon"] == 1 and counts["digests"] == 1
    owners = [p.coord.id, p.member.id]
    _actions(
        app,
        region.tenant,
        region.plan_id,
        *[
            (f"Action {i}", owners[i % 2], TODAY + timedelta(days=i % 4), "in_progress")
            for i in range(30)
        ],
    )
    _fresh_start(app)
    counts, many = _counted_send(app)
    assert counts["due_soon"] == 31 and counts["workshop"] == 1 and counts["digests"] == 2
    assert len(many) == len(few), "\n".join(s[:90] for s in many)
    # (one of them per run: the regions whose webhooks want label expiry; one per region: the
    # notifications waiting for the digest; one per region written to: its cache versions
    # bumped with its data version, an upsert of the written scopes)
    assert len(few) < 24


def test_two_hundred_overdue_actions_are_one_mail(app, region):
    """The flood this replaced: one overdue mail per action. Now the owner gets one digest
    that lists the first MAX_ITEMS and links to the rest; each action is reminded once, and a
    second run the same day sends nothing."""
    from portal.digest import MAX_ITEMS

    p = region.people
    _actions(
        app,
        region.tenant,
        region.plan_id,
        *[
            (f"Action {i}", p.coord.id, TODAY - timedelta(days=1 + i % 30), "in_progress")
            for i in range(200)
        ],
    )
    counts = _send(app)
    assert counts["overdue"] == 200 and counts["digests"] == 1
    ((to, subject, body),) = _mails(app)
    assert to == "coord@a.example" and subject.endswith(": 200 reminders")
    assert body.count("\n- Action ") == MAX_ITEMS
    assert f"… and {200 - MAX_ITEMS} more: http://127.0.0.1:5000/nordland/my-work" in body
    html = _html(app)[0]
    assert html.count('">Action ') == MAX_ITEMS
    assert 'href="http://127.0.0.1:5000/nordland/my-work"' in html
    assert len(_keys(app)) == 200 + 1  # every action, and the day's digest
    again = _send(app)
    assert again["digests"] == 0 and again["overdue"] == 0
    assert len(_mails(app)) == 1 and len(_keys(app)) == 201
    later = _send(app, TODAY + timedelta(days=1))  # nothing new: no mail
    assert later["digests"] == 0 and later["already_sent"] == 200 and len(_mails(app)) == 1


def test_one_digest_with_a_section_per_kind_as_each_person_chose(app, region, manager):
    p = region.people
    _actions(app, region.tenant, region.plan_id, ("Book the venue", p.coord.id, TODAY, "planned"))
    _workshop(app, region.tenant, TODAY + timedelta(days=1), register=[p.coord.id])
    _label(app, region.tenant, region.cluster.id, add_months(TODAY, 1))
    counts = _send(app)
    assert counts["digests"] == 2  # the coordinator's and the cluster manager's
    assert counts["due_soon"] == 1 and counts["workshop"] == 1 and counts["label_expiry"] == 2
    body = {m[0]: m[2] for m in _mails(app)}["coord@a.example"]
    headings = ["Due soon\n", "Your workshops tomorrow\n", "Labels about to lapse\n"]
    assert all(h in body for h in headings)
    assert [body.index(h) for h in headings] == sorted(body.index(h) for h in headings)
    # Tomorrow, with workshops switched off: only what is new and wanted.
    _fresh_start(app)
    with app.app_context(), unscoped():
        choose_mail(db.session.get(User, p.coord.id), {"actions_due", "label_expiry"})
        db.session.commit()
    counts = _send(app)
    assert counts["workshop"] == 0 and counts["due_soon"] == 1
    body = {m[0]: m[2] for m in _mails(app)}["coord@a.example"]
    assert "Book the venue" in body and "Benchmarking day" not in body
    # None of it wanted: no mail at all.
    _fresh_start(app)
    with app.app_context(), unscoped():
        choose_mail(db.session.get(User, p.coord.id), {"mentions", "digest"})
        db.session.commit()
    _send(app)
    assert [m[0] for m in _mails(app)] == ["manager@a.example"]


def test_a_run_that_finds_the_day_claimed_sends_and_claims_nothing(app, region):
    """Claims and mails are one transaction: when another run got there first (here: its
    digest is in the outbox), this run's region batch rolls back whole."""
    from portal.mail.services import send_mail

    p = region.people
    _actions(app, region.tenant, region.plan_id, ("Book the venue", p.coord.id, TODAY, "planned"))
    with app.app_context():
        key = f"digest:{region.tenant.id}:{p.coord.id}:{TODAY.isoformat()}"
        send_mail("coord@a.example", "Another run's digest", "body", kind="digest", key=key)
        db.session.commit()
    counts = _send(app)
    assert counts["conflicts"] == 1 and counts["digests"] == 0 and counts["due_soon"] == 0
    assert [m[1] for m in _mails(app)] == ["Another run's digest"] and _keys(app) == []


def test_cli_sends_and_summarises(app, region):
    p = region.people
    _actions(
        app,
        region.tenant,
        region.plan_id,
        ("Write the report", p.coord.id, TODAY + timedelta(days=5), "planned"),
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-reminders", "--days", "3"])
    assert result.exit_code == 0, result.output
    assert "0 due soon" in result.output and "2 regions" in result.output
    result = runner.invoke(args=["send-reminders", "--days", "7", "--today", TODAY.isoformat()])
    assert result.exit_code == 0 and "1 due soon" in result.output
    bad = runner.invoke(args=["send-reminders", "--today", "tomorrow"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_cli_shows_progress_over_many_regions(app, region):
    factory = Factory(app)
    for i in range(5):
        factory.tenant(f"region{i}", f"Region {i}")
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "7 regions" in result.output


# --- labels: 6, 3 and 1 months before expiry ----------------------------------------------

NOV_22 = date(2026, 11, 22)


@pytest.fixture
def manager(app, region):
    return Factory(app).user(
        "manager@a.example", tenant=region.tenant, role="cluster_manager", clusters=[region.cluster]
    )


def _label(app, tenant, cluster_id, expires_on, level="bronze", scheme="esca", version="2020"):
    with app.app_context(), tenant_scope(tenant.id):
        label = Label(
            tenant_id=tenant.id,
            cluster_id=cluster_id,
            scheme=scheme,
            scheme_version=version,
            level=level,
            awarded_on=add_months(expires_on, -24),
            expires_on=expires_on,
        )
        db.session.add(label)
        db.session.commit()
        return label.id


def test_managers_and_coordinators_hear_at_6_3_and_1_months(app, region, manager):
    label_id = _label(app, region.tenant, region.cluster.id, date(2027, 5, 10))
    assert _send(app, date(2026, 11, 9))["label_expiry"] == 0  # more than 6 months away
    counts = _send(app, date(2026, 11, 10))  # exactly 6 months before
    assert counts["label_expiry"] == 2 and counts["digests"] == 2
    recipients = sorted(m[0] for m in _mails(app))
    assert recipients == ["coord@a.example", "manager@a.example"]
    body = _mails(app)[0][2]
    assert "Labels about to lapse\n" in body
    assert "The Bronze label of Arctic Minerals (expires on 10 May 2027)" in body
    assert f"/nordland/clusters/{region.cluster.id}/labels" in body
    assert _send(app, date(2026, 12, 1))["label_expiry"] == 0  # once per stage
    assert _send(app, date(2027, 2, 10))["label_expiry"] == 2  # 3 months
    assert _send(app, date(2027, 4, 10))["label_expiry"] == 2  # 1 month
    assert _send(app, date(2027, 5, 10))["label_expiry"] == 0  # the last day: sent already
    assert _send(app, date(2027, 5, 11))["label_expiry"] == 0  # expired: nothing more
    with app.app_context(), unscoped():
        keys = sorted({r.key for r in db.session.scalars(select(ReminderSent))})
    assert [k for k in keys if not k.startswith("digest:")] == [
        f"label-expiry:{label_id}:{m}" for m in (1, 3, 6)
    ]


def test_a_renewed_label_gets_no_reminder(app, region, manager):
    _label(app, region.tenant, region.cluster.id, date(2027, 1, 31))
    _label(app, region.tenant, region.cluster.id, date(2029, 1, 31), level="silver")
    assert _send(app, NOV_22)["label_expiry"] == 0


def test_reminders_speak_each_persons_language(app, region, manager):
    # the member of the fixture reads Norwegian, but members are not told; make them manager
    from portal.accounts.models import Membership, Role

    with app.app_context(), tenant_scope(region.tenant.id):
        membership = db.session.scalar(
            select(Membership).where(Membership.user_id == region.people.member.id)
        )
        membership.role = Role.CLUSTER_MANAGER
        db.session.commit()
    _label(app, region.tenant, region.cluster.id, date(2027, 1, 15))
    assert _send(app, NOV_22)["label_expiry"] == 3
    norwegian = next(m for m in _mails(app) if m[0] == "member@a.example")
    assert "Bronse" in norwegian[2] and "utløper" in norwegian[2], norwegian[2]
    english = next(m for m in _mails(app) if m[0] == "coord@a.example")
    assert "Bronze" in english[2] and "Bronse" not in english[2]


def test_other_regions_and_switched_off_people_get_nothing(app, region, manager):
    other_cluster = Factory(app).cluster(region.other, "Bravo Labels")
    _label(app, region.other, other_cluster.id, date(2027, 1, 15))
    counts = _send(app, NOV_22)
    assert counts["label_expiry"] == 1  # the other region's coordinator only
    assert [m[0] for m in _mails(app)] == ["coord@b.example"]


def test_queries_do_not_grow_with_labels(app, region, manager):
    _label(app, region.tenant, region.cluster.id, date(2027, 1, 15))
    _counts, few = _counted_send(app, NOV_22)
    more = [Factory(app).cluster(region.tenant, f"Cluster {i}") for i in range(6)]
    for cluster in more:
        _label(app, region.tenant, cluster.id, date(2027, 2, 15))
    _fresh_start(app)
    counts, many = _counted_send(app, NOV_22)
    assert counts["label_expiry"] == 7 * 1 + 1  # coordinator x7, manager x1
    assert counts["digests"] == 2
    assert len(many) == len(few)
