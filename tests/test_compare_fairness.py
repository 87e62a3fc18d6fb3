"""Comparisons that cannot mislead (issue 12, item 6): a pair of rounds always runs from the
older to the newer; partial rounds are marked and never replace a full one silently; the
heat map's numbers are stable pseudonyms; an older round meets the forum as it was then; a
region's own published aggregates are never offered as a reference to itself."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from sqlalchemy import delete, select

from portal.benchmarking import services as rounds
from portal.benchmarking.models import BenchmarkRound
from portal.clusters.models import Cluster
from portal.extensions import db
from portal.privacy.pseudonyms import pseudonyms
from portal.tenancy import tenant_scope
from tests.conftest import count_queries, login
from tests.test_compare_pages import (
    FORUM,
    _bulk_clusters,
    _by_number,
    _heat_map_rows,
    _numbers,
    _reference,
    _set,
    _settings,
    _text,
)

SET, VERSION = "esca-gold", "2013"
FIRST = (
    "engagement",
    "participant_structure",
    "participants_involved",
    "concentration",
    "maturity",
)


def _enter(cluster_id, on, score, only=None, **overrides):
    """A round of ``score`` everywhere (or on the indicators ``only``), as the system enters
    it (confirmed)."""
    indicator_set = _set()
    values = {
        i.id: (float(overrides.get(i.id, score)), "")
        for i in indicator_set.indicators
        if only is None or i.id in only
    }
    cluster = db.session.get(Cluster, cluster_id)
    saved = rounds.save_round(None, cluster, indicator_set, {"held_on": on}, values)
    db.session.commit()
    return saved.id


def _cluster(tenant_id, name) -> int:
    cluster = Cluster(tenant_id=tenant_id, name=name, sector="Test")
    db.session.add(cluster)
    db.session.commit()
    return cluster.id


@pytest.fixture
def forum(app, world, factory):
    """c1: rounds of 2024-03-01 and 2025-03-01 (3 better, 1 worse); c2: 2025-04-01."""
    factory.enable_plugin(world["a"], "esca")
    factory.enable_plugin(world["a"], "compare")
    with app.test_request_context(), tenant_scope(world["a"].id):
        world["r1"] = _enter(world["c1"].id, date(2024, 3, 1), 3)
        world["r2"] = _enter(
            world["c1"].id,
            date(2025, 3, 1),
            3,
            engagement=4,
            services=5,
            communication=4,
            private_funds=2,
        )
        world["r3"] = _enter(world["c2"].id, date(2025, 4, 1), 1)
    _settings(app, world["a"].id, min_group=1)
    return world


def _context(app, world, email, cluster_id=None, **options):
    from portal_compare.privacy import context_for

    from portal.accounts.models import User
    from portal.tenancy.models import Tenant

    tenant = db.session.get(Tenant, world["a"].id)
    user = db.session.scalar(select(User).where(User.email == email))
    cluster = db.session.get(Cluster, cluster_id) if cluster_id else None
    return context_for(user, tenant, _set(), cluster=cluster, options=options)


def _selected(page: str, select_id: str) -> str:
    """The value of the selected option of a select."""
    body = page.split(f'id="{select_id}"')[1].split("</select>")[0]
    return re.search(r'<option value="(\d+)" selected', body).group(1)


# --- a pair of rounds: older to newer --------------------------------------------------------


def test_a_reversed_pair_is_put_in_order_and_the_page_says_so(client, forum):
    url = f"/nordland/clusters/{forum['c1'].id}/rounds"
    login(client, "coord@a.example")
    page = _text(client.get(f"{url}?old={forum['r2']}&new={forum['r1']}"))
    assert "What changed from 1 Mar 2024 to 1 Mar 2025" in page
    assert 'id="pair-reordered"' in page
    assert "The newer round was chosen first" in page
    assert "3 indicators improved, 1 declined" in page  # not the other way round
    # the selects show the pair compared, older first
    assert _selected(page, "old-1") == str(forum["r1"])
    assert _selected(page, "new-1") == str(forum["r2"])
    ordered = _text(client.get(f"{url}?old={forum['r1']}&new={forum['r2']}"))
    assert "What changed from 1 Mar 2024 to 1 Mar 2025" in ordered
    assert 'id="pair-reordered"' not in ordered
    assert "3 indicators improved, 1 declined" in ordered
    # a round against itself compares nothing
    same = _text(client.get(f"{url}?old={forum['r1']}&new={forum['r1']}"))
    assert "What changed" not in same


def test_the_selects_show_the_chosen_pair_of_three_rounds(app, client, forum):
    with app.test_request_context(), tenant_scope(forum["a"].id):
        r0 = _enter(forum["c1"].id, date(2023, 3, 1), 2)
    url = f"/nordland/clusters/{forum['c1'].id}/rounds"
    login(client, "coord@a.example")
    page = _text(client.get(f"{url}?old={forum['r2']}&new={r0}"))
    assert "What changed from 1 Mar 2023 to 1 Mar 2025" in page
    assert _selected(page, "old-1") == str(r0) and _selected(page, "new-1") == str(forum["r2"])
    plain = _text(client.get(url))  # no pair: the two newest
    assert _selected(plain, "old-1") == str(forum["r1"])
    assert _selected(plain, "new-1") == str(forum["r2"])


def test_the_reordered_notice_is_translated(client, forum):
    login(client, "coord@a.example")
    client.post("/language", data={"locale": "nb", "next": "/"})
    page = _text(
        client.get(
            f"/nordland/clusters/{forum['c1'].id}/rounds?old={forum['r2']}&new={forum['r1']}"
        )
    )
    assert 'id="pair-reordered"' in page
    assert "The newer round was chosen first" not in page


# --- partial rounds ---------------------------------------------------------------------------


def test_coverage_of_a_round(app):
    with app.app_context():
        indicator_set = _set()
    total = len(indicator_set.indicators)
    assert indicator_set.coverage([i.id for i in indicator_set.indicators]).partial is False
    found = indicator_set.coverage(["engagement", "concentration", "not-in-the-set"])
    assert (found.covered, found.total, found.partial) == (2, total, True)


def test_partial_rounds_are_marked_on_the_rounds_page(app, client, forum):
    with app.test_request_context(), tenant_scope(forum["a"].id):
        partial = _enter(forum["c1"].id, date(2025, 6, 1), 5, only=FIRST)
    url = f"/nordland/clusters/{forum['c1'].id}/rounds"
    login(client, "coord@a.example")
    page = _text(client.get(url))
    head = page.split(f'id="round-{partial}"')[1].split("</th>")[0]
    assert "partial: 5 of 31 indicators" in head
    full = page.split(f'id="round-{forum["r2"]}"')[1].split("</th>")[0]
    assert "partial" not in full
    compared = _text(client.get(f"{url}?old={forum['r2']}&new={partial}"))
    assert "The round of 1 Jun 2025 is partial (5 of 31 indicators)" in compared


def test_the_scorecard_counts_the_newest_full_round_and_shows_the_partial_one(app, forum):
    """c2's newer partial round (5s on five indicators) does not replace its full round of
    1s; a cluster with a partial round only counts with it, marked."""
    from portal_compare.kinds import forum_scorecard

    _settings(app, forum["a"].id, show_names=True)
    with app.test_request_context(), tenant_scope(forum["a"].id):
        _enter(forum["c2"].id, date(2025, 9, 1), 5, only=FIRST)
        c3 = _cluster(forum["a"].id, "Coastal Food")
        _enter(c3, date(2025, 5, 1), 2, only=FIRST[:3])
        card = forum_scorecard(_context(app, forum, "coord@a.example"))
        rows = {r.label: r for r in card.rows}
        assert set(rows) == {"Arctic Minerals", "Helgeland Health", "Coastal Food"}
        health = rows["Helgeland Health"]
        assert health.held_on == date(2025, 4, 1) and not health.coverage.partial
        assert health.cells[0] == (1.0, "red")  # the full round's value, not the newer 5
        food = rows["Coastal Food"]
        assert food.coverage.partial and (food.coverage.covered, food.coverage.total) == (3, 31)
        assert card.partial_count == 1 and card.newer_partial_count == 1
        [newer] = card.newer_partial
        assert newer.label == "Helgeland Health" and newer.held_on == date(2025, 9, 1)
        assert newer.coverage.covered == 5
        # engagement: 4 (c1), 1 (c2's full round), 2 (c3's partial): three clusters
        assert card.summaries["engagement"].count == 3
        assert card.summaries["engagement"].median == 2
        assert card.summaries["services"].count == 2  # c3 has no value there
        # a manager learns of their own clusters' newer partial rounds only
        manager = forum_scorecard(_context(app, forum, "manager@a.example"))
        assert manager.newer_partial_count == 1 and manager.newer_partial == []


def test_the_scorecard_page_states_the_rule_and_marks_partial_rows(app, client, forum):
    _settings(app, forum["a"].id, show_names=True)
    with app.test_request_context(), tenant_scope(forum["a"].id):
        _enter(forum["c2"].id, date(2025, 9, 1), 5, only=FIRST)
        c3 = _cluster(forum["a"].id, "Coastal Food")
        _enter(c3, date(2025, 5, 1), 2, only=FIRST[:3])
    login(client, "coord@a.example")
    page = _text(client.get(FORUM))
    assert 'id="cmp-partial-rule"' in page
    assert "Each cluster counts with its newest full round" in page
    assert "1 cluster has no full round: it counts with a partial round." in page
    newer = page.split('id="cmp-newer-partial"')[1].split("</div>")[0]
    assert "Helgeland Health: the round of 1 Sept 2025" in newer
    assert "partial: 5 of 31 indicators" in newer
    assert "(3/31)" in page  # the partial row's score in the heat map
    table = page.split('class="cmp-grid-table"')[1].split("</table>")[0]
    assert "partial: 3 of 31 indicators" in table
    workbook = _xlsx(client.get("/nordland/compare/forum/comparisons.xlsx"))
    sheet = list(workbook["Scorecard"].iter_rows(values_only=True))
    assert sheet[0][-1] == "Indicators"
    assert {row[0]: row[-1] for row in sheet[1:]} == {
        "Arctic Minerals": 31,
        "Coastal Food": 3,
        "Helgeland Health": 31,
    }


def test_a_cluster_page_marks_its_partial_round(app, client, forum):
    with app.test_request_context(), tenant_scope(forum["a"].id):
        _enter(forum["c1"].id, date(2025, 6, 1), 5, only=FIRST)
    login(client, "manager@a.example")
    page = _text(client.get(f"/nordland/compare/clusters/{forum['c1'].id}"))
    assert "The round of 1 Jun 2025 is partial: it has values for 5 of 31 indicators." in page
    assert "This round is partial: indicators without a value are left out" in page
    option = re.search(r'<option value="\d+" selected>([^<]*)</option>', page).group(1)
    assert "partial" in option and "5 of 31 indicators" in option
    workbook = _xlsx(client.get(f"/nordland/compare/clusters/{forum['c1'].id}/comparisons.xlsx"))
    header = [c.value for c in workbook["Over time"][1]]
    assert "2025-06-01 (partial: 5 of 31 indicators)" in header


# --- the forum as it was then -----------------------------------------------------------------


def test_an_older_round_meets_the_forum_as_it_was_then(app, client, forum):
    """c1's round of 2024-03-01 against c2's round of 2024-01-01 (2s), not c2's newer 1s."""
    from portal_compare.kinds import cluster_against_forum

    with app.test_request_context(), tenant_scope(forum["a"].id):
        _enter(forum["c2"].id, date(2024, 1, 1), 2)
        _enter(forum["c2"].id, date(2024, 6, 1), 5, only=FIRST)  # partial, after the day
        context = _context(app, forum, "manager@a.example", forum["c1"].id, round_id=forum["r1"])
        older = cluster_against_forum(context)
        assert older.forum_on == date(2024, 3, 1) and older.others == 1
        assert older.rows[0].forum.median == 2.0
        newest = cluster_against_forum(_context(app, forum, "manager@a.example", forum["c1"].id))
        assert newest.forum_on is None and newest.rows[0].forum.median == 1.0
        assert newest.newer_partial_others == 0  # c2's partial round is older than its full one
        _enter(forum["c2"].id, date(2025, 5, 1), 5, only=FIRST)  # now a newer partial round
        newest = cluster_against_forum(_context(app, forum, "manager@a.example", forum["c1"].id))
        assert newest.newer_partial_others == 1 and newest.rows[0].forum.median == 1.0
    login(client, "manager@a.example")
    url = f"/nordland/compare/clusters/{forum['c1'].id}"
    page = _text(client.get(f"{url}?round={forum['r1']}"))
    assert "The forum as it was on 1 Mar 2024, the day of this round" in page
    now = _text(client.get(url))
    assert "The forum as it is now" in now and "The forum as it was on" not in now
    workbook = _xlsx(client.get(f"{url}/comparisons.xlsx?round={forum['r1']}"))
    header = [c.value for c in workbook["Against the forum"][1]]
    assert "Forum on 2024-03-01: median" in header


