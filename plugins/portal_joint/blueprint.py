"""The plugin's one blueprint (pages under /<tenant>/joint)."""

from __future__ import annotations

from portal.toolkit import TenantBlueprint

bp = TenantBlueprint("joint", __name__, url_prefix="/joint")
