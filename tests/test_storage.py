"""The file storage on both backends (a local folder; S3 on moto_server, a real S3-compatible
server in its own process): serving with its headers, replacing, deleting after the commit
(also by cascade), rolled-back uploads, permissions, the tenant's key namespace and another
region's file, streaming a large file without reading it into memory."""

from __future__ import annotations

import io
import tracemalloc
from datetime import date, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.files import services as files
from portal.files.models import StoredFile
from portal.files.storage import storage
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

PDF = build()["report.pdf"].data
PNG = next(case.data for case in build().values() if case.stored_as == "image/png")


@pytest.fixture
def app(make_app, backend):
    return make_app(backend)


def _workshop(app, tenant_id: int, title: str = "Silver workshop") -> int:
    from portal.workshops import services as workshops

    with app.test_request_context(), tenant_scope(tenant_id):
        return workshops.create_workshop(
            None,
            {
                "title": title,
                "day": date.today() + timedelta(days=7),
                "start_time": time(9, 30),
                "end_time": time(15, 0),
                "location": "Bodø",
            },
            tenant_id,
        ).id


@pytest.fixture
def place(app, world):
    process = build_process(app, world, actions=2)
    workshop_id = _workshop(app, world["a"].id)
    return SimpleNamespace(
        process=process,
        workshop_id=workshop_id,
        materials=f"/nordland/workshops/{workshop_id}/materials",
        attachments=f"/nordland/actions/{process.action_ids[0]}/attachments",
    )


def _upload(client, url: str, data: bytes, name: str, **kw):
    return client.post(
        url,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        **kw,
    )


def _rows(app) -> list[StoredFile]:
    with app.app_context(), unscoped():
        return list(db.session.scalars(select(StoredFile).order_by(StoredFile.id)))


