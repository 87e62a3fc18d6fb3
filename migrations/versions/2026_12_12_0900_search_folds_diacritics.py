"""search on PostgreSQL folds diacritics as SQLite's FTS5 does (unicode61 remove_diacritics):
"malmo" finds "Malmö", "cafe" "Café". The generated tsvector is made again over the text with
each Latin letter that carries a diacritic (a base letter and combining marks) replaced by its
base letter (translate(): immutable, no extension needed); the query's words are folded the
same way (portal.search.query.FOLD, which a test compares with the letters below). Letters
that are no base letter with a mark stay (ø, æ, ł, ß), as on SQLite. Nothing on SQLite.

Revision ID: 8c1e5a7d3b20
Revises: 6f2a9c4e8b17
Create Date: 2026-12-12 09:00:00
"""

from alembic import op

revision = "8c1e5a7d3b20"
down_revision = "6f2a9c4e8b17"
branch_labels = None
depends_on = None

# Fixed here as they were when this migration was written (the query side computes the same).
FOLD_FROM = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǦǧǨǩǪǫǬǭǰǴǵǸǹǺǻȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ"
FOLD_TO = "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuUuAaAaGgKkOoOojGgNnAaAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYy"
TEXT = "coalesce(title, '') || ' ' || coalesce(body, '')"
FOLDED = f"translate({TEXT}, '{FOLD_FROM}', '{FOLD_TO}')"


def _document(expression: str) -> None:
    op.execute("DROP INDEX IF EXISTS ix_search_entry_document")
    op.execute("ALTER TABLE search_entry DROP COLUMN IF EXISTS document")
    op.execute(
        "ALTER TABLE search_entry ADD COLUMN document tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('simple'::regconfig, {expression})) STORED"
    )
    op.execute("CREATE INDEX ix_search_entry_document ON search_entry USING gin (document)")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _document(FOLDED)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _document(TEXT)
