"""Demo of the joint improvement process: a programme with workshops, a joint plan and the
clusters' own plans (idempotent: nothing is added twice)."""

from __future__ import annotations

import io
from datetime import date, time, timedelta

from openpyxl import Workbook
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.files import services as files
from portal.plans import services as plans
from portal.plans.models import ActionStatus
from portal.programmes import services as programmes
from portal.programmes.models import MilestoneKind, Programme
from portal.tenancy import tenant_scope
from portal.tenancy.models import Tenant
from portal.workshops import services as workshops
from portal.workshops.models import Registration, RegistrationStatus

MINUTES = """## Kick-off: coordinated bronze benchmarking

Each cluster received its **individual benchmarking report** (31 indicators, red / yellow / green),
and the forum saw the *Regional Cluster Excellence Scorecard* comparing the seven clusters with
29 Danish and 28 Norwegian clusters.

### Decisions
1. A joint communication and branding action, led by Arktisk Mineralklynge.
2. Each cluster writes an individual plan toward silver or gold before its bronze label expires.
3. Work together on economically sustainable member services.
"""


def _tiny_pdf(text: str) -> bytes:
    """A small, valid one-page PDF (so the demo has a real report to download)."""
    stream = f"BT /F1 18 Tf 60 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def _scorecard_xlsx(clusters: list[Cluster]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Scorecard"
    sheet.append(["Cluster", "Green", "Yellow", "Red"])
    for i, cluster in enumerate(clusters):
        sheet.append([cluster.name, 14 + i % 5, 10 - i % 3, 7 - i % 4])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def load_process(tenant: Tenant, today: date) -> None:
    with tenant_scope(tenant.id):
        if db.session.scalar(select(Programme.id).limit(1)):
            return
        clusters = db.session.scalars(select(Cluster).order_by(Cluster.name)).all()
        people = {u.email: u for u in db.session.scalars(select(User))}
        coordinator = people.get("coordinator@nordland.example")
        manager = people.get("manager@nordland.example")
        member = people.get("member@nordland.example")
        start = date(today.year - 1, 9, 1)
        programme = programmes.create_programme(
            None,
            {
                "name": "Nordland klyngeforum " + f"{start.year}–{start.year + 2}",
                "description": "Fylkets felles utviklingsprogram mot sølv- og gullmerket.",
                "start_date": start,
                "end_date": date(start.year + 2, 12, 31),
            },
            tenant.id,
        )
        goals = [
            "Sølvmerket før bronsemerket går ut",
            "Gullrevisjon til høsten",
            "Ny bronsebenchmarking, deretter sølv",
        ]
        for i, cluster in enumerate(clusters):
            programmes.add_participant(None, programme, cluster, goals[i % len(goals)])
        for title, kind, offset in (
            ("Koordinert bronsebenchmarking", MilestoneKind.BENCHMARKING, -200),
            ("Oppstartsverksted", MilestoneKind.WORKSHOP, -150),
            ("Søknader om sølvmerket", MilestoneKind.LABEL_APPLICATION, 120),
            ("Bronsemerkene går ut", MilestoneKind.LABEL_EXPIRY, 400),
        ):
            programmes.add_milestone(
                None,
                programme,
                {"title": title, "kind": kind, "due_date": today + timedelta(days=offset)},
            )
        past = workshops.create_workshop(
            None,
            {
                "programme_id": programme.id,
                "title": "Oppstart: resultatene fra benchmarkingen",
                "day": today - timedelta(days=150),
                "start_time": time(9, 30),
                "end_time": time(15, 30),
                "location": "Bodø, Stormen konserthus",
                "capacity": 30,
                "description": "Klyngenes benchmarkingrapporter og regionens resultatkort.",
            },
            tenant.id,
        )
        upcoming = workshops.create_workshop(
            None,
            {
                "programme_id": programme.id,
                "title": "Mot sølv: felles og egne planer",
                "day": today + timedelta(days=21),
                "start_time": time(10),
                "end_time": time(15),
                "location": "Mo i Rana",
                "online_url": "https://meet.example/nordland-forum",
                "capacity": 12,
                "description": "Hver klynge legger fram planen sin; vi blir enige om felles tiltak.",
            },
            tenant.id,
        )
        for workshop in (past, upcoming):
            workshops.add_agenda_item(
                None,
                workshop,
                {
                    "start_time": workshop.start_time,
                    "title": "Velkommen",
                    "presenter": "Ingrid Johansen",
                },
            )
            workshops.add_agenda_item(
                None,
                workshop,
                {
                    "start_time": time(11),
                    "title": "Resultatene fra benchmarkingen",
                    "presenter": "ESCA-ekspert",
                },
            )
            workshops.invite(None, workshop, cluster_ids=[c.id for c in clusters])
        for person in (p for p in (coordinator, manager, member) if p):
            db.session.add(
                Registration(
                    tenant_id=tenant.id,
                    workshop_id=past.id,
                    user_id=person.id,
                    status=RegistrationStatus.REGISTERED,
                    attended=True,
                )
            )
        db.session.commit()
        workshops.set_minutes(None, past, MINUTES)
        for name, data in (
            ("Regionalt resultatkort.xlsx", _scorecard_xlsx(clusters)),
            ("Benchmarkingrapport.pdf", _tiny_pdf("Benchmarkingrapport - Nordland")),
        ):
            files.store(
                FileStorage(io.BytesIO(data), filename=name),
                tenant_id=tenant.id,
                user_id=coordinator.id if coordinator else None,
                workshop_id=past.id,
            )
        db.session.commit()
        if manager:
            workshops.register(manager, upcoming)
        joint = plans.create_plan(
            None,
            {
                "title": "Felles plan mot sølv",
                "start_date": programme.start_date,
                "end_date": programme.end_date,
                "goals": "Raskere forbedring med mindre innsats per klynge.",
                "focus_areas": "Kommunikasjon og merkevare; bærekraftige medlemstjenester; felles innovasjonsprosjekter",
            },
            tenant_id=tenant.id,
            programme=programme,
        )
        for title, status, progress, offset, owner in (
            ("Felles kommunikasjon og merkevare", ActionStatus.IN_PROGRESS, 40, 60, manager),
            ("Felles katalog over medlemstjenester", ActionStatus.PLANNED, 0, 140, coordinator),
            (
                "Felles utlysning av innovasjonsprosjekter",
                ActionStatus.BLOCKED,
                10,
                -5,
                coordinator,
            ),
        ):
            plans.create_action(
                None,
                joint,
                {
                    "title": title,
                    "status": status,
                    "progress": progress,
                    "workshop_id": past.id,
                    "start_date": today - timedelta(days=100),
                    "due_date": today + timedelta(days=offset),
                    "owner_id": owner.id if owner else None,
                },
                [c.id for c in clusters[:4]],
            )
        for i, cluster in enumerate(clusters[:4]):
            plan = plans.create_plan(
                None,
                {
                    "title": f"{cluster.name}: mot sølv",
                    "start_date": programme.start_date,
                    "end_date": programme.end_date,
                    "goals": goals[i % len(goals)],
                },
                tenant_id=tenant.id,
                cluster=cluster,
            )
            plan.programme_id = programme.id
            for j, (title, status, progress) in enumerate(
                (
                    ("Medlemsundersøkelse", ActionStatus.DONE, 100),
                    (
                        "Dokumentere tre forbedrede indikatorer",
                        ActionStatus.IN_PROGRESS,
                        30 + 10 * i,
                    ),
                    ("Oppdatere strategien og handlingsplanen", ActionStatus.PLANNED, 0),
                )
            ):
                owner = (
                    manager
                    if cluster.name in {"Arktisk Mineralklynge", "Polar Livsvitenskap"}
                    else member
                )
                plans.create_action(
                    None,
                    plan,
                    {
                        "title": title,
                        "status": status,
                        "progress": progress,
                        "start_date": today - timedelta(days=60 - 10 * j),
                        "due_date": today + timedelta(days=-3 + 45 * j + 7 * i),
                        "owner_id": owner.id if owner else None,
                    },
                )
        db.session.commit()