def test_the_forum_as_it_was_then_costs_the_same_queries(app, client, forum):
    login(client, "manager@a.example")
    url = f"/nordland/compare/clusters/{forum['c1'].id}"

    def counts():
        found = []
        for address in (
            url,
            f"{url}?round={forum['r1']}",
            f"{url}/comparisons.xlsx?round={forum['r1']}",
        ):
            with count_queries(app) as queries:
                assert client.get(address).status_code == 200
            found.append(len(queries))
        return found

    small = counts()
    _bulk_clusters(app, forum["a"].id, 40)
    assert counts() == small


# --- stable pseudonyms ------------------------------------------------------------------------


def test_pseudonyms_are_small_unique_and_stable():
    first = pseudonyms("secret", 1, range(1, 31))
    assert len(set(first.values())) == 30 and all(1 <= n <= 999 for n in first.values())
    more = pseudonyms("secret", 1, range(1, 500))  # new clusters never move the old ones
    assert all(more[c] == n for c, n in first.items())
    assert len(set(more.values())) == 499
    assert pseudonyms("secret", 1, [7, 3]) == {7: pseudonyms("secret", 1, [3, 7])[7], 3: first[3]}
    assert pseudonyms("secret", 2, range(1, 31)) != first  # another region, other numbers
    assert pseudonyms("other secret", 1, range(1, 31)) != first
    big = pseudonyms("secret", 1, range(1, 1201))  # past 999 clusters: more digits
    assert len(set(big.values())) == 1200 and max(big.values()) <= 9999


