"""Alembic environment shared by the core and every plugin branch.

The core history uses the version table ``alembic_version``; each plugin branch
passes its own version table and the tables it owns (``portal.migrations_runner``).
"""

import logging

from alembic import context
from flask import current_app

log = logging.getLogger("alembic.env")
config = context.config

db = current_app.extensions["migrate"].db
target_metadata = db.metadata
version_table = config.attributes.get("version_table", "alembic_version")
owned_tables = config.attributes.get("owned_tables")  # None: the core, i.e. not any plugin's
plugin_tables = set(config.attributes.get("plugin_tables", ()))


def include_object(obj, name, type_, reflected, compare_to):
    from portal.search.schema import is_fulltext_internal

    if is_fulltext_internal(obj, name, type_, reflected, compare_to):
        return False  # the search index's full-text part: in the migration only
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", "")
    if table_name and table_name.startswith("alembic_version"):
        return False
    if owned_tables is not None:
        return table_name in owned_tables
    return table_name not in plugin_tables


def run_migrations_offline():
    context.configure(
        url=str(db.engine.url),
        target_metadata=target_metadata,
        literal_binds=True,
        version_table=version_table,
        include_object=include_object,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connection = config.attributes.get("connection")
    if connection is None:
        with db.engine.connect() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection):
    # SQLite's batch mode copies a table and drops the old one; with foreign keys on (the
    # portal turns them on for every connection), that drop cascades to every child row and
    # a migration would delete the region's data. They are off while migrating (set outside
    # a transaction: SQLite ignores the pragma inside one) and checked before they are on
    # again.
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        if connection.in_transaction():
            connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=version_table,
            include_object=include_object,
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left rows without their parents: {broken[:5]}")
    finally:
        if sqlite:
            if connection.in_transaction():
                connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
