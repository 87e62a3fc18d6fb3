"""The Arena plugin: a second label scheme in its own distribution (plugins/portal_arena),
installed and found like a third party's plugin.

Its rules are pure functions of the evidence and a date (tested without the web, at the
calendar edges); the app built by the normal fixtures loads it through its entry point; the
labels page shows it and a label is awarded under it; its wheel carries the entry point, the
package and the compiled catalogs.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import date, timedelta
from importlib.metadata import distribution, entry_points
from pathlib import Path

import pytest
from portal_arena.scheme import build, schemes
from sqlalchemy import select

from portal.labels.scheme import (
    ClusterEvidence,
    EvidenceData,
    LabelData,
    RoundData,
    Verdict,
    add_months,
    valid_until,
)
from tests import test_i18n as i18n
from tests.conftest import login

ROOT = Path(__file__).parent.parent
PLUGIN = ROOT / "plugins" / "portal_arena"
CATALOGS = PLUGIN / "portal_arena" / "translations"
SCHEME = build("2024")


@pytest.fixture
def rq(app):
    """A request context: rules translate their titles and reasons when they run."""
    with app.test_request_context():
        yield app


def _round(day: date, indicator_set: str = "esca-gold", audit: bool = False) -> RoundData:
    return RoundData(day, indicator_set, "2013", {}, audit)


def _esca(level: str, awarded: date, expires: date, scheme: str = "esca") -> LabelData:
    return LabelData(scheme, level, awarded, expires)


def _review(day: date, kind: str = "expert_review") -> EvidenceData:
    return EvidenceData(kind, day, text="The expert recommends it", scheme="arena")


def _level(evidence: ClusterEvidence, on: date, level: str, scheme=SCHEME):
    result = next(e for e in scheme.evaluate(evidence, on) if e.level.id == level)
    return [r.verdict for r in result.results], result


MET, NOT_MET, NEEDS = Verdict.MET, Verdict.NOT_MET, Verdict.NEEDS_EVIDENCE

# --- the scheme and its rules, pure ---------------------------------------------------------


def test_scheme_levels_validity_and_parameters():
    assert [s.id for s in schemes()] == ["arena"] and schemes()[0].version == "2024"
    assert [lvl.id for lvl in SCHEME.levels] == ["arena", "arena_pro", "gce"]
    assert [lvl.validity_months for lvl in SCHEME.levels] == [36, 60, 120]
    assert {lvl.valid_from for lvl in SCHEME.levels} == {"award"}
    assert SCHEME.parameters == {
        "arena_round_months": 24,
        "arena_validity_months": 36,
        "pro_esca_level": "silver",
        "pro_rounds_apart_months": 12,
        "pro_validity_months": 60,
        "gce_review_months": 12,
        "gce_validity_months": 120,
    }
    with pytest.raises(ValueError):
        build(pro_esca_level="platinum")


def test_arena_needs_a_round_in_the_last_24_months(rq):
    verdicts, result = _level(ClusterEvidence(), date(2025, 1, 1), "arena")
    assert verdicts == [NOT_MET] and "no benchmarking round" in result.results[0].reason
    # Any indicator set counts, not only ESCA's.
    evidence = ClusterEvidence(rounds=(_round(date(2023, 3, 15), "regional-scorecard"),))
    verdicts, result = _level(evidence, date(2025, 3, 14), "arena")  # one day short of 24 months
    assert verdicts == [MET] and result.eligible
    verdicts, result = _level(evidence, date(2025, 3, 15), "arena")  # exactly 24 months: too old
    assert verdicts == [NOT_MET] and not result.eligible
    assert "counted until" in result.results[0].reason
    # The newest round is the one that counts.
    newer = ClusterEvidence(rounds=(*evidence.rounds, _round(date(2024, 1, 10))))
    assert _level(newer, date(2025, 3, 15), "arena")[0] == [MET]
    # A round after the day of the check does not count.
    later = ClusterEvidence(rounds=(_round(date(2025, 6, 1)),))
    assert _level(later, date(2025, 5, 31), "arena")[0] == [NOT_MET]
    assert _level(later, date(2025, 6, 1), "arena")[0] == [MET]


def test_arena_round_held_on_a_leap_day(rq):
    # 29 Feb 2024 + 24 months = 28 Feb 2026: the round counts through 27 Feb 2026.
    evidence = ClusterEvidence(rounds=(_round(date(2024, 2, 29)),))
    assert _level(evidence, date(2026, 2, 27), "arena")[0] == [MET]
    assert _level(evidence, date(2026, 2, 28), "arena")[0] == [NOT_MET]
    assert valid_until(date(2024, 2, 29), 24) == date(2026, 2, 27)


def test_arena_pro_needs_a_valid_esca_label_at_silver_or_above(rq):
    rounds = (_round(date(2023, 5, 1)), _round(date(2024, 6, 1)))
    on = date(2025, 6, 1)

    def first_rule(*labels):
        verdicts, result = _level(ClusterEvidence(rounds, labels), on, "arena_pro")
        return verdicts[0], result.results[0].reason, result.eligible

    verdict, reason, _ = first_rule()
    assert verdict == NOT_MET and "no valid ESCA label" in reason
    verdict, reason, _ = first_rule(_esca("bronze", date(2025, 1, 1), date(2026, 12, 31)))
    assert verdict == NOT_MET and "higher level" in reason
    verdict, reason, eligible = first_rule(_esca("silver", date(2024, 9, 1), date(2026, 8, 31)))
    assert verdict == MET and eligible and "Silver" in reason
    assert first_rule(_esca("gold", date(2024, 9, 1), date(2026, 8, 31)))[0] == MET
    # Valid through its last day; expired the day after.
    assert first_rule(_esca("silver", date(2023, 6, 1), on))[0] == MET
    verdict, reason, _ = first_rule(_esca("silver", date(2023, 6, 1), on - timedelta(days=1)))
    assert verdict == NOT_MET and "expired" in reason
    # A label awarded after the day of the check, or of another scheme, does not count.
    assert first_rule(_esca("gold", date(2025, 6, 2), date(2027, 6, 1)))[0] == NOT_MET
    other = _esca("gold", date(2024, 9, 1), date(2026, 8, 31), scheme="arena")
    assert first_rule(other)[0] == NOT_MET


def test_arena_pro_needs_two_rounds_twelve_months_apart(rq):
    silver = (_esca("silver", date(2024, 1, 1), date(2027, 1, 1)),)
    on = date(2025, 12, 1)

    def rounds_rule(*days, sets=("esca-gold",)):
        rounds = tuple(_round(d, sets[i % len(sets)]) for i, d in enumerate(days))
        verdicts, result = _level(ClusterEvidence(rounds, silver), on, "arena_pro")
        return verdicts[1], result.results[1].reason

    assert rounds_rule()[0] == NOT_MET
    verdict, reason = rounds_rule(date(2024, 3, 15))
    assert verdict == NOT_MET and "2025" in reason  # says when the second may be held
    assert rounds_rule(date(2024, 3, 15), date(2025, 3, 14))[0] == NOT_MET  # one day short
    assert rounds_rule(date(2024, 3, 15), date(2025, 3, 15))[0] == MET  # exactly 12 months
    assert rounds_rule(date(2024, 2, 29), date(2025, 2, 28))[0] == MET  # leap day
    assert rounds_rule(date(2024, 2, 29), date(2025, 2, 27))[0] == NOT_MET
    # Rounds of different indicator sets count together.
    assert rounds_rule(date(2024, 1, 5), date(2025, 2, 1), sets=("esca-gold", "other"))[0] == MET
    # A round after the day of the check does not count.
    assert rounds_rule(date(2024, 3, 15), date(2025, 12, 2))[0] == NOT_MET


def test_gce_needs_esca_gold_and_a_recent_expert_review(rq):
    gold = _esca("gold", date(2024, 3, 15), date(2027, 3, 14))
    on = date(2025, 3, 15)
    verdicts, result = _level(ClusterEvidence(labels=(gold,)), on, "gce")
    assert verdicts == [MET, NEEDS] and not result.eligible
    recent = ClusterEvidence(labels=(gold,), evidence=(_review(date(2024, 3, 16)),))
    verdicts, result = _level(recent, on, "gce")  # one day short of 12 months
    assert verdicts == [MET, MET] and result.eligible
    old = ClusterEvidence(labels=(gold,), evidence=(_review(date(2024, 3, 15)),))
    verdicts, result = _level(old, on, "gce")  # exactly 12 months: a new review is needed
    assert verdicts == [MET, NEEDS] and "Record a new one" in result.results[1].reason
    # Other kinds of evidence and reviews after the day do not count.
    others = ClusterEvidence(
        labels=(gold,),
        evidence=(_review(date(2025, 1, 1), kind="improvement"), _review(date(2025, 3, 16))),
    )
    assert _level(others, on, "gce")[0] == [MET, NEEDS]
    # Silver is not enough.
    silver = ClusterEvidence(
        labels=(_esca("silver", date(2024, 3, 15), date(2026, 3, 14)),),
        evidence=(_review(date(2025, 1, 1)),),
    )
    verdicts, result = _level(silver, on, "gce")
    assert verdicts == [NOT_MET, MET] and "higher level" in result.results[0].reason


def test_gce_review_on_a_leap_day(rq):
    gold = _esca("gold", date(2024, 1, 1), date(2026, 12, 31))
    evidence = ClusterEvidence(labels=(gold,), evidence=(_review(date(2024, 2, 29)),))
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert _level(evidence, date(2025, 2, 27), "gce")[0] == [MET, MET]
    assert _level(evidence, date(2025, 2, 28), "gce")[0] == [MET, NEEDS]


def test_next_level_and_parameters_are_data(rq):
    arena = LabelData("arena", "arena", date(2024, 1, 1), date(2026, 12, 31))
    assert SCHEME.next_level(ClusterEvidence(), date(2025, 1, 1)).id == "arena"
    assert SCHEME.next_level(ClusterEvidence(labels=(arena,)), date(2025, 1, 1)).id == "arena_pro"
    assert SCHEME.next_level(ClusterEvidence(labels=(arena,)), date(2027, 1, 1)).id == "arena"
    # Another version of the scheme changes the numbers, not the code.
    strict = build("2026", arena_round_months=12, pro_esca_level="gold")
    evidence = ClusterEvidence(
        rounds=(_round(date(2023, 6, 1)), _round(date(2024, 12, 1))),
        labels=(_esca("silver", date(2025, 1, 1), date(2026, 12, 31)),),
    )
    assert _level(evidence, date(2026, 1, 1), "arena", strict)[0] == [NOT_MET]
    assert _level(evidence, date(2026, 1, 1), "arena", SCHEME)[0] == [MET]
    assert _level(evidence, date(2026, 1, 1), "arena_pro", strict)[0] == [NOT_MET, MET]
    assert _level(evidence, date(2026, 1, 1), "arena_pro", SCHEME)[0] == [MET, MET]


def test_titles_reasons_and_names_are_translated(rq):
    from flask import g
    from flask_babel import refresh

    evidence = ClusterEvidence(rounds=(_round(date(2025, 1, 10)),))
    expected = {
        "nb": ("En benchmarkingrunde de siste 24 månedene", "Benchmarket"),
        "da": ("En benchmarkingrunde inden for de seneste 24 måneder", "Benchmarket"),
        "it": ("Una rilevazione di benchmarking negli ultimi 24 mesi", "Benchmarking del"),
    }
    for locale, (title, reason) in expected.items():
        g.locale_override = locale
        refresh()
        result = _level(evidence, date(2025, 3, 1), "arena")[1].results[0]
        assert result.title == title and result.reason.startswith(reason), locale
    g.locale_override = "nb"
    refresh()
    assert str(SCHEME.title) == "Klyngeprogrammet Norwegian Innovation Clusters"


# --- its catalogs (tests/test_i18n.py finds plugins/*/translations only) ----------------------


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_catalogs_are_complete_and_compiled(locale):
    i18n.test_catalog_is_complete_and_not_fuzzy(CATALOGS, locale)
    i18n.test_compiled_catalog_matches_the_po_file(CATALOGS, locale)


def test_catalog_template_is_up_to_date(tmp_path):
    from babel.messages.frontend import CommandLineInterface
    from babel.messages.pofile import read_po

    fresh = tmp_path / "fresh.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(fresh),
            str(PLUGIN / "portal_arena"),
        ]
    )
    with open(fresh, "rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    with open(CATALOGS / "messages.pot", "rb") as f:
        known = {m.id for m in read_po(f) if m.id}
    assert extracted == known, sorted(map(str, extracted ^ known))[:8]


# --- installed like a third party's ----------------------------------------------------------


def test_entry_point_belongs_to_its_own_distribution():
    (ep,) = entry_points(group="portal.plugins", name="arena")
    assert ep.value == "portal_arena"
    assert ep.dist is not None and ep.dist.name == "portal-arena"
    assert "cluster-forum-portal" in (ep.dist.requires or [])[0]
    core = distribution("cluster-forum-portal")
    assert "arena" not in {e.name for e in core.entry_points if e.group == "portal.plugins"}
    assert "portal_arena" not in (ROOT / "pyproject.toml").read_text()


def test_the_app_loads_it_through_the_entry_point(app, runner):
    from portal.labels.registry import schemes as installed

    plugin = app.extensions["portal_plugins"].plugins["arena"]
    assert (plugin.distribution, plugin.version, plugin.load_error) == ("portal-arena", "0.1.0", "")
    assert {"plugin_info", "translation_folders", "label_schemes"} <= set(plugin.hooks)
    with app.test_request_context():
        assert "illustrative" in str(plugin.info["description"])
        owner, scheme = installed()[("arena", "2024")]
    assert owner == "arena" and scheme.level("gce").validity_months == 120
    listing = runner.invoke(args=["plugins", "list"]).output
    assert "arena 0.1.0 (portal-arena) [ok]" in listing


# --- the pages ---------------------------------------------------------------------------------


def _enter_round(app, tenant_id: int, cluster_id: int, on: date) -> None:
    from portal.benchmarking import services as rounds
    from portal.clusters.models import Cluster
    from portal.extensions import db
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(tenant_id):
        cluster = db.session.get(Cluster, cluster_id)
        indicator_set = rounds.find_set("esca-gold", "2013")
        values = {i.id: (3.0, "") for i in indicator_set.indicators}
        rounds.save_round(None, cluster, indicator_set, {"held_on": on}, values)


def _add_esca_label(app, tenant_id: int, cluster_id: int, level: str, awarded: date) -> None:
    from portal.extensions import db
    from portal.labels.models import Label
    from portal.tenancy import tenant_scope

    with app.test_request_context(), tenant_scope(tenant_id):
        db.session.add(
            Label(
                tenant_id=tenant_id,
                cluster_id=cluster_id,
                scheme="esca",
                scheme_version="2020",
                level=level,
                awarded_on=awarded,
                expires_on=valid_until(awarded, 24),
            )
        )
        db.session.commit()


def _labels(app, scheme: str):
    from portal.extensions import db
    from portal.labels.models import Label
    from portal.tenancy import unscoped

    with app.app_context(), unscoped():
        return db.session.scalars(
            select(Label).where(Label.scheme == scheme).order_by(Label.id)
        ).all()


def _arena_section(page: str) -> str:
    """The Arena scheme's part of the labels page: from its heading (the scheme's title, then
    its version) to the next section."""
    start = page.index("Norwegian Innovation Clusters <small")
    end = page.find("<section", start)
    return page[start : end if end != -1 else len(page)]


def test_the_scheme_is_off_until_the_region_switches_it_on(client, world, factory):
    login(client, "coord@a.example")
    url = f"/nordland/clusters/{world['c1'].id}/labels"
    assert "Norwegian Innovation Clusters" not in client.get(url).get_data(as_text=True)
    factory.enable_plugin(world["a"], "arena")
    page = client.get(url).get_data(as_text=True)
    assert "Norwegian Innovation Clusters" in page and "Arena Pro" in page
    award = client.post(
        f"{url}/award", data={"scheme": "arena", "version": "2024", "level": "arena"}
    )
    assert award.status_code == 302  # answered (refused with a message), not 404
    factory.enable_plugin(world["a"], "arena", enabled=False)
    off = client.post(f"{url}/award", data={"scheme": "arena", "version": "2024", "level": "arena"})
    assert off.status_code == 404


def test_path_page_shows_the_levels_and_each_rules_verdict(client, world, factory, app):
    factory.enable_plugin(world["a"], "esca")
    factory.enable_plugin(world["a"], "arena")
    today = date.today()
    c1 = world["c1"].id
    _enter_round(app, world["a"].id, c1, add_months(today, -13))
    _enter_round(app, world["a"].id, c1, add_months(today, -1))
    _add_esca_label(app, world["a"].id, c1, "silver", add_months(today, -2))
    login(client, "manager@a.example")  # the cluster's own manager sees its path
    page = client.get(f"/nordland/clusters/{c1}/labels").get_data(as_text=True)
    arena = _arena_section(page)
    for text in (
        "rule version 2024",
        "Arena Pro",
        "Global Centre of Expertise (GCE)",
        "A benchmarking round in the last 24 months",
        "A valid ESCA label at silver or above",
        "Two benchmarking rounds at least 12 months apart",
        "A valid ESCA gold label",
        "An expert review in the last 12 months",
        "The cluster holds ESCA Silver; a higher level is needed.",
        "Record the expert&#39;s review and recommendation.",
        ">Arena Pro</span>",
    ):
        assert text in arena, text
    assert arena.count("rule rule-met") == 3  # Arena's rule and both of Arena Pro's
    assert arena.count("rule rule-not_met") == 1 and arena.count("rule rule-needs_evidence") == 1
    assert "/labels/award" not in page  # managers document, they do not award
    client.post("/logout")
    login(client, "coord@a.example")
    client.post("/language", data={"locale": "nb", "next": "/"})
    page = client.get(f"/nordland/clusters/{c1}/labels").get_data(as_text=True)
    assert "Klyngeprogrammet Norwegian Innovation Clusters" in page
    assert "To benchmarkingrunder med minst 12 måneders mellomrom" in page


def test_awarding_arena_levels_through_the_web(client, world, factory, app):
    factory.enable_plugin(world["a"], "esca")
    factory.enable_plugin(world["a"], "arena")
    today = date.today()
    c1 = world["c1"].id
    url = f"/nordland/clusters/{c1}/labels"
    login(client, "coord@a.example")
    refused = client.post(
        f"{url}/award",
        data={"scheme": "arena", "version": "2024", "level": "arena"},
        follow_redirects=True,
    )
    assert b"Not every rule is met" in refused.data
    _enter_round(app, world["a"].id, c1, add_months(today, -13))
    _enter_round(app, world["a"].id, c1, add_months(today, -1))
    page = client.get(url).get_data(as_text=True)
    assert "Award Arena" in page and "Award Arena Pro" not in page
    ok = client.post(f"{url}/award", data={"scheme": "arena", "version": "2024", "level": "arena"})
    assert ok.status_code == 302
    (label,) = _labels(app, "arena")
    assert (label.level, label.scheme_version, label.awarded_on, label.expires_on) == (
        "arena",
        "2024",
        today,
        valid_until(today, 36),
    )
    assert label.decided_by_id is not None
    page = client.get(url).get_data(as_text=True)
    next_level = _arena_section(page)
    assert next_level.index("the next label") > next_level.index(">Arena Pro</span>")

    # GCE: an ESCA gold label, and the expert review recorded on the labels page.
    _add_esca_label(app, world["a"].id, c1, "gold", add_months(today, -1))
    assert "Record the expert review" in _arena_section(client.get(url).get_data(as_text=True))
    recorded = client.post(
        f"{url}/evidence",
        data={"scheme": "arena", "kind": "expert_review", "text": "International position"},
    )
    assert recorded.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Award Global Centre of Expertise (GCE)" in page
    ok = client.post(f"{url}/award", data={"scheme": "arena", "version": "2024", "level": "gce"})
    assert ok.status_code == 302
    gce = _labels(app, "arena")[-1]
    assert (gce.level, gce.expires_on) == ("gce", valid_until(today, 120))
    # A day on which the rules were not met is refused: no round in the 24 months before it.
    early = client.post(
        f"{url}/award",
        data={
            "scheme": "arena",
            "version": "2024",
            "level": "arena",
            "on": add_months(today, -14).isoformat(),
        },
        follow_redirects=True,
    )
    assert b"Not every rule is met" in early.data and len(_labels(app, "arena")) == 2


def test_awarding_through_the_service(app, world, factory):
    from portal.clusters.models import Cluster
    from portal.errors import ServiceError
    from portal.extensions import db
    from portal.labels import services
    from portal.tenancy import tenant_scope

    factory.enable_plugin(world["a"], "arena")
    c2 = world["c2"].id
    _enter_round(app, world["a"].id, c2, date(2024, 2, 29))
    with app.test_request_context(), tenant_scope(world["a"].id):
        cluster = db.session.get(Cluster, c2)
        (scheme,) = services.current_schemes(world["a"].id)  # only Arena is on
        assert (scheme.id, scheme.version) == ("arena", "2024")
        with pytest.raises(ServiceError):
            services.award(None, cluster, scheme, "arena", date(2026, 2, 28))
        label = services.award(None, cluster, scheme, "arena", date(2026, 2, 27))
        assert label.expires_on == valid_until(date(2026, 2, 27), 36) == date(2029, 2, 26)


# --- the wheel ---------------------------------------------------------------------------------


def test_the_wheel_carries_the_entry_point_the_package_and_the_catalogs(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(PLUGIN)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("portal_arena-0.1.0-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        info = "portal_arena-0.1.0.dist-info"
        entry = zf.read(f"{info}/entry_points.txt").decode()
        metadata = zf.read(f"{info}/METADATA").decode()
    assert "[portal.plugins]" in entry and "arena = portal_arena" in entry
    assert "Requires-Dist: cluster-forum-portal" in metadata
    assert {"portal_arena/__init__.py", "portal_arena/scheme.py"} <= names
    for locale in ("nb", "da", "it", "sv", "de"):
        assert f"portal_arena/translations/{locale}/LC_MESSAGES/messages.mo" in names
    # Its own package only: the core is a dependency, not a passenger.
    assert not any(n.startswith(("portal/", "portal_esca/")) for n in names)
