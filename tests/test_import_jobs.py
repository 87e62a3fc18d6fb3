"""Large imports run as jobs with progress (portal.imports.jobs): still every row or none.

The rounds import is the first: a confirmed file of at least IMPORT_JOB_ROWS rows is written
by a job on the queue (a real Celery worker here, through Redis), its page shows how far it
is, and a problem found then, or a write failing half-way, leaves nothing written and says
which row, or how far it got. Another person's or another region's job is 404."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from portal.accounts.models import User
from portal.benchmarking import round_import, round_staging
from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.imports.models import ImportJob, PendingImport
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import count_queries, login
from tests.import_support import check, confirm, token_of
from tests.mail_support import smtp_fixture  # noqa: F401 - the fixture `smtp`
from tests.test_jobs_celery import REDIS_BROKER, Worker, _require, queue  # noqa: F401

URL = "/nordland/rounds/import"
HEADER = "cluster,date,indicator_set,version,indicator,value,comment,assessor\n"
INDICATORS = ("engagement", "participant_structure", "concentration")
JOB_LINK = re.compile(r"/nordland/imports/jobs/(\d+)")


def _csv(clusters, day="2020-03-01", indicators=INDICATORS) -> bytes:
    rows = [
        f"{name},{day},esca-gold,2013,{indicator},3,,Ann Expert\n"
        for name in clusters
        for indicator in indicators
    ]
    return (HEADER + "".join(rows)).encode()


def _region(factory, world, clusters: int) -> list[str]:
    """``clusters`` more clusters in the first region (one statement), and their names."""
    factory.enable_plugin(world["a"], "esca")
    names = [f"Cluster {n:04d}" for n in range(clusters)]
    with factory._context(), tenant_scope(world["a"].id):
        db.session.add_all(
            [Cluster(tenant_id=world["a"].id, name=n, sector="Mining") for n in names]
        )
        db.session.commit()
    return names


def _counts(app) -> tuple[int, int]:
    with app.app_context(), unscoped():
        return (
            db.session.scalar(select(func.count()).select_from(BenchmarkRound)),
            db.session.scalar(select(func.count()).select_from(IndicatorValue)),
        )


def _job(app, job_id: int) -> ImportJob:
    with app.app_context(), unscoped():
        job = db.session.get(ImportJob, job_id)
        db.session.expunge(job)
        return job


def _check_and_start(client, content: bytes):
    checked = check(client, URL, content, "rounds.csv")
    assert checked.status_code == 200, checked.get_data(as_text=True)[:2000]
    token = token_of(checked)
    response = confirm(client, URL + "/confirm", token)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(JOB_LINK.search(response.headers["Location"]).group(1)), token


@pytest.fixture
def jobs_app(make_app):
    """Jobs from 10 rows, run in the request (the thread's work, deterministically)."""
    return make_app({"IMPORT_JOB_ROWS": 10, "IMPORT_JOBS_IN_REQUEST": True})


def test_a_large_import_is_a_job_and_its_page_tells_the_result(jobs_app, world, factory):
    names = _region(factory, world, 6)
    client = jobs_app.test_client()
    login(client, "coord@a.example")
    job_id, _token = _check_and_start(client, _csv(names))
    page = client.get(f"/nordland/imports/jobs/{job_id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "New rounds: 6, values: 18." in page.get_data(as_text=True)
    assert _counts(jobs_app) == (6, 18)
    job = _job(jobs_app, job_id)
    assert job.state == "done"
    # A second confirm of the same check finds the same job; nothing is written twice.
    again = confirm(client, URL + "/confirm", _token)
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/{job_id}")
    assert _counts(jobs_app) == (6, 18)


def test_small_imports_stay_in_the_request(jobs_app, world, factory):
    names = _region(factory, world, 2)
    client = jobs_app.test_client()
    login(client, "coord@a.example")
    token = token_of(check(client, URL, _csv(names, indicators=INDICATORS[:1]), "r.csv"))
    response = confirm(client, URL + "/confirm", token)
    assert response.status_code == 302 and "/imports/jobs/" not in response.headers["Location"]
    assert _counts(jobs_app) == (2, 2)


def test_the_page_is_the_uploaders_only_and_another_regions_id_is_404(jobs_app, world, factory):
    names = _region(factory, world, 6)
    factory.user("coord@b.example", tenant=world["b"], role="coordinator")
    factory.user("coord2@a.example", tenant=world["a"], role="coordinator")
    client = jobs_app.test_client()
    login(client, "coord@a.example")
    job_id, _token = _check_and_start(client, _csv(names))
    other = jobs_app.test_client()
    login(other, "coord2@a.example")
    assert other.get(f"/nordland/imports/jobs/{job_id}").status_code == 404
    bravo = jobs_app.test_client()
    login(bravo, "coord@b.example")
    assert bravo.get(f"/bravo/imports/jobs/{job_id}").status_code == 404
    assert client.get(f"/nordland/imports/jobs/{job_id + 1}").status_code == 404
    # Permissions as inline: an observer may not confirm (nor start a job).
    observer = jobs_app.test_client()
    login(observer, "observer@a.example")
    refused = confirm(observer, URL + "/confirm", "x" * 43)
    assert refused.status_code in (403, 404)


def test_a_problem_in_a_middle_row_writes_nothing_and_names_the_row(jobs_app, world, factory):
    """Between the preview and the job someone enters a round of the 4th cluster: the job's
    check finds it on its row (in the uploader's language) and writes no row of the file."""
    names = _region(factory, world, 6)
    client = jobs_app.test_client()
    login(client, "coord@a.example")
    checked = check(client, URL, _csv(names), "rounds.csv")
    with jobs_app.app_context(), unscoped():
        cluster = db.session.scalar(select(Cluster).where(Cluster.name == names[3]))
        db.session.add(
            BenchmarkRound(
                tenant_id=world["a"].id,
                cluster_id=cluster.id,
                held_on=date(2020, 3, 1),
                indicator_set="esca-gold",
                set_version="2013",
            )
        )
        db.session.commit()
    with jobs_app.app_context(), unscoped():
        db.session.execute(update(User).where(User.email == "coord@a.example").values(locale="nb"))
        db.session.commit()
    response = confirm(client, URL + "/confirm", token_of(checked))
    job_id = int(JOB_LINK.search(response.headers["Location"]).group(1))
    job = _job(jobs_app, job_id)
    assert job.state == "failed"
    assert _counts(jobs_app) == (1, 0)  # only the round entered by hand
    [[row, column, message]] = job.result["problems"]
    assert (row, column) == (2 + 3 * 3, "date") and names[3] in message
    page = client.get(f"/nordland/imports/jobs/{job_id}").get_data(as_text=True)
    assert f"<td>{row}</td>" in page


def test_a_write_failing_half_way_writes_nothing_and_says_how_far_it_got(
    jobs_app, world, factory, monkeypatch
):
    names = _region(factory, world, 6)
    monkeypatch.setattr(round_import, "CHUNK", 2)
    real = round_staging.round_rows  # prepared per chunk, whether staged first or not
    calls = []

    def failing(*args):
        calls.append(1)
        if len(calls) == 3:
            raise OperationalError("INSERT", {}, Exception("disk I/O error"))
        return real(*args)

    monkeypatch.setattr(round_staging, "round_rows", failing)
    client = jobs_app.test_client()
    login(client, "coord@a.example")
    job_id, token = _check_and_start(client, _csv(names))
    job = _job(jobs_app, job_id)
    assert job.state == "failed"
    assert "after 4 of 6 rounds" in job.result["problems"][0][2]
    assert "nothing was written" in job.result["problems"][0][2]
    assert _counts(jobs_app) == (0, 0)
    with jobs_app.app_context(), unscoped():  # the claim was given back: it may be retried
        pending = db.session.scalar(select(PendingImport).where(PendingImport.token == token))
        assert pending.confirmed_at is None


def test_writing_does_not_query_per_row(app, world, factory):
    """Two statements per chunk of rounds: the same count for 40 and for 400 rounds."""
    names = _region(factory, world, 400)
    counts = []
    for size, day in ((40, "2020-03-01"), (400, "2020-04-01")):
        content = _csv(names[:size], day=day)
        with app.test_request_context(), tenant_scope(world["a"].id):
            with count_queries(app) as queries:
                outcome = round_import.import_rounds(None, world["a"].id, content)
            assert outcome.written and len(outcome.rounds) == size
            counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_whole_round_of_2000_clusters_from_one_file(app, world, factory):
    names = _region(factory, world, 2000)
    content = _csv(names)
    with app.test_request_context(), tenant_scope(world["a"].id), count_queries(app) as queries:
        outcome = round_import.import_rounds(None, world["a"].id, content)
    assert outcome.written and not outcome.errors
    assert _counts(app) == (2000, 6000)
    inserts = [q for q in queries if q.lstrip().upper().startswith("INSERT")]
    # Per chunk of 500 rounds: rounds, values (executemany batches count once each).
    assert len(inserts) <= 2 * (2000 // round_import.CHUNK) + 4


def test_a_large_import_runs_on_a_real_worker(
    make_app,
    world,
    factory,
    db_url,
    tmp_path,
    smtp,
    queue,  # noqa: F811
):
    """Through Redis to `portal worker`: the page shows the job waiting with a progress bar
    (and refreshes itself without JavaScript), then what the worker wrote."""
    _require(REDIS_BROKER)
    name, used = queue
    used.append(REDIS_BROKER)
    app = make_app({"BROKER_URL": REDIS_BROKER, "BROKER_QUEUE": name, "IMPORT_JOB_ROWS": 10})
    names = _region(factory, world, 30)
    client = app.test_client()
    login(client, "coord@a.example")
    job_id, _token = _check_and_start(client, _csv(names))
    page = client.get(f"/nordland/imports/jobs/{job_id}").get_data(as_text=True)
    assert "<progress" in page and 'http-equiv="refresh"' in page and "hx-trigger" in page
    fragment = client.get(
        f"/nordland/imports/jobs/{job_id}",
        headers={"HX-Request": "true", "HX-Target": "import-job"},
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith("<section") and "<progress" in fragment
    upload_dir = app.config["UPLOAD_DIR"]  # the kept file: the worker reads the same storage
    worker = Worker(db_url, REDIS_BROKER, name, smtp, tmp_path, PORTAL_UPLOAD_DIR=upload_dir)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while _job(app, job_id).state != "done":
            assert _job(app, job_id).state != "failed", _job(app, job_id).result
            assert time.monotonic() < deadline, worker.log.read_text()
            time.sleep(0.3)
    finally:
        worker.stop()
    assert _counts(app) == (30, 90)
    done = client.get(f"/nordland/imports/jobs/{job_id}").get_data(as_text=True)
    assert "New rounds: 30, values: 90." in done and "hx-trigger" not in done
