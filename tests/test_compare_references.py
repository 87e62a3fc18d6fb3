"""Reference portfolios of the comparisons plugin: import (CSV/XLSX, per cluster or as
aggregates; all or nothing, never a 500), publishing a forum's aggregates to other
regions, withdrawing them, the settings page, the demo data and isolation."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from portal.extensions import db
from portal.tenancy import unscoped
from tests.conftest import login
from tests.import_support import confirm, token_of

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


def with_compare(world, factory):
    """The region of ``world["a"]`` with the ESCA sets and the comparisons switched on."""
    for plugin in ("esca", "compare"):
        factory.enable_plugin(world["a"], plugin)
    return world


@pytest.fixture
def esca(app, world, factory):
    return with_compare(world, factory)


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
            filename="reference.csv", indicator_set=SET, url=IMPORT):  # fmt: skip
    """Check the file and, unless ``dry_run``, confirm the check: the confirm's response (a
    redirect when written), or the check's when it finds problems."""
    data = {
        "file": (io.BytesIO(content), filename),
        "name": name,
        "kind": kind,
        "indicator_set": indicator_set,
    }
    checked = client.post(url, data=data, content_type="multipart/form-data")
    token = token_of(checked)
    if dry_run or checked.status_code != 200 or token is None:
        return checked
    return confirm(client, url + "/confirm", token)


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


def test_the_example_files_cannot_pass_for_real_data(app, client, esca):
    login(client, "coord@a.example")
    page = client.get(IMPORT).get_data(as_text=True)
    assert "example-clusters.csv" in page and "example-aggregates.csv" in page
    for kind, rows in (("clusters", 15), ("aggregates", 3)):
        example = client.get(f"{BASE}/references/example-{kind}.csv")
        assert example.status_code == 200 and example.mimetype == "text/csv"
        response = _upload(client, example.get_data(), kind=kind, name=f"Example {kind}")
        page = response.get_data(as_text=True)
        assert response.status_code == 422 and token_of(response) is None
        assert "This is an example file, not real data." in page
        assert f"{rows} rows are marked as examples" in page
        # without the example column, the same rows are fine
        table = list(csv.reader(io.StringIO(example.get_data().decode("utf-8-sig"))))
        assert table[0][-1] == "example" and {r[-1] for r in table[1:]} == {"EXAMPLE"}
        real = _csv([r[:-1] for r in table[1:]], header=table[0][:-1])
        response = _upload(client, real, kind=kind, name=f"Example {kind}")
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
