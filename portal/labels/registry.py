"""The installed label schemes, by (id, version), with the plugin that ships each."""

from __future__ import annotations

from flask import current_app

from portal.labels.scheme import LabelScheme


def schemes() -> dict[tuple[str, str], tuple[str, LabelScheme]]:
    return current_app.extensions["portal_plugins"].versioned("label_schemes")


def level_badge(scheme_id: str, version: str, level_id: str) -> tuple[str, str]:
    """(name, tone) of a stored label's level, from its scheme version, else the scheme's
    newest version; the bare id when the plugin is gone."""
    registry = schemes()
    entry = registry.get((scheme_id, version))
    if entry is None:
        versions = sorted(v for s, v in registry if s == scheme_id)
        entry = registry.get((scheme_id, versions[-1])) if versions else None
    level = entry[1].level(level_id) if entry else None
    if level is None:
        return level_id, ""
    return str(level.name), level.tone


def scheme_title(scheme_id: str) -> str:
    versions = sorted(v for s, v in schemes() if s == scheme_id)
    return str(schemes()[(scheme_id, versions[-1])][1].title) if versions else scheme_id
