"""Search the region: every kind found, grouped, highlighted and paged; who finds what; another
region's objects never; the index kept current by every write; no input is an error page."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import ROLE_EMAILS, login


def _in_region(app, tenant_id):
    from portal.tenancy import tenant_scope

    class _Block:
        def __enter__(self):
            self.request = app.test_request_context()
            self.request.__enter__()
            self.scope = tenant_scope(tenant_id)
            self.scope.__enter__()

        def __exit__(self, *exc):
            self.scope.__exit__(*exc)
            self.request.__exit__(*exc)

    return _Block()


@pytest.fixture
def region(app, world):
    """The world's first region with one object of every kind, each with a word of its own."""
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.files.models import StoredFile
    from portal.plans.models import Action, ActionComment, Plan, PlanKind
    from portal.programmes.models import Programme
    from portal.workshops.models import AgendaItem, Workshop

    a = world["a"]
    with _in_region(app, a.id):
        today = date.today()
        programme = Programme(
            name="Quokka programme", start_date=today, end_date=today + timedelta(days=365)
        )
        db.session.add(programme)
        db.session.flush()
        plan = Plan(
            kind=PlanKind.INDIVIDUAL,
            cluster_id=world["c1"].id,
            title="Wombat plan",
            start_date=today,
            end_date=today + timedelta(days=300),
            goals="Grow the cluster",
        )
        db.session.add(plan)
        db.session.flush()
        action = Action(plan_id=plan.id, title="Numbat action", description="A survey")
        db.session.add(action)
        db.session.flush()
        owner = db.session.scalar(select(User).where(User.email == "coord@a.example"))
        owner.name = "Platypus Person"
        workshop = Workshop(
            programme_id=programme.id,
            title="Forum day",
            day=today + timedelta(days=20),
            start_time=time(9),
            end_time=time(12),
            minutes_md="We agreed on **echidna** branding.",
        )
        db.session.add(workshop)
        db.session.flush()
        db.session.add(AgendaItem(workshop_id=workshop.id, title="Dingo talk", presenter="Ann"))
        db.session.add(ActionComment(action_id=action.id, body="Ask the bilby group first"))
        for i, (owner_field, owner_id) in enumerate(
            (("action_id", action.id), ("workshop_id", workshop.id))
        ):
            db.session.add(
                StoredFile(
                    filename=f"wallaby-{i}.pdf",
                    content_type="application/pdf",
                    size=10,
                    sha256="0" * 64,
                    storage_key=f"search-test-{i}",
                    **{owner_field: owner_id},
                )
            )
        db.session.commit()
        ids = {
            "programme": programme.id,
            "plan": plan.id,
            "action": action.id,
            "workshop": workshop.id,
        }
    return {**world, **ids}


def _search(client, q, **params):
    response = client.get("/nordland/search", query_string={"q": q, **params})
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def _groups(html: str) -> set[str]:
    return set(re.findall(r'id="search-group-(\w+)"', html))


@pytest.mark.parametrize(
    ("word", "kind", "link"),
    [
        ("arctic", "cluster", "/nordland/clusters/{c1}"),
        ("helgeland", "cluster", "/nordland/clusters/{c2}"),
        ("member", "member", "/nordland/clusters/{c1}?q="),
        ("platypus", "person", "/nordland/people/"),
        ("quokka", "programme", "/nordland/programmes/{programme}"),
        ("wombat", "plan", "/nordland/plans/{plan}"),
        ("numbat", "action", "/nordland/actions/{action}"),
        ("dingo", "workshop", "/nordland/workshops/{workshop}"),  # its agenda
        ("echidna", "workshop", "/nordland/workshops/{workshop}"),  # its minutes
        ("bilby", "comment", "/nordland/actions/{action}#comments"),
        ("wallaby", "file", "/nordland/actions/{action}#attachments"),
        ("wallaby", "file", "/nordland/workshops/{workshop}#materials"),
    ],
)
def test_every_kind_is_found_grouped_and_linked(client, region, word, kind, link):
    login(client, "coord@a.example")
    html = _search(client, word)
    assert kind in _groups(html)
    ids = {k: getattr(v, "id", v) for k, v in region.items()}
    assert link.format(**ids) in html
    assert re.search(rf"<mark>{word}", html, re.IGNORECASE), html