def _rows_by_cluster(app, world, email="coord@a.example"):
    """Cluster id -> its heat map label, told apart by the clusters' own values."""
    from portal_compare.kinds import forum_scorecard

    with app.test_request_context(), tenant_scope(world["a"].id):
        card = forum_scorecard(_context(app, world, email))
        engagement = {r.label: r.cells[0][0] for r in card.rows}
    return engagement


def test_numbers_stay_across_new_rounds_clusters_imports_and_names(app, client, forum):
    from portal.benchmarking import round_import

    tenant_id = forum["a"].id
    c1, c2 = forum["c1"].id, forum["c2"].id
    before = _numbers(app, tenant_id)
    labels = _rows_by_cluster(app, forum)
    assert labels == {before[c1]: 4.0, before[c2]: 1.0}
    # a new round of c2 (a higher round id than c1's) and new clusters
    with app.test_request_context(), tenant_scope(tenant_id):
        _enter(c2, date(2025, 10, 1), 2)
        new_ids = [_cluster(tenant_id, f"Aaa New {n:02d}") for n in range(5)]
        for n, cid in enumerate(new_ids):
            _enter(cid, date(2025, 5, 1), n % 5)
    after = _numbers(app, tenant_id)
    assert after[c1] == before[c1] and after[c2] == before[c2]
    labels = _rows_by_cluster(app, forum)
    assert labels[before[c1]] == 4.0 and labels[before[c2]] == 2.0
    # the rounds deleted and imported again (new round ids, the file in name order)
    with app.test_request_context(), tenant_scope(tenant_id):
        db.session.execute(delete(BenchmarkRound))
        db.session.commit()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["cluster", "date", "indicator_set", "version", "indicator", "value"])
        names = {c1: "Arctic Minerals", c2: "Helgeland Health"}
        for cid, value in sorted(((c2, 3), (c1, 4)), key=lambda p: names[p[0]], reverse=True):
            for indicator in _set().indicators:
                writer.writerow([names[cid], "2025-02-01", SET, VERSION, indicator.id, value])
        outcome = round_import.import_rounds(None, tenant_id, out.getvalue().encode())
        assert outcome.written, outcome.errors
    assert _numbers(app, tenant_id)[c1] == before[c1]
    assert _rows_by_cluster(app, forum) == {before[c1]: 4.0, before[c2]: 3.0}
    # names swapped: the numbers stay with the clusters, and the rows keep their order
    login(client, "coord@a.example")
    rows = _heat_map_rows(_text(client.get(FORUM)))
    with app.test_request_context(), tenant_scope(tenant_id):
        db.session.get(Cluster, c1).name = "Zulu Minerals"
        db.session.get(Cluster, c2).name = "Alpha Health"
        db.session.commit()
    assert _rows_by_cluster(app, forum) == {before[c1]: 4.0, before[c2]: 3.0}
    assert _heat_map_rows(_text(client.get(FORUM))) == rows == _by_number(app, tenant_id, c1, c2)


