"""The stable API for plugins. Import from here, not from the core's modules.

Everything named in ``__all__`` is documented in ``docs/plugins.md`` and kept
compatible within a major version; anything else in ``portal`` may change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pluggy
from flask import Blueprint, current_app, g
from flask import render_template as render_template
from flask_babel import force_locale as in_locale
from flask_babel import (
    format_decimal,
    gettext,
    lazy_gettext,
    ngettext,
)
from flask_login import current_user, login_required
from flask_smorest import Blueprint as ApiBlueprint
from flask_smorest import abort as api_abort
from flask_wtf import FlaskForm

from portal.accounts.models import Role, User
from portal.api.helpers import documented as api_documented
from portal.api.helpers import found_first as api_found_first
from portal.api.helpers import page_body as api_page_body
from portal.api.helpers import paged as api_paged
from portal.api.helpers import service_errors as api_service_errors
from portal.api.problems import ProblemSchema
from portal.api.schemas.common import PageArgsSchema, PageSchema, page_schema
from portal.audit.words import FieldWords, register_history_words
from portal.benchmarking.comparisons import (
    ClusterRound,
    ComparisonContext,
    ComparisonKind,
    ForumRounds,
    cluster_rounds,
    comparison_kinds,
    first_rounds_after,
    forum_rounds,
    latest_rounds,
    round_days,
    rounds_fingerprint,
)
from portal.benchmarking.indicators import Coverage, IndicatorSet
from portal.benchmarking.indicators import pick as pick_text
from portal.clusters.models import Cluster, MemberOrganisation, MemberType
from portal.db import Base as Model
from portal.db import Timestamped
from portal.digest import DigestItem, Reminder, receives_digest, reminder_footer, reminder_link
from portal.errors import ConflictError, ServiceError
from portal.extensions import db
from portal.files.services import send_object as send_stored_object
from portal.files.storage import ObjectMissing as StoredObjectMissing
from portal.files.storage import StorageUnavailable
from portal.files.storage import storage as file_storage
from portal.files.storage import tenant_key as storage_key_for
from portal.formatting import format_date, format_datetime, format_money
from portal.imports.cells import parse_date, parse_float, parse_int
from portal.imports.kinds import register_import_kind
from portal.imports.kinds import target_id as import_target_id
from portal.imports.service import Importer
from portal.imports.service import Step as ImportStep
from portal.imports.table import (
    EXAMPLE_COLUMN,
    EXAMPLE_MARK,
    FileProblem,
    is_blank,
    raw_text,
    read_table,
    row_too_long,
    table_problems,
)
from portal.imports.table import Problem as ImportProblem
from portal.imports.table import text as cell_text
from portal.imports.web import check_upload
from portal.imports.web import confirm as confirm_import
from portal.imports.web import start_job as start_import_job
from portal.imports.web import status as import_status
from portal.imports.web import to_job as to_import_job
from portal.improvement.chart import before_after as before_after_chart
from portal.improvement.effect import Effect, Movement, Window, effect, movements, window_of
from portal.improvement.effect import Group as EffectGroup
from portal.improvement.effect import direction as effect_direction
from portal.improvement.effort import Baseline as EffortBaseline
from portal.improvement.effort import SpentAction
from portal.improvement.effort import Tally as EffortTally
from portal.improvement.effort import baseline as effort_baseline
from portal.improvement.effort import tally as effort_tally
from portal.improvement.effort_load import EffortBaselines
from portal.improvement.measure import Measured, Measurer, RoundValues
from portal.improvement.work import IndicatorWork, region_work
from portal.keeps import Keep
from portal.labels.scheme import (
    ClusterEvidence,
    Earliest,
    EvidenceData,
    LabelData,
    LabelScheme,
    Level,
    RoundData,
    RuleResult,
    Validity,
    Verdict,
    add_months,
    exact,
    format_share,
    months_apart,
    months_between,
    share_shown,
    valid_until,
)
from portal.locking import Versioned, VersionedForm, check_version, form_status, saving
from portal.mail.compose import compose, notify
from portal.mail.preferences import receives as receives_mail
from portal.notifications.kinds import NotificationKind
from portal.notifications.kinds import Subject as NotificationSubject
from portal.notifications.services import notify as post_notification
from portal.notifications.services import watchers
from portal.permissions import may, require, role_in
from portal.plans.followups import FINDING_FIELDS, FollowupTarget, followup_targets, joint_plans
from portal.plans.spreadsheets import CSV_MIME, XLSX_MIME, download_name, to_csv, to_xlsx
from portal.privacy.policy import ValuesView, values_view
from portal.privacy.pseudonyms import cluster_pseudonyms
from portal.programmes.models import Programme, ProgrammeCluster
from portal.reports.audience import report_audience
from portal.reports.pdf import pdf_response
from portal.shared_figures import key_for as shared_key
from portal.shared_figures import shared_value
from portal.tenancy import TenantScoped, cache_scopes, get_or_404, tenant_scope, unscoped
from portal.tenancy.models import Tenant
from portal.tenancy.versioning import scope_version
from portal.web.forms import UpToThisYear
from portal.web.htmx import is_htmx, wants_fragment
from portal.web.page_cache import cached_page
from portal.web.pagination import page_args
from portal.web.personal import depends_on_viewer, same_person
from portal.workshops.models import Workshop

hookimpl = pluggy.HookimplMarker("portal")
_ = gettext
_l = lazy_gettext

__all__ = [
    "ApiBlueprint",
    "ProblemSchema",
    "api_abort",
    "PageArgsSchema",
    "PageSchema",
    "page_schema",
    "api_page_body",
    "api_paged",
    "api_service_errors",
    "api_documented",
    "api_found_first",
    "cached_page",
    "cache_scopes",
    "depends_on_viewer",
    "same_person",
    "Effect",
    "EffectGroup",
    "effect",
    "IndicatorWork",
    "region_work",
    "Measured",
    "Measurer",
    "EffortBaseline",
    "EffortBaselines",
    "EffortTally",
    "SpentAction",
    "effort_baseline",
    "effort_tally",
    "Movement",
    "movements",
    "before_after_chart",
    "effect_direction",
    "RoundValues",
    "Window",
    "window_of",
    "Cluster",
    "ClusterRound",
    "ComparisonContext",
    "ComparisonKind",
    "FINDING_FIELDS",
    "FollowupTarget",
    "DigestItem",
    "Reminder",  # deprecated: answer DigestItem
    "reminder_footer",  # deprecated
    "receives_digest",
    "receives_mail",
    "notify",
    "post_notification",
    "NotificationKind",
    "NotificationSubject",
    "watchers",
    "compose",
    "reminder_link",
    "in_locale",
    "cluster_ids_of",
    "cluster_rounds",
    "first_rounds_after",
    "forum_rounds",
    "ForumRounds",
    "Coverage",
    "cluster_pseudonyms",
    "Programme",
    "ProgrammeCluster",
    "Workshop",
    "find_indicator_set",
    "indicator_sets_for",
    "pick_text",
    "comparison_kinds",
    "followup_targets",
    "joint_plans",
    "latest_rounds",
    "round_days",
    "rounds_fingerprint",
    "shared_key",
    "shared_value",
    "FlaskForm",
    "UpToThisYear",
    "IndicatorSet",
    "Keep",
    "region_version",
    "ClusterEvidence",
    "Earliest",
    "EvidenceData",
    "LabelData",
    "LabelScheme",
    "Level",
    "RoundData",
    "RuleResult",
    "Validity",
    "Verdict",
    "add_months",
    "current_locale",
    "exact",
    "format_share",
    "months_between",
    "share_shown",
    "award_label",
    "cluster_evidence",
    "correct_round",
    "months_apart",
    "record_label_evidence",
    "save_round",
    "valid_until",
    "MemberOrganisation",
    "MemberType",
    "MigrationBranch",
    "Model",
    "NavItem",
    "Panel",
    "Role",
    "ServiceError",
    "ConflictError",
    "Versioned",
    "VersionedForm",
    "saving",
    "check_version",
    "form_status",
    "cluster_managers",
    "people_of",
    "CSV_MIME",
    "XLSX_MIME",
    "download_name",
    "to_csv",
    "to_xlsx",
    "EXAMPLE_COLUMN",
    "EXAMPLE_MARK",
    "FileProblem",
    "ImportProblem",
    "ImportStep",
    "Importer",
    "cell_text",
    "check_upload",
    "confirm_import",
    "import_status",
    "import_target_id",
    "start_import_job",
    "to_import_job",
    "is_blank",
    "parse_date",
    "parse_float",
    "parse_int",
    "raw_text",
    "read_table",
    "row_too_long",
    "table_problems",
    "Tenant",
    "TenantBlueprint",
    "TenantScoped",
    "Timestamped",
    "User",
    "ValuesView",
    "values_view",
    "pdf_response",
    "report_audience",
    "_",
    "_l",
    "current_tenant",
    "current_user",
    "db",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_money",
    "FieldWords",
    "register_history_words",
    "register_import_kind",
    "file_storage",
    "storage_key_for",
    "send_stored_object",
    "StorageUnavailable",
    "StoredObjectMissing",
    "get_or_404",
    "hookimpl",
    "is_htmx",
    "login_required",
    "may",
    "ngettext",
    "page_args",
    "plugin_enabled",
    "render_template",
    "require",
    "role_in",
    "tenant_scope",
    "unscoped",
    "wants_fragment",
]


class TenantBlueprint(Blueprint):
    """A blueprint whose pages live under ``/<tenant>/<url_prefix>``.

    The tenant is put in scope, membership is checked, and the pages answer 404
    in tenants that have not switched the owning plugin on.
    """

    def __init__(self, name: str, import_name: str, url_prefix: str = "", **kwargs: Any):
        super().__init__(name, import_name, url_prefix="/<tenant>" + url_prefix, **kwargs)


@dataclass
class NavItem:
    """A main-navigation entry. ``endpoint`` is built with ``url_for``."""

    label: str
    endpoint: str
    order: int = 100
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Panel:
    """A box on a page: the core renders ``template`` with ``context`` under ``title``.

    ``own_rows_only``: the panel shows nothing but the plugin's own rows and the page's
    subject's own row (the ``region`` scope covers them), so a kept page's frame may keep it
    through writes to the core's actions and plans (``portal.web.page_frames``)."""

    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100
    own_rows_only: bool = False