def test_matches_are_marked_and_the_text_escaped(app, client, world, factory):
    factory.cluster(world["a"], "<script>alert(1)</script> Zebra & Co", members=0)
    login(client, "coord@a.example")
    html = _search(client, "zebra")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Zebra</mark> &amp; Co" in html


def test_the_last_word_matches_as_a_prefix_and_every_word_must_match(client, world):
    login(client, "coord@a.example")
    assert "cluster" in _groups(_search(client, "arct"))
    assert "cluster" in _groups(_search(client, "Arctic Min"))
    assert "cluster" not in _groups(_search(client, "arctic helgeland"))


def test_groups_show_five_and_link_to_pages_of_one_kind(app, client, world, factory):
    factory.cluster(world["a"], "Kelp Coast", members=47)
    login(client, "coord@a.example")
    html = _search(client, "kelp")
    assert html.count("/nordland/clusters/") >= 5
    member_group = html.split('id="search-group-member"')[1].split("</section>")[0]
    assert member_group.count('class="search-hit"') == 5
    assert "(47)" in member_group
    assert "kind=member" in member_group
    first = _search(client, "kelp", kind="member")
    assert first.count('class="search-hit"') == 20
    assert "Page 1 of 3" in first
    third = _search(client, "kelp", kind="member", page=3)
    assert third.count('class="search-hit"') == 7
    beyond = _search(client, "kelp", kind="member", page=99)
    assert beyond.count('class="search-hit"') == 20  # back on the first page
    unknown_kind = _search(client, "kelp", kind="nonsense")
    assert 'id="search-group-member"' in unknown_kind


@pytest.mark.parametrize("role", ["cluster_manager", "member", "observer", "assessor"])
def test_people_are_found_only_by_who_sees_the_people_page(client, region, role):
    login(client, ROLE_EMAILS[role])
    assert client.get("/nordland/people").status_code == 403
    html = _search(client, "platypus")
    assert "person" not in _groups(html)
    assert "Nothing found" in html
    # What every role's pages show, every role finds.
    for word, kind in (("quokka", "programme"), ("numbat", "action"), ("wallaby", "file")):
        assert kind in _groups(_search(client, word)), (role, word)


def test_files_only_where_their_parent_may_be_seen(app, region):
    from portal.search.index import Visibility

    visible = Visibility(frozenset({"file"}), {"file": frozenset({"workshop"})})
    clause = str(visible.clause().compile(compile_kwargs={"literal_binds": True}))
    assert "parent_kind IN ('workshop')" in clause
    assert str(Visibility(frozenset()).clause().compile()) in ("false", "0")


def test_another_regions_objects_are_never_found(app, client, world, factory):
    factory.cluster(world["b"], "Bravo Narwhal", members=2)
    factory.user("coord@b.example", tenant=world["b"], role="coordinator")
    login(client, "coord@a.example")
    html = _search(client, "narwhal")
    assert "Nothing found" in html
    assert "Narwhal" not in html
    # Another region's search answers as its other pages do for a non-member.
    assert client.get("/bravo/search?q=narwhal").status_code == 404
    assert client.get("/bravo/").status_code == 404
    client.post("/logout")
    login(client, "coord@b.example")
    assert "cluster" in _groups(client.get("/bravo/search?q=narwhal").get_data(as_text=True))


def test_signed_out_is_sent_to_sign_in(client, world):
    response = client.get("/nordland/search?q=arctic")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def _rename_cluster(app, world, new_name):
    from portal.clusters.models import Cluster
    from portal.extensions import db

    with _in_region(app, world["a"].id):
        cluster = db.session.scalar(select(Cluster).where(Cluster.id == world["c1"].id))
        cluster.name = new_name
        db.session.commit()


