"""Uploads are what they claim: the corpus of tests/data/uploads through the real upload routes
of attachments (plan actions) and materials (workshops), on both storage backends (a local
folder, and S3 on a real S3-compatible server); a stored file whose object is missing is a
404; CSV downloads name their charset once."""

from __future__ import annotations

import html
import io
import shutil
from datetime import date, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update
from werkzeug.wrappers import Response

from portal.accounts.models import User
from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.storage import storage
from portal.plans.spreadsheets import CSV_MIME
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import login
from tests.data.uploads.corpus import build
from tests.process_support import build_process
from tests.storage_support import (  # noqa: F401 - the fixtures `backend`, `s3_server`
    backend_fixture,
    read_object,
    s3_server_fixture,
    stored_keys,
)

CORPUS = build()


@pytest.fixture
def app(make_app, backend):
    """Each test on both storage backends."""
    return make_app(backend)


@pytest.fixture
def place(app, world):
    """An action the cluster manager may attach to, a workshop the coordinator manages."""
    from portal.workshops import services as workshops

    process = build_process(app, world, actions=1)
    with app.test_request_context(), tenant_scope(world["a"].id):
        workshop = workshops.create_workshop(
            None,
            {
                "title": "Silver workshop",
                "day": date.today() + timedelta(days=7),
                "start_time": time(9, 30),
                "end_time": time(15, 0),
                "location": "Bodø",
            },
            world["a"].id,
        )
        workshop_id = workshop.id
    return SimpleNamespace(
        process=process,
        attachments=(f"/nordland/actions/{process.action_ids[0]}/attachments", "manager@a.example"),
        materials=(f"/nordland/workshops/{workshop_id}/materials", "coord@a.example"),
    )


def _upload(client, url: str, data: bytes, name: str):
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def _stored(app) -> list[StoredFile]:
    with app.app_context(), unscoped():
        return list(db.session.scalars(select(StoredFile).order_by(StoredFile.id)))


@pytest.mark.parametrize("name", list(CORPUS))
def test_the_corpus_through_the_upload_routes(client, app, place, name):
    """Each file as an action's attachment and as a workshop's material."""
    case = CORPUS[name]
    for target in ("attachments", "materials"):
        url, email = getattr(place, target)
        login(client, email)
        response = _upload(client, url, case.data, name)
        client.post("/logout")
        page = html.unescape(response.get_data(as_text=True))
        if case.stored_as:
            assert response.status_code == 200, (target, page[:300])
        else:
            assert response.status_code == (200 if target == "attachments" else 422), target
            assert case.refused in page, (target, page[:300])
    stored = _stored(app)
    kept = stored_keys(app)
    if case.refused:
        assert stored == [] and kept == []
        return
    assert [s.content_type for s in stored] == [case.stored_as] * 2
    assert sorted(s.storage_key for s in stored) == kept
    assert [read_object(app, key) for key in kept] == [case.data] * 2
    for target, row in zip(("attachments", "materials"), stored, strict=True):
        url, email = getattr(place, target)
        login(client, email)
        download = client.get(f"{url}/{row.id}")
        client.post("/logout")
        assert download.status_code == 200 and download.data == case.data
        assert download.mimetype == case.stored_as


def test_a_refusal_is_in_the_users_language(client, app, place):
    with app.app_context(), unscoped():
        db.session.execute(update(User).where(User.email == "coord@a.example").values(locale="nb"))
        db.session.commit()
    login(client, "coord@a.example")
    url, _email = place.materials
    response = _upload(client, url, CORPUS["png-header-then-html.png"].data, "x.png")
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "HTML" in page and "The file contains HTML" not in page
    assert _stored(app) == []


@pytest.mark.parametrize("target", ["attachments", "materials"])
def test_a_file_whose_object_is_gone_is_not_found(client, app, place, target):
    """The row exists, its object does not (removed by hand, or a local folder of another
    host): 404, not 500."""
    url, email = getattr(place, target)
    login(client, email)
    assert _upload(client, url, CORPUS["report.pdf"].data, "report.pdf").status_code == 200
    [stored] = _stored(app)
    assert client.get(f"{url}/{stored.id}").status_code == 200
    with app.app_context():
        storage().delete(stored.storage_key)
    assert client.get(f"{url}/{stored.id}").status_code == 404
    if app.config["STORAGE_BACKEND"] == "local":
        shutil.rmtree(app.config["UPLOAD_DIR"])  # not even the folder
        assert client.get(f"{url}/{stored.id}").status_code == 404


def test_csv_downloads_name_their_charset_once(client, app, place, world):
    assert Response(b"", mimetype=CSV_MIME).headers["Content-Type"] == "text/csv; charset=utf-8"
    login(client, "coord@a.example")
    process = place.process
    for url in [
        f"/nordland/plans/{process.plan_id}/actions.csv",
        f"/nordland/programmes/{process.programme_id}/status.csv",
        f"/nordland/clusters/{world['c1'].id}/members.csv",
        "/nordland/clusters/members-template.csv",
        "/nordland/rounds/export.csv",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8", url