@dataclass
class MigrationBranch:
    """A plugin's own Alembic history, kept in the version table ``alembic_version_<name>``.

    ``tables`` names the tables the branch owns (autogenerate compares only those).
    """

    name: str
    versions_dir: str
    tables: tuple[str, ...] = ()

    @property
    def version_table(self) -> str:
        return f"alembic_version_{self.name}"


def current_locale() -> str:
    """The language of the current request (or of ``in_locale``), e.g. "nb"; "en" outside
    a request. Pass it to ``pick_text`` for texts that data carries per language."""
    from flask_babel import get_locale

    return str(get_locale() or "en")


def current_tenant() -> Tenant | None:
    """The tenant of the current request, or ``None`` outside a tenant's pages."""
    return g.get("tenant")


def region_version(tenant_id: int) -> int:
    """The version of the region's rows that no finer cache scope lists (every plugin's own
    tables, rounds, labels, clusters, members): it rises with each write to them, and not with
    a write to the core's actions, plans or programmes. Key a ``Keep`` on it for what a plugin
    works out from its own tables (a page that was kept read it already: no query)."""
    return scope_version(tenant_id, cache_scopes.REGION)


def plugin_enabled(plugin_name: str, tenant: Tenant | None = None) -> bool:
    tenant = tenant or current_tenant()
    host = current_app.extensions["portal_plugins"]
    return tenant is not None and host.is_enabled(plugin_name, tenant.id)


