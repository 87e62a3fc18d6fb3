"""The plugin's one blueprint; pages register on it from views.py and reference_views.py."""

from __future__ import annotations

from portal.toolkit import TenantBlueprint

bp = TenantBlueprint("compare", __name__, url_prefix="/compare")
