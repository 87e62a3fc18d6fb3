"""The daily digest says, for each label about to lapse, whether its renewal is planned: a
label lapsing with no renewal planned (or one planned too late) tells the cluster's managers
and the coordinators the last day for the assessment and links to the label calendar; once
per stage; as each person chose their mail."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.labels.models import Label, PlannedAssessment
from portal.labels.scheme import add_months
from portal.mail.models import OutboxMessage
from portal.mail.preferences import choose as choose_mail
from portal.tenancy import tenant_scope, unscoped
from tests.label_calendar_support import TODAY, build


def _label(app, cal, cluster_id, expires_on, level):
    with app.app_context(), tenant_scope(cal.tenant):
        label = Label(
            tenant_id=cal.tenant,
            cluster_id=cluster_id,
            scheme="esca",
            scheme_version="2020",
            level=level,
            awarded_on=add_months(expires_on, -24),
            expires_on=expires_on,
            notes="",
        )
        db.session.add(label)
        db.session.commit()


def _planned(app, cal, cluster_id, day):
    with app.app_context(), tenant_scope(cal.tenant):
        db.session.add(
            PlannedAssessment(
                tenant_id=cal.tenant,
                cluster_id=cluster_id,
                scheme="esca",
                kind="benchmarking",
                planned_on=day,
                level="",
                notes="",
            )
        )
        db.session.commit()


def _send(app, today=TODAY):
    from portal.reminders import send_reminders

    with app.app_context():
        return send_reminders(today, 3)


def _bodies(app):
    with app.app_context(), unscoped():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest"))
        return {m.recipient: m.body for m in rows}


def test_a_label_lapsing_with_no_renewal_planned_says_so_to_those_who_can_act(app, world, factory):
    cal = build(app, world, factory)
    c1_silver, c2_bronze = add_months(TODAY, 2), add_months(TODAY, 1)
    _label(app, cal, cal.c1, c1_silver, "silver")
    _label(app, cal, cal.c2, c2_bronze, "bronze")
    _planned(app, cal, cal.c1, TODAY + timedelta(days=20))  # c1 renews in time
    _planned(app, cal, cal.c2, c2_bronze + timedelta(days=1))  # c2 too late
    counts = _send(app)
    assert counts["label_expiry"] == 4  # the coordinator x2, each cluster's manager x1
    bodies = _bodies(app)
    coordinator = bodies["coord@a.example"]
    assert coordinator.count("No renewal is planned") == 1
    assert format_date(c2_bronze, "long", locale="en_GB") in coordinator
    planned_day = format_date(TODAY + timedelta(days=20), "long", locale="en_GB")
    assert f"A renewal is planned: Benchmarking on {planned_day}" in coordinator
    assert f"/nordland/clusters/{cal.c2}/labels/calendar" in coordinator
    assert "No renewal is planned" in bodies["manager2@a.example"]  # c2's manager
    assert "No renewal is planned" not in bodies["manager@a.example"]  # c1's: planned
    assert "observer@a.example" not in bodies
    assert _send(app)["label_expiry"] == 0  # once per stage


def test_the_label_reminder_follows_the_mail_choice(app, world, factory):
    cal = build(app, world, factory)
    _label(app, cal, cal.c2, add_months(TODAY, 1), "bronze")
    with app.app_context(), unscoped():
        person = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        choose_mail(person, {"actions_due", "workshops"})
        db.session.commit()
    assert _send(app)["label_expiry"] == 1  # c2's manager only
    assert "coord@a.example" not in _bodies(app)