# --- benchmarking rounds and labels, through the same services as the pages -------------


def save_round(
    cluster: Cluster,
    indicator_set: IndicatorSet,
    held_on: Any,
    values: dict[str, float],
    *,
    audit: bool = False,
    assessor: str = "",
    notes: str = "",
    user: User | None = None,
    kind: str | None = None,
    confirm: bool | None = None,
) -> Any:
    """Store a round of ``cluster`` (values by indicator id; the traffic lights are
    computed). ``kind``: "benchmarking" (default; "audit" with ``audit=True``) or
    "self_assessment". ``user`` None acts as the system (no permission check; the round is
    confirmed unless ``confirm=False``); otherwise the user needs the right to enter that
    kind. Bad values raise ``ServiceError``; answers the round."""
    from portal.benchmarking.services import save_round as _save

    data = {"held_on": held_on, "assessor": assessor, "notes": notes, "audit": audit}
    if kind is not None:
        data["kind"] = kind
    if confirm is not None:
        data["confirm"] = confirm
    return _save(user, cluster, indicator_set, data, {k: (v, "") for k, v in values.items()})


def correct_round(
    round_: Any, values: dict[str, float], reason: str, *, user: User | None = None
) -> Any:
    """Correct a confirmed round (an expert's result) with a reason: the replaced revision is
    kept with its values. ``user`` None acts as the system; otherwise ``round.correct``
    (assessors) is checked. Values by indicator id replace the round's values."""
    from portal.benchmarking.services import correct_round as _correct
    from portal.benchmarking.services import find_set

    indicator_set = find_set(round_.indicator_set, round_.set_version)
    data = {"held_on": round_.held_on, "assessor": round_.assessor, "notes": round_.notes}
    data["reason"] = reason
    return _correct(user, round_, indicator_set, data, {k: (v, "") for k, v in values.items()})


