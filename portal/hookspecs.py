"""Every hook a plugin can implement. ``docs/plugins.md`` documents each one.

Plugins mark implementations with ``portal.toolkit.hookimpl``. Hooks that render
or react run only for tenants that switched the plugin on; hooks that wire the
application (blueprints, folders, CLI, migrations) run once at start-up for every
installed plugin.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from flask_smorest import Blueprint as ApiBlueprint

    from portal.accounts.models import User
    from portal.benchmarking.comparisons import ComparisonKind
    from portal.benchmarking.indicators import IndicatorSet
    from portal.benchmarking.models import BenchmarkRound
    from portal.clusters.models import Cluster, MemberOrganisation
    from portal.digest import DigestItem
    from portal.improvement.work import IndicatorWork
    from portal.labels.scheme import LabelScheme
    from portal.notifications.kinds import NotificationKind
    from portal.plans.followups import FollowupTarget
    from portal.plans.models import Action, Plan
    from portal.programmes.models import Programme
    from portal.tenancy.models import Tenant
    from portal.toolkit import MigrationBranch, NavItem, Panel
    from portal.workshops.models import Registration, Workshop

hookspec = pluggy.HookspecMarker("portal")


# --- wiring, called once when the app is created -------------------------------------


@hookspec
def plugin_info() -> dict[str, str]:
    """Describe the plugin: ``{"title": ..., "description": ...}`` (translated lazily)."""


@hookspec
def blueprints() -> list[Blueprint]:
    """Flask blueprints to register. Use ``toolkit.TenantBlueprint`` for pages under
    ``/<tenant>/``; those answer 404 in tenants that have not switched the plugin on."""


@hookspec
def api_blueprints() -> list[ApiBlueprint]:
    """``toolkit.ApiBlueprint``s (flask-smorest) mounted in the JSON API with
    ``url_prefix="/api/v1/<tenant>/..."``: their schemas and operations appear in
    ``/api/v1/openapi.json``; callers need a token of the region, where the plugin is on."""


@hookspec
def template_folders() -> list[str]:
    """Folders searched for templates after the core's own."""


@hookspec
def static_folders() -> dict[str, str]:
    """``{name: folder}``; files are served at ``/plugins/<name>/static/<path>``."""


@hookspec
def translation_folders() -> list[str]:
    """Folders holding ``<locale>/LC_MESSAGES/messages.mo`` catalogs, merged into the core's."""


@hookspec
def cli_commands() -> list[click.Command]:
    """Click commands added to the ``portal`` command line."""


@hookspec
def indicator_sets() -> list[IndicatorSet]:
    """Indicator sets the plugin ships (``toolkit.IndicatorSet.from_file(path)``). Regions
    that switch the plugin on can benchmark against them; rounds keep the version used."""


@hookspec
def label_schemes() -> list[LabelScheme]:
    """Label schemes (levels in order, validity, eligibility rules), one per version. Rules
    are pure functions of a cluster's evidence and a date (``toolkit.RuleResult``)."""


@hookspec
def comparison_kinds() -> list[ComparisonKind]:
    """Ways to compare benchmarking rounds (``toolkit.ComparisonKind``): an id, a title, the
    indicator sets it works on, ``compute(context)`` and a fragment template showing the
    result. Listed for regions that switched the plugin on."""


@hookspec
def followup_targets(tenant: Tenant) -> list[FollowupTarget]:
    """More places a finding (e.g. a weak indicator) can be turned into in one step
    (``toolkit.FollowupTarget``: a POST endpoint taking the finding's fields). The core
    offers a goal or an action of a joint plan."""


@hookspec
def indicator_work(tenant: Tenant, keys: list[tuple[str, str, str]]) -> list[IndicatorWork]:
    """The plugin's work of the region aimed at any of these indicators (keys ``(indicator
    set, set version, indicator id)``), one ``toolkit.IndicatorWork`` per piece of work and
    indicator: its clusters, status and dates. The core measures every piece of work the
    same way (``toolkit.Measurer``) and leaves the clusters doing other work on the same
    indicator in the same window out of the others. Load it in bulk (a query or two), from
    the plugin's own tables: the answers are kept by each process until a write to a table
    the core's cache registry does not list (every plugin's table) changes the region's
    ``region`` scope, so an action's or a comment's write does not ask again."""


@hookspec
def notification_kinds() -> list[NotificationKind]:
    """The plugin's kinds of notification (``toolkit.NotificationKind``): an id prefixed with
    the plugin's name, a label for the people's notification settings, how it reads in the
    reader's language from its stored parameters, its default delivery ("email", "digest" or
    "app") and, for a subject type of its own, a loader of its subjects' titles and pages (one
    query for many). Read once at start-up for every installed plugin; the plugin posts
    through ``toolkit.post_notification``."""


@hookspec
def migration_branches() -> list[MigrationBranch]:
    """Alembic branches for the plugin's own models, each with its own version table."""


# --- rendering, called per request for tenants that enabled the plugin ---------------


