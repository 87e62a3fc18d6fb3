"""Reference portfolio imports that must be refused: bad rows, bad files, generated bad files
(never a 500, nothing written); the helpers are in tests/test_compare_references.py."""

from __future__ import annotations

import html
import io
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.extensions import db
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import login

pytest.importorskip("portal_compare")

from portal_compare import reference_format, reference_import  # noqa: E402
from portal_compare.models import (  # noqa: E402
    ReferencePortfolio,
)
from portal_compare.stats import summarise  # noqa: E402

from tests.test_compare_references import (  # noqa: E402
    AGGREGATE_HEADER,
    CLUSTER_HEADER,
    CLUSTER_ROWS,
    IMPORT,
    _counts,
    _csv,
    _indicator_set,
    _stored,
    _upload,
    _xlsx,
    with_compare,
)


@pytest.fixture
def esca(app, world, factory):
    return with_compare(world, factory)


# --- bad files -------------------------------------------------------------------------------

BAD_CLUSTER_ROWS = [
    # (rows, row, column, message)
    ([["DK-09", "happiness", "3"]], 2, "indicator", "has no indicator “happiness”"),
    ([["DK-09", "", "3"]], 2, "indicator", "The indicator is missing"),
    ([["", "engagement", "3"]], 2, "cluster", "The cluster label is missing"),
    ([["X" * 101, "engagement", "3"]], 2, "cluster", "At most 100 characters"),
    ([["DK-09", "engagement", "lots"]], 2, "value", "“lots” is not a number"),
    ([["DK-09", "engagement", "nan"]], 2, "value", "“nan” is not a number"),
    ([["DK-09", "engagement", "1e999"]], 2, "value", "is not a number"),
    ([["DK-09", "engagement", "٣"]], 2, "value", "is not a number"),
    ([["DK-09", "engagement", ""]], 2, "value", "The value is missing"),
    ([["DK-09", "engagement", "7"]], 2, "value", "Between 0 and 5"),
    ([["DK-09", "engagement", "-0,5"]], 2, "value", "Between 0 and 5"),
    (
        [["DK-09", "engagement", "3"], ["DK-09", "engagement", "4"]],
        3,
        "indicator",
        "The cluster DK-09 has the indicator engagement twice (also in row 3)",
    ),
    ([["DK-09", "engagement", "3", "x"]], 2, "", "The row has 4 cells; the header has 3"),
]


