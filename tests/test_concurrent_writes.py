"""Two people writing the same unique thing at the same moment: the second gets a clear answer
and nothing of theirs is written, never a 500 (PostgreSQL, where writers really overlap), and
the safety net for a clash no service foresaw: a 409 page."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from portal.clusters.models import MemberOrganisation
from portal.extensions import db
from portal.tenancy import unscoped
from tests.conftest import USE_POSTGRES, login
from tests.import_support import check, token_of


def test_a_member_import_racing_another_writer_answers_409(app, client, world):
    """The confirm checks the file again and finds no clash; another coordinator's
    transaction, not yet committed, holds the same name; when it commits, the import's
    insert is refused by the unique name, and the page says so (422, nothing written)."""
    if not USE_POSTGRES:
        pytest.skip("SQLite serialises every writer")
    cluster = world["c1"].id
    url = f"/nordland/clusters/{cluster}/members/import"
    login(client, "coord@a.example")
    checked = check(client, url, b"name,member_type\nNord universitet,university\n")
    assert checked.status_code == 200
    with app.app_context():
        other = db.engine.connect()
        # what another import's transaction holds: the region's row (every writer's first
        # lock, portal.tenancy.versioning) and the new member
        other.execute(
            text("UPDATE tenant SET data_version = data_version + 1 WHERE id = :t"),
            {"t": world["a"].id},
        )
        other.execute(
            MemberOrganisation.__table__.insert().values(
                tenant_id=world["a"].id,
                cluster_id=cluster,
                name="Nord universitet",
                member_type="university",
            )
        )
    answers = {}

    def confirm():
        answers["confirm"] = client.post(url + "/confirm", data={"pending": token_of(checked)})

    racing = threading.Thread(target=confirm)
    racing.start()
    with app.app_context(), db.engine.connect() as watcher:
        for _ in range(300):  # until the import's insert waits for the other transaction
            waiting = watcher.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
            if waiting.scalar():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the import never waited for the other writer")
    other.commit()
    other.close()
    racing.join(timeout=30)
    response = answers["confirm"]
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert "This cluster has a member with this name already." in page
    with app.app_context(), unscoped():
        count = db.session.scalar(
            select(func.count()).where(MemberOrganisation.name == "Nord universitet")
        )
        assert count == 1


def test_a_clash_no_service_foresaw_answers_409_and_writes_nothing(app, world):
    """A route that writes a unique name twice (as a race would): the database refuses it,
    and the portal answers 409 with a translated page instead of a 500."""
    from portal.clusters.models import Cluster
    from portal.tenancy import tenant_scope

    def clash():
        with tenant_scope(world["a"].id):
            for _ in range(2):
                db.session.add(Cluster(tenant_id=world["a"].id, name="Twin cluster"))
            db.session.commit()
        return "written"

    app.add_url_rule("/test-only/clash", "test_only_clash", clash)
    client = app.test_client()
    response = client.get("/test-only/clash", headers={"Accept-Language": "nb"})
    assert response.status_code == 409
    assert "Noen lagret det samme i samme øyeblikk" in response.get_data(as_text=True)
    with app.app_context(), unscoped():
        assert not db.session.scalar(select(Cluster.id).where(Cluster.name == "Twin cluster"))
