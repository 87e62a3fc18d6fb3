"""The two full-text engines behind ``portal.search.index``: each says how a row matches, how
well, and how its title and body read with the matches marked.

Both mark a match between START and STOP (control characters the index never holds), which
``index`` turns into <mark> after escaping the text.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, bindparam, column, func, literal_column, table, text

from portal.search.models import SearchEntry
from portal.search.query import Terms, fts5_query, tsquery
from portal.search.schema import DOCUMENT_COLUMN, FTS_TABLE

START = "\x02"
STOP = "\x03"


class SQLiteBackend:
    """FTS5 (unicode61 tokenizer, diacritics folded) over ``search_entry``."""

    def __init__(self, terms: Terms) -> None:
        self.fts = table(FTS_TABLE, column("rowid"))
        self.query = fts5_query(terms)

    def join(self, stmt):
        return stmt.join(self.fts, self.fts.c.rowid == SearchEntry.id)

    def matches(self) -> ColumnElement:
        return text(f"{FTS_TABLE} MATCH :search_query").bindparams(
            bindparam("search_query", self.query)
        )

    def order(self) -> list:
        # bm25: smaller is better.
        return [literal_column(f"{FTS_TABLE}.rank"), SearchEntry.id]

    def marked(self) -> tuple[ColumnElement, ColumnElement]:
        fts = literal_column(FTS_TABLE)
        return (
            func.highlight(fts, 0, START, STOP),
            func.snippet(fts, 1, START, STOP, "…", 24),
        )


class PostgresBackend:
    """A generated tsvector ('simple' configuration: every language alike) with a GIN index."""

    def __init__(self, terms: Terms) -> None:
        self.tsquery = func.to_tsquery(
            literal_column("'simple'::regconfig"), bindparam("search_query", tsquery(terms))
        )
        self.document = literal_column(f"search_entry.{DOCUMENT_COLUMN}")

    def join(self, stmt):
        return stmt

    def matches(self) -> ColumnElement:
        return self.document.op("@@")(self.tsquery)

    def order(self) -> list:
        return [func.ts_rank(self.document, self.tsquery).desc(), SearchEntry.id]

    def marked(self) -> tuple[ColumnElement, ColumnElement]:
        simple = literal_column("'simple'::regconfig")
        marks = f"StartSel={START}, StopSel={STOP}"
        return (
            func.ts_headline(
                simple, SearchEntry.title, self.tsquery, f"HighlightAll=true, {marks}"
            ),
            func.ts_headline(
                simple,
                SearchEntry.body,
                self.tsquery,
                f'MaxWords=24, MinWords=8, MaxFragments=2, FragmentDelimiter=" … ", {marks}',
            ),
        )


def backend_for(dialect_name: str, terms: Terms):
    if dialect_name == "postgresql":
        return PostgresBackend(terms)
    return SQLiteBackend(terms)
