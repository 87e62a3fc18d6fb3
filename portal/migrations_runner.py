"""Running the core's and the plugins' Alembic histories.

The core keeps its version in ``alembic_version``; each plugin branch in
``alembic_version_<name>``, so a plugin can be added or removed without touching
the core's history. Upgrades run the core first; downgrades the plugins first.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from portal import paths
from portal.extensions import db

FILE_TEMPLATE = "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s"


@dataclass
class Target:
    name: str  # "core" or the plugin branch name
    config: Config


def _base_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(paths.MIGRATIONS_DIR))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("truncate_slug_length", "40")
    config.set_main_option("path_separator", "os")
    return config


def branches(app: Flask) -> list:
    host = app.extensions["portal_plugins"]
    return host.call_flat("migration_branches")


def targets(app: Flask) -> list[Target]:
    plugin_branches = branches(app)
    plugin_tables = {t for b in plugin_branches for t in b.tables}
    core = _base_config()
    core.attributes["plugin_tables"] = plugin_tables
    result = [Target("core", core)]
    for branch in plugin_branches:
        config = _base_config()
        config.set_main_option("version_locations", str(branch.versions_dir))
        config.attributes["version_table"] = branch.version_table
        config.attributes["owned_tables"] = set(branch.tables)
        result.append(Target(branch.name, config))
    return result


def upgrade_all(app: Flask, revision: str = "head") -> None:
    for target in targets(app):
        command.upgrade(target.config, revision if target.name == "core" else "head")


def downgrade_all(app: Flask) -> None:
    """Everything back to an empty database (plugins first)."""
    for target in reversed(targets(app)):
        command.downgrade(target.config, "base")


def heads(app: Flask) -> dict[str, list[str]]:
    return {t.name: list(ScriptDirectory.from_config(t.config).get_heads()) for t in targets(app)}


def current(app: Flask) -> dict[str, str | None]:
    result = {}
    with db.engine.connect() as conn:
        for target in targets(app):
            version_table = target.config.attributes.get("version_table", "alembic_version")
            context = MigrationContext.configure(conn, opts={"version_table": version_table})
            result[target.name] = context.get_current_revision()
    return result


def unmigrated(app: Flask) -> list[str]:
    """The histories (``core``, plugin branches) the database was never migrated to: each
    is missing its tables until ``portal db upgrade`` runs."""
    return [name for name, revision in current(app).items() if revision is None]


def differences() -> list:
    """What the models have that the migrations do not (empty when they match)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": _ignore_version_tables}
        )
        return compare_metadata(context, db.metadata)


def _ignore_version_tables(obj, name, type_, reflected, compare_to):
    from portal.search.schema import is_fulltext_internal

    if is_fulltext_internal(obj, name, type_, reflected, compare_to):
        return False  # the search index's full-text part: in the migration only
    return not (type_ == "table" and name and name.startswith("alembic_version"))


def revision(app: Flask, message: str, branch: str = "core", autogenerate: bool = True) -> None:
    for target in targets(app):
        if target.name == branch:
            command.revision(target.config, message=message, autogenerate=autogenerate)
            return
    raise LookupError(branch)
