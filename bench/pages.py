"""The pages the benchmark drives, named by their Flask endpoint so that a page whose route does
not exist (a plugin not installed yet) is skipped with a note instead of measuring a 404."""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.routing import BuildError

HELLO = "hello"


@dataclass(frozen=True)
class Ref:
    """An id the synthetic region resolved (an attribute of ``synth.Region``)."""

    name: str


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    endpoint: str
    # url_for arguments; a Ref is looked up in the built region.
    args: dict = field(default_factory=dict)
    # The targets of issue 18 (None: none set): requests per second at least this share of
    # /hello's in the same run (8 users, 1 % writes), p95 under load, and (main pages) the
    # first visit's render p50 at 500 / at 2,000 clusters.
    target: float | None = None
    p95_target_ms: float | None = None
    first_visit_target_ms: tuple[float, float] | None = None
    # Revisit with If-None-Match (the ETag of a first response) and expect 304.
    etag_revisit: bool = False
    tenant: bool = True
    # A JSON API operation: called with the users' personal access tokens (Bearer), not the
    # session cookie.
    token: bool = False

    @property
    def expected_status(self) -> int:
        return 304 if self.etag_revisit else 200


SCORECARD_ARGS = {"set": "esca-gold", "version": "2013"}

MAIN = {"target": 0.10, "p95_target_ms": 50.0, "first_visit_target_ms": (30.0, 40.0)}

PAGES: tuple[Page, ...] = (
    Page("dashboard", "tenant dashboard", "main.dashboard", **MAIN),
    Page(
        "programme",
        "programme page",
        "programmes.detail",
        {"programme_id": Ref("programme_id")},
        **MAIN,
    ),
    Page(
        "plan", "plan page (joint plan)", "plans.detail", {"plan_id": Ref("joint_plan_id")}, **MAIN
    ),
    Page("my_work", "my work", "plans.my_work", **MAIN),
    Page("cluster", "cluster page", "clusters.detail", {"cluster_id": Ref("cluster_id")}, **MAIN),
    Page("labels", "label register", "labels.register", **MAIN),
    Page("search", "search the region", "search.results", {"q": "cluster"}),
    Page("label_risk", "label risk page", "labels.risk"),
    Page(
        "scorecard",
        "portfolio scorecard",
        "compare.forum",
        SCORECARD_ARGS,
        target=0.05,
        p95_target_ms=50.0,
    ),
    Page(
        "scorecard_etag",
        "scorecard, ETag revisit (304)",
        "compare.forum",
        SCORECARD_ARGS,
        etag_revisit=True,
    ),
    Page("api_clusters", "API: clusters list", "api_clusters.list_clusters", token=True),
    Page(
        "api_cluster",
        "API: a cluster",
        "api_clusters.get_cluster",
        {"cluster_id": Ref("cluster_id")},
        token=True,
    ),
    Page("api_programmes", "API: programmes list", "api_programmes.list_programmes", token=True),
    Page(
        "api_programme",
        "API: a programme",
        "api_programmes.get_programme",
        {"programme_id": Ref("programme_id")},
        token=True,
    ),
    Page("api_plans", "API: plans list", "api_plans.list_plans", token=True),
    Page(
        "api_actions",
        "API: a plan's actions",
        "api_actions.list_actions",
        {"plan_id": Ref("joint_plan_id")},
        token=True,
    ),
    Page("api_rounds", "API: rounds list", "api_rounds.list_rounds", token=True),
    Page("api_labels", "API: labels list", "api_labels.list_labels", token=True),
    Page("api_workshops", "API: workshops list", "api_workshops.list_workshops", token=True),
    Page(HELLO, "/hello (yardstick)", "main.hello", tenant=False),
)


@dataclass
class Resolved:
    page: Page
    path: str | None
    skipped: str | None = None


def resolve(app, region, pages: tuple[Page, ...] = PAGES) -> list[Resolved]:
    """Each page's path in the built region, or why it is skipped."""
    from flask import url_for

    result = []
    with app.test_request_context():
        for page in pages:
            if page.endpoint not in app.view_functions:
                result.append(Resolved(page, None, f"route {page.endpoint} does not exist"))
                continue
            args = {
                name: getattr(region, value.name) if isinstance(value, Ref) else value
                for name, value in page.args.items()
            }
            if page.tenant:
                args["tenant"] = region.tenant_slug
            try:
                result.append(Resolved(page, url_for(page.endpoint, **args)))
            except BuildError as exc:
                result.append(Resolved(page, None, f"cannot build {page.endpoint}: {exc}"))
    return result