@pytest.mark.parametrize(("rows", "line", "column", "message"), BAD_CLUSTER_ROWS)
def test_bad_cluster_rows_name_row_and_column_and_write_nothing(
    app, client, esca, rows, line, column, message
):
    login(client, "coord@a.example")
    # the good rows of the same file are not written either
    response = _upload(client, _csv([CLUSTER_ROWS[0], *rows]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page, page
    assert f"<td>{line + 1}</td><td>{column}</td>" in page
    assert "Nothing was imported" in page
    assert _counts(app) == (0, 0)


def _agg(indicator="engagement", count="29", mn="", q1="2", median="3", q3="4", mx="",
         red="", yellow="", green=""):  # fmt: skip
    return [indicator, count, mn, q1, median, q3, mx, red, yellow, green]


BAD_AGGREGATE_ROWS = [
    ([_agg(indicator="happiness")], 2, "indicator", "has no indicator “happiness”"),
    ([_agg(), _agg()], 3, "indicator", "The indicator engagement appears twice (also in row 2)"),
    ([_agg(count="0")], 2, "count", "“0” is not a whole number of clusters"),
    ([_agg(count="2.5")], 2, "count", "“2.5” is not a whole number of clusters"),
    ([_agg(count="many")], 2, "count", "“many” is not a whole number of clusters"),
    ([_agg(count="")], 2, "count", "The count is missing"),
    ([_agg(q1="")], 2, "q1", "The value is missing"),
    ([_agg(median="middling")], 2, "median", "“middling” is not a number"),
    ([_agg(q3="6")], 2, "q3", "Between 0 and 5"),
    ([_agg(mx="-1")], 2, "max", "Between 0 and 5"),
    ([_agg(q1="3.5")], 2, "median", "q1 (3.5) is above median (3)"),
    ([_agg(median="4.5")], 2, "q3", "median (4.5) is above q3 (4)"),
    ([_agg(mn="2.5")], 2, "q1", "min (2.5) is above q1 (2)"),
    ([_agg(mx="3.5")], 2, "max", "q3 (4) is above max (3.5)"),
    ([_agg(red="0.2", yellow="0.3")], 2, "green", "Give all three light shares"),
    ([_agg(red="0.2", yellow="0.3", green="0.3")], 2, "red, yellow, green", "add up to 0.8"),
    ([_agg(red="20", yellow="30", green="50")], 2, "red", "“20” is not a share"),
    ([_agg(red="20 %", yellow="30%", green="60%")], 2, "red, yellow, green", "add up to 1.1"),
    ([_agg(red="-0.1", yellow="0.6", green="0.5")], 2, "red", "is not a share"),
    ([_agg(red="%", yellow="0.5", green="0.5")], 2, "red", "“%” is not a share"),
]


@pytest.mark.parametrize(("rows", "line", "column", "message"), BAD_AGGREGATE_ROWS)
def test_bad_aggregate_rows_name_row_and_column_and_write_nothing(
    app, client, esca, rows, line, column, message
):
    login(client, "coord@a.example")
    response = _upload(client, _csv(rows, header=AGGREGATE_HEADER), kind="aggregates")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page, page
    assert f"<td>{line}</td><td>{column}</td>" in page
    assert _counts(app) == (0, 0)


def test_set_columns_must_name_the_chosen_set(app, client, esca):
    header = [*CLUSTER_HEADER, "indicator_set", "version"]
    login(client, "coord@a.example")
    response = _upload(client, _csv([["DK-01", "engagement", "3", "esca-gold", "2099"]], header))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<td>2</td><td>version</td>" in page
    assert "“2099” does not match the chosen indicator set esca-gold 2013" in page


def _xlsx_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", b"\0" * (51 * 1024 * 1024))
    return out.getvalue()


BAD_FILES = [
    (b"", "The file is empty"),
    (b"\n ,,\n", "The file is empty"),
    (_csv([]), "The file has a header but no rows"),
    (_csv([["DK-01", "engagement"]], header=["cluster", "indicator"]), "The column “value” is"),
    (_csv([["DK-01", "engagement", "3", "x"]], header=[*CLUSTER_HEADER, "colour"]), "Unknown"),
    (_csv([["DK-01", "engagement", "3", "x"]], header=[*CLUSTER_HEADER, "value"]), "twice"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "neither an Excel (XLSX) file nor a UTF-8"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "neither an Excel (XLSX) file nor a UTF-8"),
    (b"PK\x03\x04 not really a zip", "not a readable Excel (XLSX) file"),
    (_xlsx_bomb(), "too large when unpacked"),
    (b'cluster,indicator,value\n"DK-01,engagement,3\n', None),  # an unclosed quote: one cell
]


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_bad_files_are_explained_and_write_nothing(app, client, esca, content, message):
    login(client, "coord@a.example")
    response = _upload(client, content)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nothing was imported" in page
    if message:
        assert message in page
    assert _counts(app) == (0, 0)


def test_too_many_rows_and_too_many_bytes_are_refused(app, client, esca, monkeypatch):
    login(client, "coord@a.example")
    rows = [[f"DK-{n:05d}", "engagement", "3"] for n in range(reference_import.MAX_ROWS + 1)]
    # A file this large (1 MB) is checked by a job: its page says why nothing is kept.
    monkeypatch.setitem(app.config, "IMPORT_JOBS_IN_REQUEST", True)
    response = _upload(client, _csv(rows))
    assert response.status_code == 303, response.get_data(as_text=True)[:1000]
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "more than 50000 rows" in job_page and "Nothing was written." in job_page
    monkeypatch.setattr(reference_format, "MAX_FILE_BYTES", 1000)
    response = _upload(client, _csv(CLUSTER_ROWS * 10))
    assert response.status_code == 422 and "The file is larger than" in response.get_data(
        as_text=True
    )
    assert _counts(app) == (0, 0)


def test_the_name_is_required_short_and_unique_per_set_version(app, client, esca):
    login(client, "coord@a.example")
    for name, message in (("", "Give the portfolio a name."), ("x" * 201, "At most 200")):
        response = _upload(client, _csv(CLUSTER_ROWS), name=name)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _upload(client, _csv(CLUSTER_ROWS), name="Danish 2016").status_code == 302
    response = _upload(client, _csv(CLUSTER_ROWS), name="  danish 2016 ")
    assert response.status_code == 422
    assert "has a reference portfolio named “danish 2016” for esca-gold 2013 already" in (
        response.get_data(as_text=True)
    )
    assert _counts(app) == (1, 2)


def test_another_region_may_use_the_same_name(app, client, esca, factory):
    with app.test_request_context(), tenant_scope(esca["b"].id):
        db.session.add(
            ReferencePortfolio(
                tenant_id=esca["b"].id,
                name="Danish 2016",
                indicator_set="esca-gold",
                set_version="2013",
                source="clusters",
                cluster_count=5,
            )
        )
        db.session.commit()
    login(client, "coord@a.example")
    assert _upload(client, _csv(CLUSTER_ROWS), name="Danish 2016").status_code == 302


def test_errors_are_translated(app, client, esca):
    from portal.accounts.models import User

    with app.app_context(), unscoped():
        db.session.execute(
            User.__table__.update().where(User.email == "coord@a.example").values(locale="nb")
        )
        db.session.commit()
    login(client, "coord@a.example")
    page = _upload(client, _csv([["DK-01", "engagement", "7"]])).get_data(as_text=True)
    with app.test_request_context():
        from flask_babel import force_locale
        from flask_babel import gettext as _

        with force_locale("nb"):
            expected = _("Between %(low)s and %(high)s.", low="0", high="5")
    assert expected in page


# --- generated bad files: never a 500, nothing written ----------------------------------------

CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["DK-01", "engagement", "concentration", "3", "29", "0.5", "50%"]),
    st.integers(-10, 40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
BAD_VALUE = st.one_of(
    st.sampled_from(["", "lots", "nan", "inf", "-inf", "1e5", "1_0", "٣", "7", "-1", "5.01"]),
    st.floats(min_value=5.0001, allow_infinity=True, allow_nan=False).map(str),
    st.floats(max_value=-0.0001, allow_infinity=True, allow_nan=False).map(str),
    st.text(alphabet=st.characters(categories=["L", "P", "S"]), min_size=1, max_size=8),
)
# No NUL: a file with one is not a text file at all (refused whole, without a row).
BAD_COUNT = st.one_of(
    st.sampled_from(["", "0", "-3", "2.5", "x", "1e3", "2000000"]), st.text(min_size=1, max_size=5)
).filter(lambda v: "\x00" not in v and not re.fullmatch(r"\s*\+?0*[1-9]\d{0,5}(\.0*)?\s*", v))


@st.composite
def bad_files(draw):
    """A file that must be refused as a whole, and the row and column of one of its errors
    (None when only the file as a whole is wrong)."""
    kind = draw(st.sampled_from(["bytes", "cells", "value", "aggregate", "xlsx"]))
    if kind == "bytes":
        raw = draw(st.binary(max_size=300))
        return raw, "clusters", None
    if kind == "cells":
        header = draw(
            st.lists(st.sampled_from([*CLUSTER_HEADER, "colour", "", "count"]), max_size=5)
        )
        rows = draw(st.lists(st.lists(CELL, max_size=6), max_size=6))
        header = header or ["colour"]
        rows.append(["happiness"] * len(header))  # an unknown indicator: never a good file
        return _csv(rows, header=header), "clusters", None
    if kind in ("value", "xlsx"):
        rows = [[f"DK-{n:02d}", "engagement", str(n % 6)] for n in range(draw(st.integers(1, 8)))]
        at = draw(st.integers(0, len(rows) - 1))
        rows[at][2] = draw(BAD_VALUE)
        if kind == "xlsx":
            return _xlsx(rows), "clusters", (at + 2, "value")
        return _csv(rows), "clusters", (at + 2, "value")
    good = [_agg(indicator=i) for i in ("engagement", "concentration", "maturity")]
    at = draw(st.integers(0, len(good) - 1))
    column = draw(st.sampled_from(["count", "q1", "median", "q3"]))
    good[at][AGGREGATE_HEADER.index(column)] = draw(BAD_COUNT if column == "count" else BAD_VALUE)
    return _csv(good, header=AGGREGATE_HEADER), "aggregates", (at + 2, column)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=bad_files(), dry_run=st.booleans())
def test_generated_bad_files_are_refused_whole_never_a_500(app, client, esca, case, dry_run):
    content, kind, where = case
    if client.get(IMPORT).status_code != 200:
        login(client, "coord@a.example")
    response = _upload(client, content, kind=kind, dry_run=dry_run)
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page
    assert "Nothing was imported" in page
    if where is not None:
        assert f"<td>{where[0]}</td><td>{where[1]}</td>" in page
    assert _counts(app) == (0, 0)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.dictionaries(
        st.sampled_from(["engagement", "concentration", "maturity"]),
        st.lists(st.integers(0, 10).map(lambda n: n / 2), min_size=1, max_size=12),
        min_size=1,
    )
)
def test_generated_good_files_aggregate_like_the_forum(app, values):
    indicator_set = _indicator_set(app)
    rows = [
        [f"C{n}", indicator, f"{value:g}"]
        for indicator, numbers in values.items()
        for n, value in enumerate(numbers)
    ]
    with app.test_request_context():
        outcome = reference_import.check_file(_csv(rows), "clusters", indicator_set)
    assert not outcome.errors
    assert outcome.cluster_count == max(len(v) for v in values.values())
    assert {a.indicator_id for a in outcome.aggregates} == set(values)
    for aggregate in outcome.aggregates:
        numbers = values[aggregate.indicator_id]
        indicator = indicator_set.indicator(aggregate.indicator_id)
        summary = summarise(numbers, [indicator.light(v) for v in numbers])
        assert (aggregate.count, aggregate.minimum, aggregate.q1, aggregate.median) == (
            summary.count,
            summary.minimum,
            summary.q1,
            summary.median,
        )
        assert (aggregate.q3, aggregate.maximum) == (summary.q3, summary.maximum)
        assert aggregate.red + aggregate.yellow + aggregate.green == pytest.approx(1)
        assert aggregate.green == summary.lights["green"] / summary.count