def test_the_index_follows_create_update_and_delete(app, client, region):
    from portal.clusters import services as clusters
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.plans.models import ActionComment
    from portal.workshops.models import AgendaItem

    login(client, "coord@a.example")
    _rename_cluster(app, region, "Polar Ores")
    assert "cluster" not in _groups(_search(client, "arctic"))
    html = _search(client, "polar")
    assert "cluster" in _groups(html)
    # Its members' context (the cluster's name) follows the rename.
    assert "Polar Ores</small>" in _search(client, "member")

    with _in_region(app, region["a"].id):
        db.session.add(
            AgendaItem(workshop_id=region["workshop"], title="Kookaburra session", presenter="")
        )
        comment = db.session.scalar(select(ActionComment))
        db.session.delete(comment)
        db.session.commit()
    assert "workshop" in _groups(_search(client, "kookaburra"))
    assert "dingo" in _search(client, "kookaburra").lower()  # the workshop's agenda, whole
    assert "comment" not in _groups(_search(client, "bilby"))

    # Deleting a cluster deletes its members, plans, actions and their files in the
    # database: none of them is found any more.
    with _in_region(app, region["a"].id):
        cluster = db.session.scalar(select(Cluster).where(Cluster.id == region["c1"].id))
        clusters.delete_cluster(None, cluster)
    for word in ("polar", "numbat", "wombat"):
        assert _groups(_search(client, word)) == set(), word
    html = _search(client, "wallaby")
    assert "#attachments" not in html and "#materials" in html


def test_a_hidden_comment_is_not_found_by_its_words(app, client, region):
    from datetime import UTC, datetime

    from portal.extensions import db
    from portal.plans.models import ActionComment

    login(client, "coord@a.example")
    assert "comment" in _groups(_search(client, "bilby"))
    with _in_region(app, region["a"].id):
        comment = db.session.scalar(select(ActionComment))
        comment.hidden_at = datetime.now(UTC)
        db.session.commit()
    assert "comment" not in _groups(_search(client, "bilby"))
    with _in_region(app, region["a"].id):
        db.session.scalar(select(ActionComment)).hidden_at = None
        db.session.commit()
    assert "comment" in _groups(_search(client, "bilby"))


def test_people_follow_their_name_and_their_membership(app, client, region):
    from portal.accounts.models import Membership, User
    from portal.extensions import db

    login(client, "coord@a.example")
    with _in_region(app, region["a"].id):
        user = db.session.scalar(select(User).where(User.email == "observer@a.example"))
        user.name = "Quoll Watcher"
        db.session.commit()
    assert "person" in _groups(_search(client, "quoll"))
    with _in_region(app, region["a"].id):
        membership = db.session.scalar(
            select(Membership).join(User).where(User.email == "observer@a.example")
        )
        membership.active = False
        db.session.commit()
    assert "person" not in _groups(_search(client, "quoll"))


def test_a_change_rolled_back_leaves_the_index_as_it_was(app, client, world):
    from portal.extensions import db
    from portal.search.models import SearchEntry

    with _in_region(app, world["a"].id):
        before = db.session.scalar(select(func.count()).select_from(SearchEntry))
        from portal.clusters.models import Cluster

        db.session.add(Cluster(name="Ghost cluster"))
        db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(SearchEntry)) == before
    login(client, "coord@a.example")
    assert "Nothing found" in _search(client, "ghost")


def test_reindex_rebuilds_a_region_from_its_data(app, client, region):
    from sqlalchemy import delete

    from portal.extensions import db
    from portal.search.models import SearchEntry
    from portal.tenancy.scope import unscoped

    with app.app_context(), unscoped():
        counted = db.session.scalar(select(func.count()).select_from(SearchEntry))
        db.session.execute(delete(SearchEntry))
        db.session.commit()
    login(client, "coord@a.example")
    assert "Nothing found" in _search(client, "quokka")
    result = app.test_cli_runner().invoke(args=["search", "reindex", "nordland"])
    assert result.exit_code == 0, result.output
    assert "nordland:" in result.output
    for word in ("quokka", "numbat", "dingo", "bilby", "wallaby", "platypus", "arctic"):
        assert _groups(_search(client, word)), word
    with app.app_context(), unscoped():
        assert db.session.scalar(select(func.count()).select_from(SearchEntry)) == counted
    missing = app.test_cli_runner().invoke(args=["search", "reindex", "nowhere"])
    assert missing.exit_code != 0
    assert app.test_cli_runner().invoke(args=["search", "reindex", "--all"]).exit_code == 0


