"""A synthetic region, built fast: SQLAlchemy Core bulk inserts (executemany) into a freshly
migrated database.

The inserts bypass the ORM, so its flush hooks do not run: every tenant-owned row gets its
``tenant_id`` here (``_insert`` refuses a row without one), ids are given explicitly, and on
PostgreSQL the id sequences are moved past them afterwards. The tenant, its plugins and the two
people who sign in are made through the services (as the app would), everything else in bulk.

Figures scale with the number of clusters; the defaults are those of 500 clusters (members,
4 rounds on the 31 ESCA gold indicators, 3 programmes, 300 workshops, 20,000 actions (none
aimed at an indicator unless ``aimed_every`` says one in how many), 200 joint actions of 20
clusters). Values come from a seeded random generator: the same scale gives the
same region.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import click
from sqlalchemy import Table, func, select, text

TENANT_SLUG = "bench"
COORDINATOR_EMAIL = "bench-coord@example.org"
MANAGER_EMAIL = "bench-manager@example.org"
# A known password for the synthetic users (long, unusual, free of their names: the policy).
PASSWORD = "quartz-lantern-ferry-2024"  # noqa: S105
PLUGINS = ("esca", "compare", "joint")
INDICATOR_SET = ("esca-gold", "2013")
CHUNK = 2000


@dataclass(frozen=True)
class Scale:
    """How much data. ``for_clusters`` keeps the proportions of the 500-cluster default."""

    clusters: int = 500
    members_per_cluster: int = 10
    rounds_per_cluster: int = 4
    programmes: int = 3
    workshops: int = 300
    actions: int = 20_000
    joint_actions: int = 200
    joint_participants: int = 20
    labelled_share: float = 0.6
    # One action in this many aims at an indicator (0: none, the default of the README's runs).
    aimed_every: int = 0

    @classmethod
    def for_clusters(cls, clusters: int, *, smoke: bool = False) -> Scale:
        if smoke:
            return cls(
                clusters=clusters,
                members_per_cluster=3,
                rounds_per_cluster=2,
                workshops=max(3, clusters),
                actions=20 * clusters,
                joint_actions=max(2, clusters // 2),
                joint_participants=3,
            )
        ratio = clusters / 500
        return cls(
            clusters=clusters,
            workshops=max(3, round(300 * ratio)),
            actions=max(10, round(20_000 * ratio)),
            joint_actions=max(2, round(200 * ratio)),
        )


@dataclass
class Region:
    """What the benchmark needs to know about the region it built."""

    tenant_slug: str
    coordinator_email: str
    manager_email: str
    password: str
    scale: dict
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    programme_id: int = 0
    joint_plan_id: int = 0
    cluster_id: int = 0
    joint_plugin: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


class _Ids:
    """Explicit primary keys, continuing after whatever the services created."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.next: dict[str, int] = {}

    def take(self, table: Table, count: int) -> range:
        name = table.name
        if name not in self.next:
            self.next[name] = (self.conn.scalar(select(func.max(table.c.id))) or 0) + 1
        start = self.next[name]
        self.next[name] = start + count
        return range(start, start + count)


def _progress(label: str, length: int):
    return click.progressbar(
        length=length, label=f"  {label:<26}", file=sys.stderr, show_pos=True, width=30
    )


def _insert(conn, table: Table, rows: Iterable[dict], total: int, counts: dict) -> None:
    """executemany in chunks, with a progress bar; every tenant-owned row must name its tenant."""
    scoped = "tenant_id" in table.c
    done = 0
    with _progress(table.name, total) as bar:
        chunk: list[dict] = []
        for row in rows:
            if scoped and not row.get("tenant_id"):
                raise ValueError(f"a {table.name} row without tenant_id: {row}")
            chunk.append(row)
            if len(chunk) >= CHUNK:
                conn.execute(table.insert(), chunk)
                bar.update(len(chunk))
                done += len(chunk)
                chunk = []
        if chunk:
            conn.execute(table.insert(), chunk)
            bar.update(len(chunk))
            done += len(chunk)
    counts[table.name] = counts.get(table.name, 0) + done


def migrate(app) -> None:
    """What ``portal db upgrade`` does: the core's and every plugin's migrations."""
    from portal import migrations_runner

    with app.app_context():
        migrations_runner.upgrade_all(app)


def build(app, scale: Scale, seed: int = 2013) -> Region:
    """Fill the (migrated, empty) database of ``app`` with a region at ``scale``."""
    started = time.perf_counter()
    with app.test_request_context():
        region = _build(app, scale, random.Random(seed))
    region.seconds = round(time.perf_counter() - started, 2)
    return region


