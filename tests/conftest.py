"""Fixtures: a real database per test (SQLite file, or PostgreSQL when
PORTAL_DATABASE_URL points at one), the app, a client, a CLI runner, factories.

The schema always comes from the migrations, so every run also tests them.
"""

from __future__ import annotations

import gc
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest

# Tests never expire: PORTAL_TEST_TODAY=YYYY-MM-DD runs the suite as if today were that day
# (at the real time of day; or give a moment, 2030-01-31T23:30:00+00:00). The clock keeps
# running from there. Python's clock is moved for the whole test process, app and tests alike
# (date.today(), datetime.now(), time.time()), before the app is imported; subprocesses, the
# database server and Chromium keep the real clock. CI runs the PostgreSQL suite on a month end
# three years ahead this way (see .ci/run).
# Without it, the run is on the real day but from 10:00 (the machine's time): a run that
# passed midnight would change its day half-way, between a test's data (built for one day,
# often by a module's TODAY) and the app's checks (on the next), as a CI run that started at
# 23:45 did. The late hours of the day are CI's shifted run's (at 23:05 UTC).
TEST_TODAY = os.environ.get("PORTAL_TEST_TODAY", "")
TEST_START = None
if TEST_TODAY != "now":
    from datetime import date as _date
    from datetime import datetime as _datetime

    import time_machine

    if "T" in TEST_TODAY:
        TEST_START = _datetime.fromisoformat(TEST_TODAY).astimezone()
    elif TEST_TODAY:
        _time_of_day = _datetime.now().astimezone().timetz()
        TEST_START = _datetime.combine(_date.fromisoformat(TEST_TODAY), _time_of_day)
    else:
        TEST_START = (
            _datetime.now().astimezone().replace(hour=10, minute=0, second=0, microsecond=0)
        )
    time_machine.travel(TEST_START, tick=True).start()


# Each test builds an app (some 100,000 objects: URL rules, Jinja, SQLAlchemy) that is garbage
# once the test ends, and the cycle collector's full passes also walked everything the run
# keeps for its whole length (modules, compiled templates and routes, caches): about a quarter
# of a test's time. After a full collection between tests, what is still alive is the run's
# own, so it is frozen (gc.freeze: left out of later passes); again now and then, as those
# caches grow. Something frozen that dies later is only not freed; a test's app is never
# alive between tests. With little left unfrozen, full passes would come every tenth middle
# pass; every fortieth is enough (a subset of the suite: 35 s to 25 s).
_REFREEZE_EVERY = 200
gc.set_threshold(700, 10, 40)
_tests_done = 0


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_teardown(item, nextitem):
    yield
    global _tests_done
    if _tests_done % _REFREEZE_EVERY == 0:
        gc.collect()
        gc.freeze()
    _tests_done += 1