def test_numbers_do_not_follow_names_or_entry_order(app, forum):
    """Twenty clusters created and benchmarked in the order of their names: their numbers
    come in another order."""
    tenant_id = forum["a"].id
    with app.test_request_context(), tenant_scope(tenant_id):
        ids = [_cluster(tenant_id, f"Cluster name {n:02d}") for n in range(20)]
        for cid in ids:
            _enter(cid, date(2025, 5, 1), 3)
    numbers = _numbers(app, tenant_id)
    in_name_order = [int(numbers[cid].split()[1]) for cid in ids]
    assert in_name_order != sorted(in_name_order)
    assert len(set(in_name_order)) == 20


# --- references -------------------------------------------------------------------------------


def test_a_regions_own_published_aggregates_are_not_offered_to_itself(app, client, forum):
    from portal_compare.models import ReferencePortfolio
    from portal_compare.references import usable_references

    own = _reference(app, forum["a"].id, name="Nordland Forum 2025 (2)", published=True)
    with app.test_request_context(), tenant_scope(forum["a"].id):
        db.session.get(ReferencePortfolio, own).source = "published"
        db.session.commit()
    imported = _reference(app, forum["a"].id, name="Danish clusters 2016")
    with app.test_request_context(), tenant_scope(forum["a"].id):
        offered = [p.id for p in usable_references(forum["a"].id, SET, VERSION)]
        listed = [p.id for p in usable_references(forum["a"].id, own_published=True)]
    with app.test_request_context(), tenant_scope(forum["b"].id):
        elsewhere = [p.id for p in usable_references(forum["b"].id, SET, VERSION)]
    assert offered == [imported] and sorted(listed) == sorted([own, imported])
    assert elsewhere == [own]  # other regions may pick it
    login(client, "coord@a.example")
    page = _text(client.get(f"{FORUM}?ref={own}&ref={imported}"))
    assert f'name="ref" value="{own}"' not in page
    assert f'name="ref" value="{imported}" checked' in page
    assert "Nordland Forum 2025 (2)" not in page.split('id="kind-references"')[1]
    workbook = _xlsx(client.get(f"/nordland/compare/forum/comparisons.xlsx?ref={own}"))
    assert "References" not in workbook.sheetnames
    # the region still manages (withdraws) it on the portfolios page
    assert "Nordland Forum 2025 (2)" in _text(client.get("/nordland/compare/references/"))


def _xlsx(response):
    from openpyxl import load_workbook

    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def test_published_aggregates_count_the_newest_full_round(app, forum):
    """c2's newer partial round (5s) does not replace its full round (1s) in what the region
    publishes either."""
    from portal_compare.models import ReferencePortfolio
    from portal_compare.reference_import import publish_aggregates

    from portal.tenancy.models import Tenant

    with app.test_request_context(), tenant_scope(forum["a"].id):
        _enter(forum["c2"].id, date(2025, 9, 1), 5, only=FIRST)
        tenant = db.session.get(Tenant, forum["a"].id)
        published = publish_aggregates(None, tenant, _set(), 2)
        portfolio = db.session.get(ReferencePortfolio, published.id)
        engagement = next(i for i in portfolio.indicators if i.indicator_id == "engagement")
        assert portfolio.cluster_count == 2 and engagement.median == 2.5  # 4 (c1), 1 (c2)
