"""The installed label schemes, by (id, version), with the plugin that ships each."""

from __future__ import annotations

from flask import current_app

from portal.labels.scheme import LabelScheme


def schemes() -> dict[tuple[str, str], tuple[str, LabelScheme]]:
    return current_app.extensions["portal_plugins"].versioned("label_schemes")