# The files that take longest (a minute or so each, measured with --durations), first: pytest-xdist
# (--dist loadfile) hands out files in the order collected, and one of these handed out last
# keeps the run going while the other workers have nothing left (the accessibility walk,
# collected last of all, did). The order of the tests within a file stays as written.
SLOW_FILES_FIRST = (
    "tests/browser/test_accessibility.py",
    "tests/test_bench_smoke.py",
    "tests/test_generated_requests.py",
    "tests/test_isolation.py",
    "tests/test_plugin_new.py",
    "tests/test_jobs_celery.py",
    "tests/test_privacy.py",
    "tests/test_joint_pages.py",
    "tests/test_compare_pages.py",
    "tests/browser/test_compare_ui.py",
    "tests/browser/test_ui.py",
    "tests/browser/test_labels_ui.py",
    "tests/browser/test_joint_ui.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: position for position, name in enumerate(SLOW_FILES_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


def pytest_report_header(config):
    if TEST_START is not None:
        return f"the clock starts at {TEST_START.isoformat()} (PORTAL_TEST_TODAY; =now: the real clock)"


# Real argon2, cheaper parameters: tests create many users.
from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import MetaData, create_engine, event, text  # noqa: E402

import portal.accounts.services as _accounts  # noqa: E402
from portal import create_app  # noqa: E402
from tests import routing_cache, world_snapshot  # noqa: E402

_accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_accounts._DUMMY_HASH = _accounts._hasher.hash("not-a-real-password")
routing_cache.install()  # an app per test, its URL rules compiled once a run
routing_cache.install_entry_points_cache()  # and the installed plugins looked up once
routing_cache.install_engine_cache()  # and one engine per database (statements compiled once)
routing_cache.install_small_caches()  # and a password's guess, the templates' digest

# In CI the generated examples are the same each run: a failure there reproduces exactly.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

DATABASE_URL = os.environ.get("PORTAL_DATABASE_URL", "")
USE_POSTGRES = DATABASE_URL.startswith("postgresql")
# pytest-xdist (-n 2: CI's runs, on two cores, each wait on servers, browsers and subprocesses
# a good part of the time): each worker has a PostgreSQL database of its own, made here and
# dropped when the worker ends, and the processes it starts use it too.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if USE_POSTGRES and XDIST_WORKER:
    from sqlalchemy.engine import make_url

    _shared_url = make_url(DATABASE_URL)
    DATABASE_URL = _shared_url.set(
        database=f"{_shared_url.database}_{XDIST_WORKER}"
    ).render_as_string(hide_password=False)
    os.environ["PORTAL_DATABASE_URL"] = DATABASE_URL
# The app's connections in a test commit without waiting for the disk: a test database
# need not survive a crash, and the wait was most of a small test's time on PostgreSQL.
_TEST_POSTGRES_URL = (
    f"{DATABASE_URL}{'&' if '?' in DATABASE_URL else '?'}options=-csynchronous_commit%3Doff"
    if USE_POSTGRES
    else ""
)


def _worker_database(action: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(DATABASE_URL)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if action == "create":
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
        else:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    admin.dispose()


def pytest_sessionfinish(session, exitstatus):
    if USE_POSTGRES and XDIST_WORKER:
        _worker_database("drop")


_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
# CI's second run, on PostgreSQL, repeats the properties the SQLite run checks in full (the
# same derandomized examples): there they check the SQL, on fewer examples each.
_hypothesis_settings.register_profile(
    "ci-postgresql", derandomize=True, print_blob=True, max_examples=30
)
if os.environ.get("CI") == "true":
    _hypothesis_settings.load_profile("ci-postgresql" if USE_POSTGRES else "ci")
PASSWORD = "correct-horse-battery"


def _test_config(db_url: str, tmp_path: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_SERVER": None,
        "OUTBOX_SWEEP_SECONDS": 0,  # no timer thread: tests sweep when they mean to
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "SERVER_NAME": None,
        # Each test gets a fresh copy of a template file under the same name, which a
        # write-ahead log beside it would not follow (tests/test_sqlite_busy.py runs WAL).
        "SQLITE_WAL": False,
    }


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """Migrate once per session: a SQLite file to copy, or the PostgreSQL database itself."""
    from portal import migrations_runner

    if USE_POSTGRES:
        if XDIST_WORKER:
            _worker_database("create")
        url = DATABASE_URL
        target = None
    else:
        target = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite:///{target}"
    app = create_app(_test_config(url, tmp_path_factory.mktemp("inst")))
    with app.app_context():
        migrations_runner.upgrade_all(app)
        from portal.extensions import db

        db.engine.dispose()
    return target


_EMPTY_POSTGRES: dict[frozenset, str] = {}


def _empty_postgres(url: str) -> None:
    """Empty every table and restart every sequence, in one round trip.

    DELETE in dependency order, not TRUNCATE: the tables of a test are tiny, and TRUNCATE
    makes new files for all of them (about 120 ms a test, over two minutes a run). The
    statement is made again when a test's plugin has added tables.
    """
    engine = create_engine(url)
    with engine.begin() as conn:
        names = frozenset(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
        )
        if names not in _EMPTY_POSTGRES:
            metadata = MetaData()
            metadata.reflect(conn)
            tables = [
                t.name
                for t in reversed(metadata.sorted_tables)
                if not t.name.startswith("alembic_version")
            ]
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            _EMPTY_POSTGRES[names] = "; ".join(
                [f'DELETE FROM "{t}"' for t in tables]  # noqa: S608 (names from the catalog)
                + [f'ALTER SEQUENCE "{s}" RESTART' for s in sequences]
            )
        conn.exec_driver_sql(_EMPTY_POSTGRES[names])
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_path(tmp_path_factory):
    """One path for the tests' SQLite database, so their apps share one engine."""
    return tmp_path_factory.mktemp("database") / "portal.db"


@pytest.fixture
def db_url(migrated_template, request):
    if USE_POSTGRES:
        _empty_postgres(DATABASE_URL)
        return _TEST_POSTGRES_URL
    path = request.getfixturevalue("_sqlite_path")
    # A fresh copy under the same name (a new file: anything still holding the last test's
    # keeps that one).
    fresh = path.with_suffix(".new")
    shutil.copy(migrated_template, fresh)
    fresh.replace(path)
    _FRESH_STAMP[path] = world_snapshot.file_stamp(path)
    return f"sqlite:///{path}"


# The SQLite file as each test got it (the `world` fixture puts a kept world back only on a
# file nothing has written to since).
_FRESH_STAMP: dict[Path, tuple[int, bytes]] = {}


def _sqlite_without_waiting(dbapi_connection, _record) -> None:
    """A test's SQLite file commits without waiting for the disk (as PostgreSQL's tests do:
    synchronous_commit off): it need not survive a crash, and the wait was a millisecond a
    commit."""
    dbapi_connection.execute("PRAGMA synchronous=OFF")


@pytest.fixture
def make_app(db_url, tmp_path):
    """Build an app on this test's database; extra config and plugins may be given."""
    from portal.extensions import db

    apps = []

    def _make(config: dict | None = None, plugins=()):
        app = create_app(
            {**_test_config(db_url, tmp_path), **(config or {})}, plugins=list(plugins)
        )
        app.jinja_env.bytecode_cache = routing_cache.TEMPLATES  # compiled once a run
        if not USE_POSTGRES:
            with app.app_context():
                engine = db.engine
            if not event.contains(engine, "connect", _sqlite_without_waiting):
                event.listen(engine, "connect", _sqlite_without_waiting)
        apps.append(app)
        return app

    yield _make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context with a request, for calling services directly."""
    with app.test_request_context():
        yield app


# --- factories ---------------------------------------------------------------------------


class Factory:
    """Creates data through the services, each call in its own short context.

    Returns plain records (ids and names), so no ORM object or app context leaks
    into the requests a test then makes.
    """

    def __init__(self, app):
        self.app = app

    @contextmanager
    def _context(self):
        with self.app.test_request_context():
            yield

    def tenant(self, slug="nordland", name=None, **kw):
        from portal.tenancy import services

        with self._context():
            t = services.create_tenant(None, slug=slug, name=name or slug.title(), **kw)
            return SimpleNamespace(id=t.id, slug=t.slug, name=t.name)

    def user(self, email, *, tenant=None, role=None, clusters=(), admin=False, name=None):
        from portal.accounts import services
        from portal.accounts.models import Role
        from portal.extensions import db
        from portal.tenancy.models import Tenant

        with self._context():
            user = services.create_user(
                email, name or email.split("@")[0].title(), PASSWORD, is_platform_admin=admin
            )
            if tenant is not None:
                services.grant_role(
                    db.session.get(Tenant, tenant.id), user, Role(role), [c.id for c in clusters]
                )
            db.session.commit()
            return SimpleNamespace(id=user.id, email=user.email, name=user.name)

    def cluster(self, tenant, name="Arctic Minerals", members=0, **kw):
        from portal.clusters.models import Cluster, MemberOrganisation, MemberType
        from portal.extensions import db
        from portal.tenancy import tenant_scope

        with self._context(), tenant_scope(tenant.id):
            cluster = Cluster(
                tenant_id=tenant.id, name=name, sector=kw.pop("sector", "Mining"), **kw
            )
            db.session.add(cluster)
            db.session.flush()
            types = list(MemberType)
            db.session.add_all(
                [
                    MemberOrganisation(
                        tenant_id=tenant.id,
                        cluster_id=cluster.id,
                        name=f"{name} member {i:03d}",
                        member_type=types[i % len(types)],
                        city="Bodø",
                    )
                    for i in range(members)
                ]
            )
            db.session.commit()
            return SimpleNamespace(id=cluster.id, name=name, tenant_id=tenant.id)

    def enable_plugin(self, tenant, name, enabled=True):
        from portal.extensions import db
        from portal.tenancy import services
        from portal.tenancy.models import Tenant

        with self._context():
            services.set_plugin_enabled(None, db.session.get(Tenant, tenant.id), name, enabled)


@pytest.fixture
def factory(app):
    return Factory(app)


def free_port() -> int:
    """A loopback port nobody listens on (for servers the tests start)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The people of the `world` fixture's first region, by role.
ROLE_EMAILS = {
    "coordinator": "coord@a.example",
    "cluster_manager": "manager@a.example",
    "member": "member@a.example",
    "observer": "observer@a.example",
    "assessor": "assessor@a.example",
}


def login(client, email, password=PASSWORD):
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.data[:500]
    return response


@pytest.fixture
def world(factory, app, request, tmp_path_factory):
    """Two regions; in the first, one user of every role. Built once a run and put back for
    each test (tests/world_snapshot.py) while the database is as the migrations left it."""
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    sqlite_path = None if USE_POSTGRES else request.getfixturevalue("_sqlite_path")
    if USE_POSTGRES:
        pristine = world_snapshot.postgres_is_empty(engine)
    else:
        pristine = world_snapshot.file_stamp(sqlite_path) == _FRESH_STAMP.get(sqlite_path)
    world_key = world_snapshot.key(app)
    found = world_snapshot.kept(world_key) if pristine else None
    if found is not None:
        return world_snapshot.restore(engine, found, sqlite_path)
    result = _build_world(factory)
    if pristine:
        folder = tmp_path_factory.getbasetemp() / "worlds"
        folder.mkdir(exist_ok=True)
        world_snapshot.keep(engine, world_key, result, sqlite_path, folder)
    return result


def _build_world(factory) -> dict:
    a = factory.tenant("nordland", "Nordland Forum")
    b = factory.tenant("bravo", "Bravo Region")
    c1 = factory.cluster(a, "Arctic Minerals", members=5)
    c2 = factory.cluster(a, "Helgeland Health", members=3)
    factory.user("coord@a.example", tenant=a, role="coordinator")
    factory.user("manager@a.example", tenant=a, role="cluster_manager", clusters=[c1])
    factory.user("member@a.example", tenant=a, role="member", clusters=[c2])
    factory.user("observer@a.example", tenant=a, role="observer")
    factory.user("assessor@a.example", tenant=a, role="assessor")
    factory.user("admin@portal.example", admin=True)
    return {"a": a, "b": b, "c1": c1, "c2": c2}


# --- query counting ----------------------------------------------------------------------


def forget_kept(app) -> None:
    """Empty what the app keeps across requests: every keep (portal.keeps) and the pages."""
    from portal.keeps import forget_all

    forget_all(app)
    if "portal_page_cache" in app.extensions:
        app.extensions["portal_page_cache"].clear()


@contextmanager
def count_queries(app, cold: bool = True):
    """The SQL statements run inside the block. ``cold``: first forget what the app keeps
    across requests (pages, plugin switches, members' access), so that a counted request
    does all its own work whatever was visited before it."""
    from portal.extensions import db

    if cold:
        forget_kept(app)
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def _count(conn, cursor, statement, params, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "PRAGMA")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def queries_per_page(app, client, urls) -> dict[str, int]:
    """Each page's SQL statements, counted cold (see ``count_queries``); each must answer 200."""
    counts = {}
    for url in urls:
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(statements)
    return counts


@pytest.fixture
def artifacts_dir():
    path = Path(
        os.environ.get("PORTAL_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts")
    )
    path.mkdir(parents=True, exist_ok=True)
    return path
