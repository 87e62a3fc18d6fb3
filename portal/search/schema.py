"""The dialect's own full-text objects of the search index, made by the migration only.

Alembic's comparison of models and database must not take them for leftovers: the
``include_object`` filters of the migrations and of ``migrations_runner.differences`` ask
:func:`is_fulltext_internal`.
"""

from __future__ import annotations

# SQLite: the FTS5 table (and the shadow tables FTS5 makes, named after it).
FTS_TABLE = "search_fts"
# PostgreSQL: the generated tsvector column of search_entry and its GIN index.
DOCUMENT_COLUMN = "document"
DOCUMENT_INDEX = "ix_search_entry_document"


def is_fulltext_internal(obj, name, type_, reflected, compare_to) -> bool:
    if not reflected or compare_to is not None:
        return False
    if type_ == "table":
        return bool(name) and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    table = getattr(getattr(obj, "table", None), "name", "")
    if type_ == "column":
        return table == "search_entry" and name == DOCUMENT_COLUMN
    if type_ == "index":
        return name == DOCUMENT_INDEX
    return False