def _build(app, scale: Scale, rng: random.Random) -> Region:
    from portal.accounts import services as accounts
    from portal.accounts.models import Role
    from portal.benchmarking.services import find_set
    from portal.extensions import db
    from portal.tenancy import services as tenancy

    region = Region(
        tenant_slug=TENANT_SLUG,
        coordinator_email=COORDINATOR_EMAIL,
        manager_email=MANAGER_EMAIL,
        password=PASSWORD,
        scale=asdict(scale),
    )
    indicator_set = find_set(*INDICATOR_SET)
    if indicator_set is None:
        raise SystemExit(f"the indicator set {INDICATOR_SET} is not installed (plugin esca)")

    # Through the services: the tenant (plugins hear of it), its plugins, the people who sign in.
    tenant = tenancy.create_tenant(None, slug=TENANT_SLUG, name="Bench Region", timezone="UTC")
    host = app.extensions["portal_plugins"]
    for name in PLUGINS:
        if name in host.plugins and not host.plugins[name].load_error:
            tenancy.set_plugin_enabled(None, tenant, name, True)
        else:
            region.notes.append(f"plugin {name} is not installed: its pages are skipped")
    coordinator = accounts.create_user(COORDINATOR_EMAIL, "Bench Coordinator", PASSWORD)
    manager = accounts.create_user(MANAGER_EMAIL, "Bench Manager", PASSWORD)
    accounts.grant_role(tenant, coordinator, Role.COORDINATOR)
    db.session.commit()
    password_hash = coordinator.password_hash
    tenant_id, coordinator_id, manager_id = tenant.id, coordinator.id, manager.id

    counts: dict[str, int] = {}
    engine = db.engine
    with engine.begin() as conn:
        ids = _Ids(conn)
        today = date.today()
        tables = db.metadata.tables
        t = tenant_id

        # --- clusters, members, their people ------------------------------------------
        cluster_ids = list(ids.take(tables["cluster"], scale.clusters))
        sectors = ["Mining", "Health", "Seafood", "Energy", "ICT", "Tourism", "Maritime"]
        _insert(
            conn,
            tables["cluster"],
            (
                {
                    "id": cid,
                    "tenant_id": t,
                    "name": f"Cluster {n + 1:04d}",
                    "sector": sectors[n % len(sectors)],
                    "description": "A synthetic cluster of the benchmark region.",
                    "founded_year": 2000 + n % 20,
                    "programme_level": ("Arena", "Arena Pro", "GCE")[n % 3],
                    "contact_name": f"Contact {n + 1}",
                    "contact_email": f"contact{n + 1}@bench.example.org",
                }
                for n, cid in enumerate(cluster_ids)
            ),
            scale.clusters,
            counts,
        )
        member_types = [
            "company_sme",
            "company_sme",
            "company_sme",
            "company_large",
            "public_body",
            "university",
            "research_institute",
            "investor",
            "other",
        ]
        members = scale.clusters * scale.members_per_cluster
        member_ids = iter(ids.take(tables["member_organisation"], members))
        _insert(
            conn,
            tables["member_organisation"],
            (
                {
                    "id": next(member_ids),
                    "tenant_id": t,
                    "cluster_id": cid,
                    "name": f"Member {m + 1:02d} of cluster {cid}",
                    "member_type": member_types[(cid + m) % len(member_types)],
                    "city": ("Bodø", "Mo i Rana", "Narvik", "Tromsø")[m % 4],
                    "joined_year": 2005 + (cid + m) % 18,
                }
                for cid in cluster_ids
                for m in range(scale.members_per_cluster)
            ),
            members,
            counts,
        )
        # One manager per cluster (same known password), plus the named manager of cluster 1.
        people = list(ids.take(tables["user_account"], scale.clusters))
        _insert(
            conn,
            tables["user_account"],
            (
                {
                    "id": uid,
                    "email": f"manager{n + 1:04d}@bench.example.org",
                    "name": f"Manager {n + 1:04d}",
                    "password_hash": password_hash,
                }
                for n, uid in enumerate(people)
            ),
            scale.clusters,
            counts,
        )
        membership_ids = list(ids.take(tables["membership"], scale.clusters + 1))
        _insert(
            conn,
            tables["membership"],
            (
                {"id": mid, "tenant_id": t, "user_id": uid, "role": "cluster_manager"}
                for mid, uid in zip(membership_ids, [*people, manager_id], strict=True)
            ),
            scale.clusters + 1,
            counts,
        )
        _insert(
            conn,
            tables["membership_cluster"],
            (
                {"tenant_id": t, "membership_id": mid, "cluster_id": cid}
                for mid, cid in zip(membership_ids, [*cluster_ids, cluster_ids[0]], strict=True)
            ),
            scale.clusters + 1,
            counts,
        )
        manager_of = dict(zip(cluster_ids, people, strict=True))

        # --- benchmarking rounds and their values ---------------------------------------
        indicators = indicator_set.indicators
        rounds = scale.clusters * scale.rounds_per_cluster
        round_ids = list(ids.take(tables["benchmark_round"], rounds))
        round_of: list[tuple[int, int, int]] = []  # (round id, cluster id, round number)
        first_day = today - timedelta(days=400 * scale.rounds_per_cluster + 60)
        now = datetime.now(UTC)  # experts' confirmed results
        rows = []
        it = iter(round_ids)
        for n, cid in enumerate(cluster_ids):
            for r in range(scale.rounds_per_cluster):
                rid = next(it)
                round_of.append((rid, cid, r))
                rows.append(
                    {
                        "id": rid,
                        "tenant_id": t,
                        "cluster_id": cid,
                        "held_on": first_day + timedelta(days=400 * r + n % 300),
                        "indicator_set": indicator_set.id,
                        "set_version": indicator_set.version,
                        "assessor": "Bench Assessor",
                        "kind": "audit"
                        if r == scale.rounds_per_cluster - 1 and n % 5 == 0
                        else "benchmarking",
                        "confirmed_at": now,
                    }
                )
        _insert(conn, tables["benchmark_round"], rows, rounds, counts)
        base = {cid: rng.uniform(0.2, 0.7) for cid in cluster_ids}

        def values() -> Iterator[dict]:
            value_ids = iter(ids.take(tables["indicator_value"], rounds * len(indicators)))
            for rid, cid, r in round_of:
                for indicator in indicators:
                    share = min(1.0, max(0.0, base[cid] + 0.08 * r + rng.uniform(-0.25, 0.25)))
                    value = indicator.minimum + share * (indicator.maximum - indicator.minimum)
                    value = round(value) if indicator.scale == "points" else round(value, 1)
                    yield {
                        "id": next(value_ids),
                        "tenant_id": t,
                        "round_id": rid,
                        "indicator_id": indicator.id,
                        "value": float(value),
                        "light": indicator.light(value),
                    }

        _insert(conn, tables["indicator_value"], values(), rounds * len(indicators), counts)

        # --- labels ---------------------------------------------------------------------
        labelled = [c for c in cluster_ids if rng.random() < scale.labelled_share]
        label_ids = iter(ids.take(tables["label"], len(labelled)))

        def labels() -> Iterator[dict]:
            for cid in labelled:
                awarded = today - timedelta(days=rng.randint(30, 1000))
                yield {
                    "id": next(label_ids),
                    "tenant_id": t,
                    "cluster_id": cid,
                    "scheme": "esca",
                    "scheme_version": "2013",
                    "level": rng.choice(("bronze", "bronze", "silver", "gold")),
                    "awarded_on": awarded,
                    "expires_on": awarded + timedelta(days=730),
                    "score": round(rng.uniform(60, 140), 1),
                    "decided_by_id": coordinator_id,
                }

        _insert(conn, tables["label"], labels(), len(labelled), counts)

        # --- programmes, participants, milestones ---------------------------------------
        programme_ids = list(ids.take(tables["programme"], scale.programmes))
        _insert(
            conn,
            tables["programme"],
            (
                {
                    "id": pid,
                    "tenant_id": t,
                    "name": f"Programme {n + 1}",
                    "description": "A joint improvement programme of the benchmark region.",
                    "start_date": today - timedelta(days=365),
                    "end_date": today + timedelta(days=730),
                    "calendar_key": f"bench-calendar-key-{pid:04d}",
                }
                for n, pid in enumerate(programme_ids)
            ),
            scale.programmes,
            counts,
        )
        programme_of = {
            cid: programme_ids[n % len(programme_ids)] for n, cid in enumerate(cluster_ids)
        }
        in_programme = {
            pid: [c for c in cluster_ids if programme_of[c] == pid] for pid in programme_ids
        }
        pc_ids = iter(ids.take(tables["programme_cluster"], scale.clusters))
        _insert(
            conn,
            tables["programme_cluster"],
            (
                {
                    "id": next(pc_ids),
                    "tenant_id": t,
                    "programme_id": programme_of[cid],
                    "cluster_id": cid,
                    "goal": "Silver before the bronze label expires",
                }
                for cid in cluster_ids
            ),
            scale.clusters,
            counts,
        )
        kinds = ["benchmarking", "workshop", "label_application", "label_expiry", "other", "other"]
        milestone_ids = iter(ids.take(tables["milestone"], scale.programmes * len(kinds)))
        _insert(
            conn,
            tables["milestone"],
            (
                {
                    "id": next(milestone_ids),
                    "tenant_id": t,
                    "programme_id": pid,
                    "title": f"Milestone {k + 1}",
                    "kind": kind,
                    "due_date": today + timedelta(days=-300 + 150 * k),
                    "done": k < 2,
                }
                for pid in programme_ids
                for k, kind in enumerate(kinds)
            ),
            scale.programmes * len(kinds),
            counts,
        )

        # --- workshops: agenda, invitations, registrations ------------------------------
        workshop_ids = list(ids.take(tables["workshop"], scale.workshops))
        workshop_day = {
            wid: today + timedelta(days=-365 + (730 * n) // max(1, scale.workshops))
            for n, wid in enumerate(workshop_ids)
        }
        workshop_programme = {
            wid: programme_ids[n % len(programme_ids)] for n, wid in enumerate(workshop_ids)
        }
        _insert(
            conn,
            tables["workshop"],
            (
                {
                    "id": wid,
                    "tenant_id": t,
                    "programme_id": workshop_programme[wid],
                    "title": f"Workshop {n + 1}",
                    "day": workshop_day[wid],
                    "start_time": clock(9, 30),
                    "end_time": clock(15, 0),
                    "location": "Bodø",
                    "capacity": 40,
                    "description": "A synthetic workshop.",
                    "minutes_md": "## Minutes\n\nDecisions were made." if n % 2 else "",
                }
                for n, wid in enumerate(workshop_ids)
            ),
            scale.workshops,
            counts,
        )
        agenda_ids = iter(ids.take(tables["agenda_item"], scale.workshops * 3))
        _insert(
            conn,
            tables["agenda_item"],
            (
                {
                    "id": next(agenda_ids),
                    "tenant_id": t,
                    "workshop_id": wid,
                    "start_time": clock(9 + 2 * k, 30),
                    "title": f"Agenda item {k + 1}",
                    "presenter": "Bench Coordinator",
                }
                for wid in workshop_ids
                for k in range(3)
            ),
            scale.workshops * 3,
            counts,
        )
        invites = []
        registrations = []
        for n, wid in enumerate(workshop_ids):
            pool = in_programme[workshop_programme[wid]]
            invited = rng.sample(pool, min(2, len(pool)))
            invites += [{"workshop_id": wid, "cluster_id": c} for c in invited]
            registrations += [(wid, manager_of[c]) for c in invited]
            # The coordinator goes to every third workshop (my work lists the upcoming ones).
            if n % 3 == 0:
                registrations.append((wid, coordinator_id))
        invite_ids = iter(ids.take(tables["workshop_invite"], len(invites)))
        _insert(
            conn,
            tables["workshop_invite"],
            ({"id": next(invite_ids), "tenant_id": t, **row} for row in invites),
            len(invites),
            counts,
        )
        registration_ids = iter(ids.take(tables["registration"], len(registrations)))
        now = datetime.now(UTC)
        _insert(
            conn,
            tables["registration"],
            (
                {
                    "id": next(registration_ids),
                    "tenant_id": t,
                    "workshop_id": wid,
                    "user_id": uid,
                    "status": "registered",
                    "requested_at": now,
                    "attended": True if workshop_day[wid] < today else None,
                }
                for wid, uid in registrations
            ),
            len(registrations),
            counts,
        )

        # --- plans and actions ----------------------------------------------------------
        joint_plan_ids = list(ids.take(tables["plan"], scale.programmes))
        own_plan_ids = list(ids.take(tables["plan"], scale.clusters))
        plan_rows = [
            {
                "id": plid,
                "tenant_id": t,
                "kind": "joint",
                "programme_id": pid,
                "cluster_id": None,
                "title": f"Joint plan of programme {n + 1}",
                "start_date": today - timedelta(days=365),
                "end_date": today + timedelta(days=730),
                "goals": "Faster improvement with less effort per cluster.",
                "focus_areas": "",
            }
            for n, (plid, pid) in enumerate(zip(joint_plan_ids, programme_ids, strict=True))
        ] + [
            {
                "id": plid,
                "tenant_id": t,
                "kind": "individual",
                "programme_id": programme_of[cid],
                "cluster_id": cid,
                "title": f"Plan of cluster {cid}",
                "start_date": today - timedelta(days=365),
                "end_date": today + timedelta(days=730),
                "goals": "Toward silver.",
                "focus_areas": "",
            }
            for plid, cid in zip(own_plan_ids, cluster_ids, strict=True)
        ]
        _insert(conn, tables["plan"], plan_rows, len(plan_rows), counts)
        joint_of = dict(zip(programme_ids, joint_plan_ids, strict=True))
        # 5% of the actions are in the joint plans, the rest spread over the clusters' plans.
        joint_count = max(len(joint_plan_ids), scale.actions // 20)
        own_count = scale.actions - joint_count
        action_plan: list[tuple[int, int | None, int]] = []  # (plan, cluster or None, programme)
        for k in range(joint_count):
            pid = programme_ids[k % len(programme_ids)]
            action_plan.append((joint_of[pid], None, pid))
        for k in range(own_count):
            cid = cluster_ids[k % len(cluster_ids)]
            action_plan.append((own_plan_ids[k % len(cluster_ids)], cid, programme_of[cid]))
        action_ids = list(ids.take(tables["plan_action"], len(action_plan)))
        statuses = ["planned"] * 6 + ["in_progress"] * 6 + ["done"] * 5 + ["blocked", "cancelled"]
        links: list[dict] = []

        def actions() -> Iterator[dict]:
            for aid, (plid, cid, pid) in zip(action_ids, action_plan, strict=True):
                status = rng.choice(statuses)
                progress = {"done": 100, "planned": 0}.get(status, rng.randrange(10, 95, 5))
                due = today + timedelta(days=rng.randint(-200, 400))
                if cid is None:
                    # Joint actions: the coordinator owns one in three.
                    owner = (
                        coordinator_id
                        if aid % 3 == 0
                        else manager_of[rng.choice(in_programme[pid])]
                    )
                    responsible = rng.sample(in_programme[pid], min(2, len(in_programme[pid])))
                else:
                    owner = manager_id if cid == cluster_ids[0] else manager_of[cid]
                    responsible = [cid]
                links.extend(
                    {"tenant_id": t, "action_id": aid, "cluster_id": c} for c in responsible
                )
                changed = now - timedelta(minutes=rng.randint(0, 60 * 24 * 120))
                yield {
                    "id": aid,
                    "tenant_id": t,
                    "plan_id": plid,
                    "title": f"Action {aid}",
                    "description": "Something to improve, with a measurable result.",
                    "owner_id": owner,
                    "start_date": due - timedelta(days=rng.randint(20, 200)),
                    "due_date": due,
                    "status": status,
                    "progress": progress,
                    "priority": rng.choice(("low", "normal", "normal", "high")),
                    "weight": rng.choice((1.0, 1.0, 2.0)),
                    "workshop_id": (
                        rng.choice(workshop_ids) if cid is None and aid % 10 == 0 else None
                    ),
                    "version": 1,
                    "created_at": changed - timedelta(days=30),
                    "updated_at": changed,
                }

        _insert(conn, tables["plan_action"], actions(), len(action_plan), counts)
        _insert(conn, tables["action_cluster"], links, len(links), counts)
        # Actions aimed at an indicator of the set, as improvement plans do: their writes
        # renew what shows the work on indicators (the ``aims`` cache scope).
        aimed = action_ids[:: scale.aimed_every] if scale.aimed_every else []
        aims = [
            {
                "id": lid,
                "tenant_id": t,
                "action_id": aid,
                "indicator_set": INDICATOR_SET[0],
                "set_version": INDICATOR_SET[1],
                "indicator_id": indicators[aid % len(indicators)].id,
            }
            for aid, lid in zip(
                aimed, ids.take(tables["action_indicator"], len(aimed)), strict=True
            )
        ]
        if aims:
            _insert(conn, tables["action_indicator"], aims, len(aims), counts)

        # --- joint actions (plugin joint) -----------------------------------------------
        if "joint_action" in tables and "joint" in host.plugins:
            region.joint_plugin = True
            _joint_actions(
                conn,
                ids,
                tables,
                scale,
                rng,
                t,
                programme_ids,
                in_programme,
                manager_of,
                coordinator_id,
                indicators,
                today,
                counts,
            )
        else:
            region.notes.append("plugin joint is not installed: no joint actions")

    if engine.dialect.name == "postgresql":
        _move_sequences(engine, db.metadata)
    # The rows above went in as bulk inserts, which the search index's flush listener does
    # not see: the index is written as `portal search reindex` writes it.
    from portal.search.indexing import rebuild

    counts["search_entry"] = rebuild(db.session, t)
    db.session.commit()
    if engine.dialect.name == "postgresql":
        # As autovacuum would after a bulk load: statistics, and the visibility map that
        # index-only scans need.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
    else:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
    db.session.remove()

    region.rows = counts
    region.programme_id = programme_ids[0]
    region.joint_plan_id = joint_plan_ids[0]
    region.cluster_id = cluster_ids[0]
    return region


def _joint_actions(
    conn,
    ids,
    tables,
    scale,
    rng,
    t,
    programme_ids,
    in_programme,
    manager_of,
    coordinator_id,
    indicators,
    today,
    counts,
) -> None:
    joint_ids = list(ids.take(tables["joint_action"], scale.joint_actions))
    parts: list[dict] = []
    linked: list[dict] = []
    rows = []
    for n, jid in enumerate(joint_ids):
        pid = programme_ids[n % len(programme_ids)]
        pool = in_programme[pid]
        chosen = rng.sample(pool, min(scale.joint_participants, len(pool)))
        rows.append(
            {
                "id": jid,
                "tenant_id": t,
                "programme_id": pid,
                "title": f"Joint action {n + 1}",
                "aim": "Do together what each would do alone, for less.",
                "lead_user_id": coordinator_id if n % 4 == 0 else manager_of[chosen[0]],
                "lead_cluster_id": chosen[0],
                "start_date": today - timedelta(days=rng.randint(30, 300)),
                "due_date": today + timedelta(days=rng.randint(-60, 300)),
                "status": rng.choice(("proposed", "planned", "in_progress", "in_progress", "done")),
                "budget_money": 100_000 + 5_000 * (n % 20),
                "budget_hours": 400 + 10 * (n % 30),
                "origin": "manual",
                "version": 1,
            }
        )
        for cid in chosen:
            progress = rng.randrange(0, 105, 5)
            parts.append(
                {
                    "tenant_id": t,
                    "action_id": jid,
                    "cluster_id": cid,
                    "joined_on": today - timedelta(days=rng.randint(20, 300)),
                    "tasks": "Our part of the joint action.",
                    "owner_id": manager_of[cid],
                    "status": "done"
                    if progress == 100
                    else rng.choice(("not_started", "in_progress", "in_progress", "blocked")),
                    "progress": progress,
                    "hours_spent": rng.randint(0, 200),
                    "money_spent": rng.randint(0, 20_000),
                    "solo_hours": rng.randint(100, 400) if rng.random() < 0.7 else None,
                    "solo_money": rng.randint(10_000, 60_000) if rng.random() < 0.7 else None,
                    "version": 1,
                }
            )
        for indicator in rng.sample(list(indicators), 2):
            linked.append(
                {
                    "tenant_id": t,
                    "action_id": jid,
                    "indicator_set": INDICATOR_SET[0],
                    "set_version": INDICATOR_SET[1],
                    "indicator_id": indicator.id,
                }
            )
    _insert(conn, tables["joint_action"], rows, len(rows), counts)
    for row, pid in zip(parts, ids.take(tables["joint_participation"], len(parts)), strict=True):
        row["id"] = pid
    _insert(conn, tables["joint_participation"], parts, len(parts), counts)
    for row, lid in zip(
        linked, ids.take(tables["joint_action_indicator"], len(linked)), strict=True
    ):
        row["id"] = lid
    _insert(conn, tables["joint_action_indicator"], linked, len(linked), counts)


def _move_sequences(engine, metadata) -> None:
    """Explicit ids do not move PostgreSQL's sequences: put each one after its table's ids."""
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if "id" not in table.c or not table.c.id.primary_key:
                continue
            sequence = conn.scalar(
                text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
            )
            if sequence is None:
                continue
            conn.execute(
                text(
                    f'SELECT setval(:seq, coalesce(max(id), 1), max(id) IS NOT NULL) FROM "{table.name}"'  # noqa: S608 - a table name from the metadata
                ),
                {"seq": sequence},
            )


def describe(region: Region) -> str:
    total = sum(region.rows.values())
    parts = ", ".join(f"{name} {count:,}" for name, count in region.rows.items())
    return f"{total:,} rows in {region.seconds:.1f} s ({parts})"
