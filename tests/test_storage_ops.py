"""Operating the file storage: a backend that fails (the S3 server stopped, a folder that cannot
be written) answers 503 and changes nothing, a failed delete is logged; `portal storage check`
and `portal storage copy --to s3`; import files kept in the storage between check and confirm;
presigned downloads."""

from __future__ import annotations

import io
import logging
from datetime import date, time, timedelta
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.storage import storage
from portal.imports import service as imports
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import login
from tests.data.uploads.corpus import build
from tests.storage_support import (  # noqa: F401 - the fixtures `backend`, `s3_server`
    BUCKET,
    backend_fixture,
    read_object,
    s3_config,
    s3_server_fixture,
    start_s3_server,
    stored_keys,
)

PDF = build()["report.pdf"].data
UNAVAILABLE = "The portal cannot reach its file storage just now"


def _workshop(app, tenant_id: int) -> int:
    from portal.workshops import services as workshops

    with app.test_request_context(), tenant_scope(tenant_id):
        return workshops.create_workshop(
            None,
            {
                "title": "Storage workshop",
                "day": date.today() + timedelta(days=7),
                "start_time": time(9, 30),
                "end_time": time(15, 0),
                "location": "Bodø",
            },
            tenant_id,
        ).id


def _upload(client, url: str, data: bytes = PDF, name: str = "m.pdf"):
    return client.post(
        url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def _rows(app) -> list[StoredFile]:
    with app.app_context(), unscoped():
        return list(db.session.scalars(select(StoredFile).order_by(StoredFile.id)))


@pytest.fixture
def own_server(tmp_path):
    """An S3 server of this test alone, which the test may stop."""
    server = start_s3_server(tmp_path)
    server.client().create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"}
    )
    yield server
    server.stop()


def test_a_stopped_s3_server_answers_503_and_changes_nothing(make_app, world, own_server, caplog):
    app = make_app(s3_config(own_server))
    url = f"/nordland/workshops/{_workshop(app, world['a'].id)}/materials"
    client = app.test_client()
    login(client, "coord@a.example")
    assert _upload(client, url).status_code == 302
    [row] = _rows(app)
    own_server.stop()
    download = client.get(f"{url}/{row.id}")
    assert download.status_code == 503 and UNAVAILABLE in download.get_data(as_text=True)
    upload = _upload(client, url, name="second.pdf")
    assert upload.status_code == 503 and UNAVAILABLE in upload.get_data(as_text=True)
    assert [r.id for r in _rows(app)] == [row.id]
    with caplog.at_level(logging.WARNING, logger="portal.files.lifecycle"):
        deleted = client.post(f"{url}/{row.id}/delete")
    assert deleted.status_code == 302  # the row is gone; the object is left, and logged
    assert _rows(app) == []
    assert any(row.storage_key in r.getMessage() for r in caplog.records)


