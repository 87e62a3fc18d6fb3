"""The installed label schemes, by (id, version), with the plugin that ships each."""

from __future__ import annotations

from flask import current_app

from portal.labels.scheme import LabelScheme


def schemes() -> dict[tuple[str, str], tuple[str, LabelScheme]]:
    app = current_app._get_current_object()
    if "portal_label_schemes" not in app.extensions:
        found = {}
        for plugin_name, items in app.extensions["portal_plugins"].call_named("label_schemes"):
            for scheme in items:
                found[(scheme.id, scheme.version)] = (plugin_name, scheme)
        app.extensions["portal_label_schemes"] = found
    return app.extensions["portal_label_schemes"]
