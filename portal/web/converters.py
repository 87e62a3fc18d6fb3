"""URL converters of the whole app."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

# The largest id an integer column holds on every supported database (PostgreSQL's
# `integer` has 32 bits; SQLite's 64).
MAX_ROW_ID = 2**31 - 1


class RowIdConverter(IntegerConverter):
    """``<int:...>`` everywhere: a number above the largest row id matches no route (404),
    where it would fail in the database (a 500). The API's document states the maximum."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(
            map,
            fixed_digits=fixed_digits,
            min=min,
            max=MAX_ROW_ID if max is None else max,
            signed=signed,
        )


def init_converters(app) -> None:
    app.url_map.converters["int"] = RowIdConverter