def test_a_folder_that_cannot_be_written_answers_503(make_app, world, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the upload folder should be")
    app = make_app({"UPLOAD_DIR": str(blocker)})
    url = f"/nordland/workshops/{_workshop(app, world['a'].id)}/materials"
    client = app.test_client()
    login(client, "coord@a.example")
    response = _upload(client, url)
    assert response.status_code == 503 and UNAVAILABLE in response.get_data(as_text=True)
    assert _rows(app) == []


def test_storage_check_says_it_works(make_app, backend):
    app = make_app(backend)
    result = app.test_cli_runner().invoke(args=["storage", "check"])
    assert result.exit_code == 0, result.output
    assert "write a probe object: ok" in result.output and "The storage works." in result.output
    assert stored_keys(app) == []  # the probe is gone


def test_storage_check_says_what_is_wrong(make_app, own_server):
    app = make_app(s3_config(own_server, S3_BUCKET="no-such-bucket"))
    result = app.test_cli_runner().invoke(args=["storage", "check"])
    assert result.exit_code == 1
    assert "write a probe object: FAILED" in result.output
    assert "the bucket does not exist" in result.output
    own_server.stop()
    app = make_app(s3_config(own_server))
    result = app.test_cli_runner().invoke(args=["storage", "check"])
    assert result.exit_code == 1 and "Could not connect to the endpoint URL" in result.output
    app = make_app({"STORAGE_BACKEND": "s3", "S3_BUCKET": ""})
    result = app.test_cli_runner().invoke(args=["storage", "check"])
    assert result.exit_code == 1 and "set PORTAL_S3_BUCKET" in result.output


def test_copy_to_s3_moves_a_local_folders_files(make_app, world, s3_server, tmp_path):
    """Files from before the storage layer (bare names), kept imports and new keys: copied,
    then served by a portal switched to S3 with the same rows."""
    local = make_app({"UPLOAD_DIR": str(tmp_path / "uploads")})
    url = f"/nordland/workshops/{_workshop(local, world['a'].id)}/materials"
    client = local.test_client()
    login(client, "coord@a.example")
    _upload(client, url, name="new.pdf")
    _upload(client, url, name="old.pdf")
    new, old = _rows(local)
    legacy = "0123456789abcdef0123456789abcdef01234567"
    uploads = tmp_path / "uploads"
    (uploads / old.storage_key).rename(uploads / legacy)  # as the portal kept it before
    (uploads / "imports").mkdir()
    (uploads / "imports" / legacy).write_bytes(b"kept import")
    with local.app_context(), unscoped():
        db.session.get(StoredFile, old.id).storage_key = legacy
        db.session.commit()
    assert client.get(f"{url}/{old.id}").data == PDF  # an old file keeps working locally
    config = s3_config(s3_server)
    local.config.update({k: v for k, v in config.items() if k.startswith("S3_")})
    result = local.test_cli_runner().invoke(args=["storage", "copy", "--to", "s3"])
    assert result.exit_code == 0, result.output
    assert "3 copied, 0 there already." in result.output
    again = local.test_cli_runner().invoke(args=["storage", "copy", "--to", "s3"])
    assert "0 copied, 3 there already." in again.output
    remote = make_app(config)
    assert stored_keys(remote) == sorted([new.storage_key, legacy, f"imports/{legacy}"])
    checked = remote.test_cli_runner().invoke(args=["storage", "check", "--files"])
    assert "every stored file has its object: ok" in checked.output, checked.output
    client = remote.test_client()
    login(client, "coord@a.example")
    assert client.get(f"{url}/{old.id}").data == PDF
    assert client.get(f"{url}/{new.id}").data == PDF


def _importer() -> imports.Importer:
    def write(outcome, options):
        db.session.commit()
        outcome.written = True
        return outcome

    return imports.Importer(
        kind="storage-test",
        check=lambda raw, options: SimpleNamespace(errors=[], raw=raw, written=False),
        write=write,
        planned=lambda outcome: {"bytes": outcome.raw.decode()},
    )


def test_an_import_is_kept_in_the_storage_until_confirmed(make_app, backend, world):
    app = make_app(backend)
    importer = _importer()
    with app.test_request_context(), tenant_scope(world["a"].id):
        user_id = db.session.scalar(select(User.id).where(User.email == "coord@a.example"))
        kept = {"tenant_id": world["a"].id, "user_id": user_id, "target": "t"}
        step = imports.check_upload(importer, b"rows", filename="rows.csv", **kept)
        key = step.pending.storage_key
        token = step.pending.token
        assert key.startswith(f"t{world['a'].id}/imports/")
        assert read_object(app, key) == b"rows"
        done = imports.confirm(importer, token, user_id=user_id, target="t")
        assert done.state == "written" and done.outcome.raw == b"rows"
        assert stored_keys(app) == []
        second = imports.check_upload(importer, b"more", filename="more.csv", **kept)
        storage().delete(second.pending.storage_key)  # e.g. a lost bucket
        gone = imports.confirm(importer, second.pending.token, user_id=user_id, target="t")
        assert gone.state == "gone" and "no longer kept" in gone.message


def test_presigned_downloads_redirect_to_the_object(make_app, world, s3_server):
    app = make_app(s3_config(s3_server, S3_PRESIGNED_SECONDS=60))
    url = f"/nordland/workshops/{_workshop(app, world['a'].id)}/materials"
    client = app.test_client()
    login(client, "coord@a.example")
    _upload(client, url, name="Forum plan.pdf")
    [row] = _rows(app)
    response = client.get(f"{url}/{row.id}")
    assert response.status_code == 303
    target = response.headers["Location"]
    assert target.startswith(s3_server.url) and "X-Amz-Signature=" in target
    fetched = httpx.get(target)
    assert fetched.status_code == 200 and fetched.content == PDF
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.headers["content-disposition"].startswith("attachment;")
    client.post("/logout")
    assert client.get(f"{url}/{row.id}").status_code in (302, 401)  # no address without access