def test_a_download_is_served_with_its_headers(client, app, place, world):
    login(client, "coord@a.example")
    assert _upload(client, place.materials, PDF, "Agenda «final».pdf").status_code == 302
    [row] = _rows(app)
    assert row.storage_key.startswith(f"t{world['a'].id}/files/")
    assert stored_keys(app) == [row.storage_key]
    response = client.get(f"{place.materials}/{row.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == str(len(PDF))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Agenda%20%C2%ABfinal%C2%BB.pdf" in disposition


def test_replacing_a_file_keeps_the_new_one(client, app, place):
    """A second upload of the same name is a new object; deleting the first leaves it."""
    login(client, "coord@a.example")
    _upload(client, place.materials, PDF, "plan.pdf")
    _upload(client, place.materials, PNG, "plan.png")
    old, new = _rows(app)
    assert client.post(f"{place.materials}/{old.id}/delete").status_code == 302
    assert stored_keys(app) == [new.storage_key]
    assert client.get(f"{place.materials}/{new.id}").data == PNG
    assert client.get(f"{place.materials}/{old.id}").status_code == 404
    with app.app_context():  # the backend itself overwrites a key in place
        storage().save(new.storage_key, io.BytesIO(b"second"), "text/plain")
    assert read_object(app, new.storage_key) == b"second"


def test_deleting_removes_the_object_only_after_the_commit(client, app, place, world):
    login(client, "manager@a.example")
    _upload(client, place.attachments, PDF, "a.pdf")
    [row] = _rows(app)
    with app.test_request_context(), tenant_scope(world["a"].id):
        db.session.delete(db.session.get(StoredFile, row.id))
        db.session.flush()
        db.session.rollback()  # the row stays, so does its object
    assert stored_keys(app) == [row.storage_key]
    response = client.post(f"{place.attachments}/{row.id}/delete")
    assert response.status_code == 302
    assert _rows(app) == [] and stored_keys(app) == []


def test_a_rolled_back_upload_leaves_no_object(app, place, world):
    with app.test_request_context(), tenant_scope(world["a"].id):
        upload = SimpleNamespace(read=io.BytesIO(PDF).read, filename="x.pdf")
        files.store(upload, tenant_id=world["a"].id, user_id=None, workshop_id=place.workshop_id)
        db.session.flush()
        assert len(stored_keys(app)) == 1
        db.session.rollback()
    assert _rows(app) == [] and stored_keys(app) == []


def test_objects_go_with_their_parents(client, app, place):
    """Deleting a workshop, an action, a plan or a programme deletes their files' rows by
    cascade, and so their objects."""
    login(client, "coord@a.example")
    _upload(client, place.materials, PDF, "m.pdf")
    _upload(client, place.attachments, PDF, "a.pdf")
    other = f"/nordland/actions/{place.process.action_ids[1]}/attachments"
    _upload(client, other, PNG, "kept.png")
    material, attachment, kept = _rows(app)
    assert len(stored_keys(app)) == 3
    response = client.post(f"/nordland/workshops/{place.workshop_id}/delete")
    assert response.status_code == 302
    assert material.storage_key not in stored_keys(app)
    response = client.post(f"/nordland/actions/{place.process.action_ids[0]}/delete")
    assert response.status_code == 302
    assert stored_keys(app) == [kept.storage_key]
    assert [r.id for r in _rows(app)] == [kept.id]
    joint = f"/nordland/actions/{place.process.joint_action_id}/attachments"
    assert _upload(client, joint, PDF, "joint.pdf").status_code == 302
    response = client.post(f"/nordland/plans/{place.process.plan_id}/delete")
    assert response.status_code == 302
    assert [r.storage_key for r in _rows(app)] == stored_keys(app)  # the joint plan's only
    response = client.post(f"/nordland/programmes/{place.process.programme_id}/delete")
    assert response.status_code == 302
    assert _rows(app) == [] and stored_keys(app) == []


def test_only_who_may_see_downloads_and_only_who_may_edit_deletes(client, app, place):
    login(client, "coord@a.example")
    _upload(client, place.materials, PDF, "m.pdf")
    [row] = _rows(app)
    client.post("/logout")
    login(client, "observer@a.example")
    assert client.post(f"{place.materials}/{row.id}/delete").status_code == 403
    assert stored_keys(app) == [row.storage_key]
    client.post("/logout")
    assert client.get(f"{place.materials}/{row.id}").status_code in (302, 401)  # sign in


def test_another_regions_file_is_not_found(client, app, place, world):
    """The row of region b is never served under region a's objects, nor to a's people."""
    b = world["b"].id
    b_workshop = _workshop(app, b, "Bravo workshop")
    with app.test_request_context(), tenant_scope(b):
        upload = SimpleNamespace(read=io.BytesIO(PDF).read, filename="bravo.pdf")
        row = files.store(upload, tenant_id=b, user_id=None, workshop_id=b_workshop)
        db.session.commit()
        row_id, key = row.id, row.storage_key
    assert key.startswith(f"t{b}/files/")
    login(client, "coord@a.example")
    assert client.get(f"{place.materials}/{row_id}").status_code == 404
    assert client.get(f"{place.attachments}/{row_id}").status_code == 404
    assert client.get(f"/bravo/workshops/{b_workshop}/materials/{row_id}").status_code == 404
    assert client.post(f"{place.materials}/{row_id}/delete").status_code == 404
    assert stored_keys(app) == [key]


class Zeros(io.RawIOBase):
    """``size`` bytes, produced as they are read."""

    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def test_a_large_file_is_streamed_not_read_into_memory(client, app, place, world):
    size = 48 * 1024 * 1024
    with app.test_request_context(), tenant_scope(world["a"].id):
        key = f"t{world['a'].id}/files/large"
        storage().save(key, io.BufferedReader(Zeros(size), 1024 * 1024), "application/pdf")
        row = StoredFile(
            tenant_id=world["a"].id,
            workshop_id=place.workshop_id,
            filename="large.pdf",
            content_type="application/pdf",
            size=size,
            sha256="0" * 64,
            storage_key=key,
        )
        db.session.add(row)
        db.session.commit()
        row_id = row.id
    login(client, "coord@a.example")
    tracemalloc.start()
    try:
        response = client.get(f"{place.materials}/{row_id}", buffered=False)
        assert response.status_code == 200 and response.is_streamed
        received = sum(len(chunk) for chunk in response.response)
        response.close()
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    assert response.headers["Content-Length"] == str(size)
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte file"