@pytest.mark.parametrize(
    ("clusters", "line", "message"),
    [
        (["12", "x"], 3, "“x” is not a whole number of clusters"),
        (["12", "13"], 3, "must be the same in every row (12 in row 2)"),
        (["20", ""], 2, "The portfolio's number of clusters (20) is below the count of"),
    ],
)
def test_the_number_of_clusters_is_one_whole_number_not_below_a_count(
    app, client, esca, clusters, line, message
):
    rows = [
        [*_agg(indicator="engagement", count="29"), clusters[0]],
        [*_agg(indicator="concentration", count="12"), clusters[1]],
    ]
    login(client, "coord@a.example")
    response = _upload(
        client, _csv(rows, header=[*AGGREGATE_HEADER, "clusters"]), kind="aggregates"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html.unescape(page), re.findall(
        r"<td>\d+</td><td>.*?</tr>", page
    )
    assert f"<td>{line}</td><td>clusters</td>" in page
    assert _counts(app) == (0, 0)
    rows[0][-1] = rows[1][-1] = "30"
    response = _upload(
        client, _csv(rows, header=[*AGGREGATE_HEADER, "clusters"]), kind="aggregates"
    )
    assert response.status_code == 302
    assert _stored(app)["Danish clusters 2016 (5)"][2] == 30