def cluster_evidence(cluster_id: int) -> ClusterEvidence:
    """What label rules look at: the cluster's rounds, labels and recorded evidence."""
    from portal.labels.services import cluster_evidence as _evidence

    return _evidence(cluster_id)


def record_label_evidence(
    cluster: Cluster,
    scheme_id: str,
    kind: str,
    text: str,
    *,
    indicator_id: str = "",
    on: Any = None,
    user: User | None = None,
) -> Any:
    """Record evidence for a label: ``kind`` "improvement" (with ``indicator_id``) or
    "expert_review"; ``on`` is the day it happened (default today; a day in the future is
    refused with ``ServiceError``). Rules count it from that day on."""
    from portal.labels.services import record_evidence

    return record_evidence(user, cluster, scheme_id, kind, text, indicator_id, on)


def award_label(
    cluster: Cluster,
    scheme: LabelScheme,
    level_id: str,
    on: Any,
    *,
    score: float | None = None,
    notes: str = "",
    user: User | None = None,
) -> Any:
    """Award a level after checking every rule on day ``on`` (``ServiceError`` otherwise);
    the label keeps the scheme version, date, score and expiry. ``on`` may be a past day (a
    real award of that day): only what happened up to it counts. An award that would expire
    on or before its own day is refused."""
    from portal.labels.services import award

    return award(user, cluster, scheme, level_id, on, score, notes)


def indicator_sets_for(tenant_id: int) -> list[IndicatorSet]:
    """The indicator sets of the plugins the tenant switched on, newest version first."""
    from portal.benchmarking.services import available_sets

    return available_sets(tenant_id)


def find_indicator_set(set_id: str, version: str) -> IndicatorSet | None:
    """An installed indicator set version (whether or not a tenant switched it on)."""
    from portal.benchmarking.services import find_set

    return find_set(set_id, version)


def cluster_ids_of(user: User | None, tenant: Tenant | int | None) -> frozenset[int]:
    """The clusters a cluster manager or member is tied to in the tenant (none for others)."""
    from portal.permissions import membership_for

    membership = membership_for(user, tenant)
    return frozenset(membership.cluster_ids) if membership is not None else frozenset()


def cluster_managers(cluster_ids: Any) -> dict[int, list[User]]:
    """The active cluster managers of each cluster of the tenant in scope: one query."""
    from sqlalchemy import select

    from portal.accounts.models import Membership, MembershipCluster

    ids = set(cluster_ids)
    found: dict[int, list[User]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = db.session.execute(
        select(MembershipCluster.cluster_id, User)
        .join(Membership, Membership.id == MembershipCluster.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(
            MembershipCluster.cluster_id.in_(ids),
            Membership.role == Role.CLUSTER_MANAGER,
            Membership.active.is_(True),
            User.active.is_(True),
        )
        .order_by(User.name, User.id)
    )
    for cluster_id, user in rows:
        found[cluster_id].append(user)
    return found


def people_of(
    tenant_id: int, *, owners: bool = False, everyone: bool = False
) -> list[tuple[int, str]]:
    """(id, name) of the people with an active role in the tenant, by name: one query; a
    deactivated membership (or account) is never offered anew. ``owners``: only those who may
    own or lead something and so edit it (not observers or assessors). ``everyone``: the
    deactivated too (to recognise who holds something already, or to show names)."""
    from portal.plans.services import people_choices

    return people_choices(tenant_id, owners=owners, everyone=everyone)