@hookspec
def nav_items(tenant: Tenant, user: User) -> list[NavItem]:
    """Entries for the tenant's main navigation."""


@hookspec
def dashboard_panels(tenant: Tenant, user: User) -> list[Panel]:
    """Panels on the tenant dashboard. Keep each to a fixed number of queries. The page is
    kept for each reader until a write to what its core panels read (a cluster manager's: their
    clusters and own actions) or to the region's rows that no cache scope lists, your plugin's
    tables among them: read those, not other clusters' actions or plans."""


@hookspec
def cluster_panels(cluster: Cluster, user: User) -> list[Panel]:
    """Panels on a cluster page. Keep each to a fixed number of queries."""


@hookspec
def programme_panels(programme: Programme, user: User) -> list[Panel]:
    """Panels on a programme page. Keep each to a fixed number of queries. A panel showing
    only the plugin's own rows (and the programme's own row) says ``own_rows_only=True``: the
    page's frame is then kept through writes to the programme's actions."""


@hookspec
def programme_report_sections(programme: Programme, user: User, today: date) -> list[Panel]:
    """Sections of a programme's progress report for its funders (the page and its PDF):
    printable, no forms. Keep each to a fixed number of queries; what rests on a cluster's
    own values only as ``values_view`` allows ``user``."""


@hookspec
def workshop_panels(workshop: Workshop, user: User) -> list[Panel]:
    """Panels on a workshop page. Keep each to a fixed number of queries."""


@hookspec
def plan_panels(plan: Plan, user: User) -> list[Panel]:
    """Panels on an improvement plan page. Keep each to a fixed number of queries."""


@hookspec(firstresult=True)
def check_permission(user: User, action: str, obj: Any) -> bool | None:
    """Answer ``True``/``False`` for a plugin's own actions, ``None`` when not yours.

    Consulted by ``portal.permissions`` only for actions the core does not know.
    """


# --- events, called after the change is committed -------------------------------------


@hookspec
def tenant_created(tenant: Tenant) -> None:
    """A tenant was created (called for every installed plugin)."""


@hookspec
def cluster_created(cluster: Cluster, user: User | None) -> None:
    """A cluster was created."""


@hookspec
def cluster_updated(
    cluster: Cluster, changes: dict[str, tuple[Any, Any]], user: User | None
) -> None:
    """A cluster was changed; ``changes`` maps field to ``(old, new)``."""


@hookspec
def demo_data(tenant: Tenant) -> None:
    """Add the plugin's demo data to a demo region (``portal demo``); must be idempotent."""


@hookspec
def member_added(member: MemberOrganisation, user: User | None) -> None:
    """A member organisation joined a cluster (by form or by import)."""


@hookspec
def programme_saved(
    programme: Programme, created: bool, changes: dict[str, tuple[Any, Any]], user: User | None
) -> None:
    """A programme was created (``created``) or changed (``changes``: field -> (old, new))."""


@hookspec
def workshop_saved(
    workshop: Workshop, created: bool, changes: dict[str, tuple[Any, Any]], user: User | None
) -> None:
    """A workshop was created or changed."""


@hookspec
def plan_saved(
    plan: Plan, created: bool, changes: dict[str, tuple[Any, Any]], user: User | None
) -> None:
    """An improvement plan (individual or joint) was created or changed."""


@hookspec
def action_saved(
    action: Action, created: bool, changes: dict[str, tuple[Any, Any]], user: User | None
) -> None:
    """An action was created or changed (by form, inline edit, import or a workshop decision)."""


@hookspec
def registration_changed(registration: Registration, user: User | None) -> None:
    """Someone registered for a workshop, cancelled, moved up from the waiting list, or had
    attendance marked; ``registration.status`` and ``.attended`` tell the new state."""


@hookspec
def workshop_ended(workshop: Workshop) -> None:
    """A workshop is over and closed (called once per workshop, only once its day and end time
    have passed in the region's time zone by the real clock: by the schedule's
    ``portal.workshops.close_ended``, by ``portal send-reminders``, or when a coordinator closes
    it; ``portal.workshops.closing``)."""


@hookspec
def reminders(tenant: Tenant, today: date) -> list[DigestItem]:
    """Items for the people's daily digests, sent by ``portal send-reminders``
    (``toolkit.DigestItem``: the person, the section heading, a title linking to its page, a
    detail and a day, all in the person's language). The core puts them into each person's one
    digest of the day in the tenant, under their section heading, for active people of the tenant
    who keep the digest on and have not had that day's digest yet (``toolkit.receives_digest``,
    the SQL condition to find them by). An item with a ``key`` is reminded once per person and
    key (unique across tenants); one without is listed each time it is answered (the plugin
    keeps track, e.g. marks news as told: in the session, never committed; the core commits the
    marks with the digest or rolls them back)."""


@hookspec
def round_saved(round: BenchmarkRound, created: bool, user: User | None) -> None:
    """A benchmarking round was entered or changed (its values and lights are saved)."""
