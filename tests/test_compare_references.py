"""Reference portfolios of the comparisons plugin: import (CSV/XLSX, per cluster or as
aggregates; all or nothing, never a 500), publishing a forum's aggregates to other
regions, withdrawing them, the settings page, the demo data and isolation."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from portal.extensions import db
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import ROLE_EMAILS, login
from tests.isolation_support import FORM, ROLES, SECRET, seed_other_tenant, snapshot

pytest.importorskip("portal_compare")

from portal_compare import reference_import  # noqa: E402
from portal_compare.models import (  # noqa: E402
    ReferenceIndicator,
    ReferencePortfolio,
)
from portal_compare.stats import summarise  # noqa: E402

BASE = "/nordland/compare"
IMPORT = f"{BASE}/references/import"
LIST = f"{BASE}/references/"
SET = "esca-gold:2013"
CLUSTER_HEADER = ["cluster", "indicator", "value"]
AGGREGATE_HEADER = [
    "indicator",
    "count",
    "min",
    "q1",
    "median",
    "q3",
    "max",
    "red",
    "yellow",
    "green",
]


@pytest.fixture
def esca(app, world, factory):
    for plugin in ("esca", "compare"):
        factory.enable_plugin(world["a"], plugin)
    return world


def _cell(value):
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _csv(rows, header=CLUSTER_HEADER, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _xlsx(rows, header=CLUSTER_HEADER) -> bytes:
    wb = Workbook()
    wb.active.append([_cell(c) for c in header])
    for row in rows:
        wb.active.append([_cell(c) for c in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client, content, *, kind="clusters", name="Danish clusters 2016 (5)", dry_run=False,
            filename="reference.csv", indicator_set=SET):  # fmt: skip
    data = {
        "file": (io.BytesIO(content), filename),
        "name": name,
        "kind": kind,
        "indicator_set": indicator_set,
    }
    if dry_run:
        data["dry_run"] = "y"
    return client.post(IMPORT, data=data, content_type="multipart/form-data")


def _counts(app) -> tuple[int, int]:
    with app.app_context(), unscoped():
        return (
            db.session.scalar(select(func.count()).select_from(ReferencePortfolio)),
            db.session.scalar(select(func.count()).select_from(ReferenceIndicator)),
        )


def _stored(app):
    """{name: (tenant id, source, clusters, published, {indicator: row as a tuple})}."""
    with app.app_context(), unscoped():
        result = {}
        for p in db.session.scalars(select(ReferencePortfolio)):
            rows = db.session.scalars(
                select(ReferenceIndicator).where(ReferenceIndicator.portfolio_id == p.id)
            )
            result[p.name] = (
                p.tenant_id,
                p.source,
                p.cluster_count,
                p.published,
                {
                    r.indicator_id: (
                        r.count,
                        r.minimum,
                        r.q1,
                        r.median,
                        r.q3,
                        r.maximum,
                        r.red_share,
                        r.yellow_share,
                        r.green_share,
                    )
                    for r in rows
                },
            )
        return result


def _indicator_set(app):
    from portal.toolkit import find_indicator_set

    with app.app_context():
        return find_indicator_set("esca-gold", "2013")


# --- good files ------------------------------------------------------------------------------

CLUSTER_ROWS = [
    ["DK-01", "engagement", "1"],
    ["DK-02", "engagement", "2"],
    ["DK-03", "engagement", "3,5"],
    ["DK-04", "engagement", "4"],
    ["DK-05", "engagement", "5"],
    ["DK-01", "concentration", "4"],
    ["DK-02", "concentration", "4.5"],
]


def test_a_per_cluster_file_is_stored_as_aggregates_only(app, client, esca):
    login(client, "coord@a.example")
    response = _upload(client, _csv(CLUSTER_ROWS, delimiter=";"))
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(LIST).get_data(as_text=True)
    assert "Danish clusters 2016 (5)" in page and "2 indicators, 5 clusters" in page
    stored = _stored(app)
    assert stored == {
        "Danish clusters 2016 (5)": (
            esca["a"].id,
            "clusters",
            5,
            False,
            {
                "engagement": (5, 1.0, 2.0, 3.5, 4.0, 5.0, 0.4, 0.2, 0.4),
                "concentration": (2, 4.0, 4.125, 4.25, 4.375, 4.5, 0.0, 0.0, 1.0),
            },
        )
    }
    # the same numbers as the comparisons compute for a forum
    summary = summarise([1, 2, 3.5, 4, 5])
    assert stored["Danish clusters 2016 (5)"][4]["engagement"][2:5] == (
        summary.q1,
        summary.median,
        summary.q3,
    )
    # the anonymous labels are not stored anywhere
    with app.app_context(), unscoped():
        for table in (ReferencePortfolio.__table__, ReferenceIndicator.__table__):
            for row in db.session.execute(select(table)):
                assert not any("DK-0" in str(v) for v in row)


def test_an_aggregates_xlsx_with_percentages_and_without_min_max(app, client, esca):
    rows = [
        ["engagement", 29, None, 2, 3, 4, None, "10%", "25,5 %", "64.5%"],
        ["concentration", 29.0, 0, 1.5, 2.5, 3, 5, 0.2, 0.3, 0.5],
        ["maturity", "12", "1", "2", "2", "3", "4", None, None, None],
    ]
    login(client, "coord@a.example")
    response = _upload(
        client,
        _xlsx(rows, header=AGGREGATE_HEADER),
        kind="aggregates",
        name="Norwegian clusters 2016 (29)",
        filename="norway.xlsx",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    name, (tenant_id, source, clusters, published, indicators) = next(iter(_stored(app).items()))
    assert (name, tenant_id, source, clusters, published) == (
        "Norwegian clusters 2016 (29)",
        esca["a"].id,
        "aggregates",
        29,
        False,
    )
    assert indicators["engagement"] == pytest.approx((29, None, 2, 3, 4, None, 0.1, 0.255, 0.645))
    assert indicators["concentration"] == (29, 0, 1.5, 2.5, 3, 5, 0.2, 0.3, 0.5)
    assert indicators["maturity"] == (12, 1, 2, 2, 3, 4, None, None, None)


def test_the_set_columns_may_be_in_the_file(app, client, esca):
    header = [*CLUSTER_HEADER, "indicator_set", "version"]
    rows = [[*row, "esca-gold", "2013"] for row in CLUSTER_ROWS]
    login(client, "coord@a.example")
    assert _upload(client, _csv(rows, header=header)).status_code == 302
    assert _counts(app) == (1, 2)


def test_the_preview_shows_the_aggregates_and_writes_nothing(app, client, esca):
    login(client, "coord@a.example")
    response = _upload(client, _csv(CLUSTER_ROWS), dry_run=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The file is fine: 2 indicators, 5 clusters." in page
    assert '<th scope="col" class="num">Median</th>' in page and "<code>engagement</code>" in page
    assert "40%" in page  # the red share of engagement
    assert _counts(app) == (0, 0)


def test_the_example_files_import(app, client, esca):
    login(client, "coord@a.example")
    page = client.get(IMPORT).get_data(as_text=True)
    assert "example-clusters.csv" in page and "example-aggregates.csv" in page
    for kind in reference_import.KINDS:
        example = client.get(f"{BASE}/references/example-{kind}.csv")
        assert example.status_code == 200 and example.mimetype == "text/csv"
        response = _upload(client, example.get_data(), kind=kind, name=f"Example {kind}")
        assert response.status_code == 302, response.get_data(as_text=True)
    assert client.get(f"{BASE}/references/example-other.csv").status_code == 404
    assert _counts(app) == (2, 6)


def test_without_an_indicator_set_nothing_can_be_imported(app, client, world, factory):
    factory.enable_plugin(world["a"], "compare")
    login(client, "coord@a.example")
    page = client.get(IMPORT)
    assert page.status_code == 200 and "No indicator set is switched on" in page.get_data(
        as_text=True
    )
    assert client.get(f"{BASE}/references/example-clusters.csv").status_code == 404
    assert _upload(client, _csv(CLUSTER_ROWS)).status_code == 422
    assert _counts(app) == (0, 0)


def test_the_examples_of_the_documentation_import(app):
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "reference-portfolios.md").read_text()
    examples = dict(re.findall(r"<!-- example:(\w+) -->\n```\n(.*?)```", text, re.DOTALL))
    assert set(examples) == set(reference_import.KINDS)
    indicator_set = _indicator_set(app)
    with app.test_request_context():
        clusters = reference_import.check_file(
            examples["clusters"].encode(), "clusters", indicator_set
        )
        aggregates = reference_import.check_file(
            examples["aggregates"].encode(), "aggregates", indicator_set
        )
    assert not clusters.errors and not aggregates.errors
    engagement = clusters.aggregates[0]
    assert (engagement.indicator_id, engagement.q1, engagement.median, engagement.q3) == (
        "engagement",
        2,
        3,
        4,
    )
    assert (engagement.red, engagement.yellow, engagement.green) == (0.4, 0.2, 0.4)
    assert (clusters.cluster_count, aggregates.cluster_count) == (5, 28)
    assert [a.indicator_id for a in aggregates.aggregates] == [
        "engagement",
        "concentration",
        "maturity",
    ]
    assert aggregates.aggregates[1].green == pytest.approx(0.46)


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
    response = _upload(client, _csv(rows))
    assert response.status_code == 422
    assert "more than 50000 rows" in response.get_data(as_text=True)
    monkeypatch.setattr(reference_import, "MAX_FILE_BYTES", 1000)
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


# --- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [r for r in ROLES if r != "coordinator"])
def test_only_coordinators_manage(app, client, esca, role):
    _import_as_coordinator(app, client)
    portfolio_id = _portfolio_id(app, "Danish clusters 2016 (5)")
    client.post("/logout")
    login(client, ROLE_EMAILS[role])
    page = client.get(LIST)
    assert page.status_code == 200 and "Danish clusters 2016 (5)" in page.get_data(as_text=True)
    assert "Import a reference portfolio" not in page.get_data(as_text=True)
    assert client.get(IMPORT).status_code == 403
    assert _upload(client, _csv(CLUSTER_ROWS), name="Mine").status_code == 403
    assert client.get(f"{BASE}/references/example-clusters.csv").status_code == 403
    assert client.post(f"{BASE}/references/{portfolio_id}/delete").status_code == 403
    assert client.post(f"{BASE}/references/publish", data={"indicator_set": SET}).status_code == 403
    assert _counts(app) == (1, 2)


def test_pages_answer_404_where_the_plugin_is_off(app, client, world):
    login(client, "coord@a.example")
    for url in (LIST, IMPORT):
        assert client.get(url).status_code == 404


def _import_as_coordinator(app, client, name="Danish clusters 2016 (5)"):
    login(client, "coord@a.example")
    assert _upload(client, _csv(CLUSTER_ROWS), name=name).status_code == 302


def _portfolio_id(app, name) -> int:
    with app.app_context(), unscoped():
        return db.session.scalar(
            select(ReferencePortfolio.id).where(ReferencePortfolio.name == name)
        )


def test_delete_needs_a_post_and_asks_first(app, client, esca):
    _import_as_coordinator(app, client)
    portfolio_id = _portfolio_id(app, "Danish clusters 2016 (5)")
    page = client.get(LIST).get_data(as_text=True)
    # the confirmation is a <details> element: it works without JavaScript
    assert '<details class="danger-zone">' in page
    assert f'action="{BASE}/references/{portfolio_id}/delete"' in page
    assert "Delete “Danish clusters 2016 (5)”" in page
    assert client.get(f"{BASE}/references/{portfolio_id}/delete").status_code == 405
    response = client.post(f"{BASE}/references/{portfolio_id}/delete")
    assert response.status_code == 302
    assert "is deleted" in client.get(LIST).get_data(as_text=True)
    assert _counts(app) == (0, 0)
    assert client.post(f"{BASE}/references/{portfolio_id}/delete").status_code == 404


# --- publishing ------------------------------------------------------------------------------


def _rounds(app, tenant, clusters, day=date(2025, 3, 1), left_out=("concentration",)):
    """One round per cluster; the indicators in ``left_out`` only in the first two."""
    from portal.toolkit import Cluster, find_indicator_set, save_round

    with app.test_request_context(), tenant_scope(tenant.id):
        indicator_set = find_indicator_set("esca-gold", "2013")
        for n, cluster in enumerate(clusters):
            values = {
                i.id: float((n + k) % 6)
                for k, i in enumerate(indicator_set.indicators)
                if i.id not in left_out or n < 2
            }
            save_round(db.session.get(Cluster, cluster.id), indicator_set, day, values)


def test_publishing_needs_at_least_k_clusters(app, client, esca):
    _rounds(app, esca["a"], [esca["c1"], esca["c2"]])
    login(client, "coord@a.example")
    response = client.post(f"{BASE}/references/publish", data={"indicator_set": SET})
    assert response.status_code == 302
    page = client.get(LIST).get_data(as_text=True)
    assert "Only 2 clusters of this forum have a round of esca-gold 2013" in page
    assert "at least 5 are needed" in page
    assert _counts(app) == (0, 0)
    response = client.post(f"{BASE}/references/publish", data={"indicator_set": "nope:1"})
    assert "Choose an indicator set" in client.get(LIST).get_data(as_text=True)


def test_publish_share_and_withdraw(app, client, esca, factory):
    clusters = [esca["c1"], esca["c2"]] + [
        factory.cluster(esca["a"], f"Cluster {n}") for n in range(3)
    ]
    _rounds(app, esca["a"], clusters)
    # another region, with its own unpublished portfolio
    b = esca["b"]
    factory.enable_plugin(b, "esca")
    factory.enable_plugin(b, "compare")
    factory.user("coord@b.example", tenant=b, role="coordinator")
    _import_as_coordinator(app, client, name="Nordland private (5)")
    response = client.post(f"{BASE}/references/publish", data={"indicator_set": SET})
    assert response.status_code == 302
    year = date(2025, 3, 1).year
    name = f"Nordland Forum {year} (5)"
    assert f"published as “{name}”" in client.get(LIST).get_data(as_text=True)
    stored = _stored(app)[name]
    assert stored[:4] == (esca["a"].id, "published", 5, True)
    indicators = stored[4]
    # fewer values than K: left out; no minimum or maximum (each is one cluster's value)
    assert "concentration" not in indicators and "engagement" in indicators
    assert all(row[1] is None and row[5] is None for row in indicators.values())
    assert indicators["engagement"][0] == 5
    # publishing again replaces the snapshot
    assert client.post(f"{BASE}/references/publish", data={"indicator_set": SET}).status_code == 302
    assert [n for n in _stored(app) if n == name] == [name] and _counts(app)[0] == 2
    portfolio_id = _portfolio_id(app, name)
    private_id = _portfolio_id(app, "Nordland private (5)")
    client.post("/logout")

    other = app.test_client()
    login(other, "coord@b.example")
    page = other.get("/bravo/compare/references/").get_data(as_text=True)
    assert name in page and "Nordland Forum</td>" in page  # marked with the region's name
    assert "Nordland private" not in page  # an unpublished portfolio stays in its region
    # and cannot be deleted from there
    assert other.post(f"/bravo/compare/references/{portfolio_id}/delete").status_code == 404
    assert other.post(f"/bravo/compare/references/{private_id}/delete").status_code == 404
    assert _counts(app)[0] == 2

    login(client, "coord@a.example")
    page = client.get(LIST).get_data(as_text=True)
    assert "Withdraw “" + name + "”" in page
    assert client.post(f"{BASE}/references/{portfolio_id}/delete").status_code == 302
    assert "is withdrawn" in client.get(LIST).get_data(as_text=True)
    assert name not in other.get("/bravo/compare/references/").get_data(as_text=True)


def test_own_unpublished_portfolios_are_never_shown_elsewhere(app, client, esca, factory):
    _import_as_coordinator(app, client, name="Our secret reference (5)")
    b = esca["b"]
    factory.enable_plugin(b, "esca")
    factory.enable_plugin(b, "compare")
    factory.user("coord@b.example", tenant=b, role="coordinator")
    other = app.test_client()
    login(other, "coord@b.example")
    for url in ("/bravo/compare/references/", "/bravo/compare/references/import"):
        assert "Our secret reference" not in other.get(url).get_data(as_text=True)
    # the same name is free in the other region
    response = other.post(
        "/bravo/compare/references/import",
        data={
            "file": (io.BytesIO(_csv(CLUSTER_ROWS)), "x.csv"),
            "name": "Our secret reference (5)",
            "kind": "clusters",
            "indicator_set": SET,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context(), unscoped():
        from portal_compare.references import usable_references

        names = {p.name: p.tenant_id for p in usable_references(b.id)}
    assert names == {"Our secret reference (5)": b.id}


# --- isolation: every route of this page set with another region's ids -----------------------

MINE = {
    "compare.references",
    "compare.reference_import",
    "compare.reference_delete",
    "compare.reference_example",
    "compare.publish",
}


@pytest.mark.parametrize("role", ROLES)
def test_foreign_ids_answer_404_and_change_nothing(app, esca, role):
    foreign = seed_other_tenant(app)
    with app.test_request_context():
        before = snapshot(foreign.id)
    assert "portfolio_id" in foreign.natural
    client = app.test_client()
    login(client, ROLE_EMAILS[role])
    rules = [r for r in app.url_map.iter_rules() if r.endpoint in MINE]
    assert {r.endpoint for r in rules} == MINE
    for rule in rules:
        with app.test_request_context():
            adapter = app.url_map.bind("localhost")
            values = {"tenant": "nordland", "kind": "clusters"}
            if "portfolio_id" in rule.arguments:
                urls = [
                    adapter.build(rule.endpoint, {**values, "portfolio_id": i}) for i in foreign.ids
                ]
            else:
                urls = [adapter.build(rule.endpoint, values)]
        for url in urls:
            for method in sorted(rule.methods & {"GET", "POST"}):
                response = client.open(url, method=method, data=FORM if method == "POST" else None)
                assert response.status_code < 500, (method, url)
                assert SECRET not in response.get_data(as_text=True), (method, url)
                if "portfolio_id" in rule.arguments:
                    assert response.status_code in (403, 404), (method, url)
    with app.test_request_context():
        assert snapshot(foreign.id) == before


# --- demo ------------------------------------------------------------------------------------


def _demo_portfolios(app):
    """[(region slug, name, source, clusters, published, [(count, min, max, green)])]."""
    from portal.tenancy.models import Tenant

    with app.app_context(), unscoped():
        result = []
        for slug, p in db.session.execute(
            select(Tenant.slug, ReferencePortfolio)
            .join(Tenant, Tenant.id == ReferencePortfolio.tenant_id)
            .order_by(Tenant.slug, ReferencePortfolio.name)
        ).all():
            rows = db.session.scalars(
                select(ReferenceIndicator).where(ReferenceIndicator.portfolio_id == p.id)
            )
            result.append(
                (
                    slug,
                    p.name,
                    p.source,
                    p.cluster_count,
                    p.published,
                    [(r.count, r.minimum, r.maximum, r.green_share) for r in rows],
                )
            )
        settings_rows = db.session.execute(
            select(Tenant.slug, Tenant.values_min_group).where(
                Tenant.slug.in_(("midtjylland", "nordland"))
            )
        ).all()
        return result, sorted(settings_rows)


def test_demo_adds_two_reference_portfolios_per_esca_region_once(app, runner):
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    portfolios, settings_rows = _demo_portfolios(app)
    assert settings_rows == [("midtjylland", 5), ("nordland", 3)]
    assert [p[:5] for p in portfolios] == [
        (slug, name, source, clusters, False)
        for slug in ("midtjylland", "nordland")
        for name, source, clusters in (
            ("Danish clusters 2016 (29)", "clusters", 29),
            ("Norwegian clusters 2016 (28)", "aggregates", 28),
        )
    ]
    danish, norwegian = portfolios[2][5], portfolios[3][5]
    assert len(danish) == len(norwegian) == 31
    assert all(20 <= count <= 29 and low is not None for count, low, _h, _g in danish)
    assert all(count == 28 and green is not None for count, _l, _h, green in norwegian)
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    assert _demo_portfolios(app) == (portfolios, settings_rows)
    client = app.test_client()
    client.post(
        "/login", data={"email": "coordinator@nordland.example", "password": "cluster-forum-demo"}
    )
    page = client.get("/nordland/compare/references/").get_data(as_text=True)
    assert "Danish clusters 2016 (29)" in page and "Norwegian clusters 2016 (28)" in page