NASTY = [
    '"',
    '""',
    "'",
    "arctic OR",
    "NEAR(arctic minerals)",
    "title:arctic",
    "arctic*",
    "*",
    "^arctic",
    "-arctic",
    "AND",
    "arctic AND NOT",
    "(",
    "a & b | !c:*",
    "'; DROP TABLE cluster; --",
    "%_%",
    "\\",
    "a" * 1000,
    "arctic " * 150,
    "😀",
    "\u202e\u200b",
    "x\x01y",
    "<b>arctic</b>",
]


@pytest.mark.parametrize("query", NASTY)
def test_odd_queries_answer_with_a_message_never_an_error(client, world, query):
    login(client, "coord@a.example")
    html = _search(client, query)
    assert ('role="alert"' in html) or ("result" in html) or ("Nothing found" in html)


def test_the_messages_say_what_is_wrong(client, world):
    login(client, "coord@a.example")
    assert "Type a word" in _search(client, "   ")
    assert "too long" in _search(client, "a" * 1000)
    assert "no letters or digits" in _search(client, "*** ---")
    assert "Only the first 8 words" in _search(client, " ".join(f"w{i}" for i in range(12)))
    # A page without a query is the empty form, no message.
    page = client.get("/nordland/search").get_data(as_text=True)
    assert 'role="alert"' not in page and 'id="search-page-q"' in page
    # A NUL byte is refused before the view, as everywhere.
    assert client.get("/nordland/search?q=a%00b").status_code == 400
    # Operators are words: "OR" is looked up, not obeyed.
    assert "Nothing found" in _search(client, "arctic OR helgeland")


def test_the_header_has_a_labelled_search_form_that_works_without_javascript(client, world):
    login(client, "coord@a.example")
    html = client.get("/nordland/clusters/").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/nordland/search" role="search"[^>]*>', html)
    assert form, html[:2000]
    assert '<label for="site-search-q"' in html
    assert 'name="q"' in html
    # Outside a region (the regions list) there is none.
    assert 'id="site-search-q"' not in client.get("/").get_data(as_text=True)


def test_htmx_gets_the_results_only(client, world):
    login(client, "coord@a.example")
    response = client.get(
        "/nordland/search?q=arctic",
        headers={"HX-Request": "true", "HX-Target": "search-results"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="search-group-cluster"' in html


def test_the_language_of_the_reader(client, world):
    login(client, "coord@a.example")
    response = client.get(
        "/nordland/search", query_string={"q": ""}, headers={"Accept-Language": "nb"}
    )
    assert response.status_code == 200


def test_letters_with_diacritics_are_found_without_them_on_both_databases(client, world, factory):
    """As SQLite's FTS5 folds them (unicode61 remove_diacritics), so does the PostgreSQL index
    (a translate() of the same letters); ø stays a letter of its own on both."""
    factory.cluster(world["a"], "Malmö Café Åland", members=0)
    factory.cluster(world["a"], "Bodø Havn", members=0)
    login(client, "coord@a.example")

    def found(query):
        return re.sub(r"</?mark>", "", _search(client, query))

    for query in ("malmo", "cafe", "aland", "Malmö", "CAFÉ", "åland"):
        assert "Malmö Café Åland" in found(query), query
    assert "Bodø Havn" in found("bodø")
    assert "Bodø Havn" not in found("bodo")


def test_the_migration_folds_the_letters_the_query_folds():
    import runpy
    from pathlib import Path

    from portal.search.query import FOLD

    versions = Path(__file__).parent.parent / "migrations" / "versions"
    migration = runpy.run_path(str(versions / "2026_12_12_0900_search_folds_diacritics.py"))
    letters = zip(map(ord, migration["FOLD_FROM"]), migration["FOLD_TO"], strict=True)
    assert dict(letters) == FOLD
