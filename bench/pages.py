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
    # The target: requests per second at least this share of /hello's in the same run.
    target: float | None = 0.20
    # Revisit with If-None-Match (the ETag of a first response) and expect 304.
    etag_revisit: bool = False
    tenant: bool = True
    # A JSON API operation: called with the coordinator's personal access token (Bearer),
    # not the session cookie.
    token: bool = False

    @property
    def expected_status(self) -> int:
        return 304 if self.etag_revisit else 200


SCORECARD_ARGS = {"set": "esca-gold", "version": "2013"}

PAGES: tuple[Page, ...] = (
    Page("dashboard", "tenant dashboard", "main.dashboard"),
    Page("programme", "programme page", "programmes.detail", {"programme_id": Ref("programme_id")}),
    Page("plan", "plan page (joint plan)", "plans.detail", {"plan_id": Ref("joint_plan_id")}),
    Page("my_work", "my work", "plans.my_work"),
    Page("cluster", "cluster page", "clusters.detail", {"cluster_id": Ref("cluster_id")}),
    Page("labels", "label register", "labels.register"),
    Page("search", "search the region", "search.results", {"q": "cluster"}),
    Page("label_risk", "label risk page", "labels.risk"),
    Page("scorecard", "portfolio scorecard", "compare.forum", SCORECARD_ARGS, target=0.05),
    Page(
        "scorecard_etag",
        "scorecard, ETag revisit (304)",
        "compare.forum",
        SCORECARD_ARGS,
        etag_revisit=True,
    ),
    Page("api_clusters", "API: clusters list (token)", "api_clusters.list_clusters", token=True),
    Page("api_plans", "API: plans list (token)", "api_plans.list_plans", token=True),
    Page(HELLO, "/hello (yardstick)", "main.hello", target=None, tenant=False),
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
