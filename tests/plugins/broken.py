"""Plugins that fail: in a hook, and in a panel template."""

from portal.toolkit import Panel, hookimpl


class RaisesInHook:
    @hookimpl
    def dashboard_panels(self, tenant, user):
        raise RuntimeError("boom in dashboard_panels")


class BadTemplate:
    @hookimpl
    def cluster_panels(self, cluster, user):
        return [Panel("Broken panel", "no/such/template.html")]
