"""The measured baselines of the joint actions' indicators (the core's
``toolkit.EffortBaselines``), for the effort saved on the board, the action's page and the
export: two queries for all the actions given, none when no action is linked to an indicator.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from portal.toolkit import EffortBaselines, Tenant, current_tenant, current_user, db, values_view


def keys_of(action: Any) -> list[tuple[str, str, str]]:
    return [(i.indicator_set, i.set_version, i.indicator_id) for i in action.indicators]


def for_actions(actions: Iterable[Any]) -> dict[int, dict[str, Any]]:
    """Action id -> unit -> its baseline, for actions whose indicators are loaded."""
    actions = [a for a in actions if a.indicators]
    if not actions:
        return {}
    tenant = current_tenant() or db.session.get(Tenant, actions[0].tenant_id)
    keys = [k for a in actions for k in keys_of(a)]
    loaded = EffortBaselines(tenant, keys, view=values_view(current_user, tenant))
    return {a.id: loaded.of(keys_of(a)) for a in actions}
