"""Importing benchmarking rounds from CSV or XLSX: all rows or none, web and command line."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.benchmarking import round_import
from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.extensions import db
from portal.tenancy import tenant_scope, unscoped
from tests.conftest import count_queries, login
from tests.import_support import check, check_and_confirm

HEADER = [
    "cluster",
    "date",
    "indicator_set",
    "version",
    "indicator",
    "value",
    "comment",
    "assessor",
]
URL = "/nordland/rounds/import"
FUTURE = (date.today() + timedelta(days=3)).isoformat()


@pytest.fixture
def esca(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    return world


def _row(cluster="Arctic Minerals", day="2025-03-01", indicator="engagement", value="4", **kw):
    row = {
        "cluster": cluster,
        "date": day,
        "indicator_set": "esca-gold",
        "version": "2013",
        "indicator": indicator,
        "value": value,
        "comment": "",
        "assessor": "ESCA expert",
    }
    row.update(kw)
    return [row[c] for c in HEADER]


def _csv(rows, header=HEADER, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _xlsx(rows, header=HEADER) -> bytes:
    wb = Workbook()
    header = [_cell(c) for c in header]
    rows = [[_cell(c) for c in row] for row in rows]
    wb.active.append(header)
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client, content: bytes, *, dry_run=False, name="rounds.csv"):
    """The check (dry_run) or the check and its confirm."""
    if dry_run:
        return check(client, URL, content, name)
    return check_and_confirm(client, URL, URL + "/confirm", content, name)


def _counts(app) -> tuple[int, int]:
    with app.app_context(), unscoped():
        return (
            db.session.scalar(select(func.count()).select_from(BenchmarkRound)),
            db.session.scalar(select(func.count()).select_from(IndicatorValue)),
        )


def _stored(app):
    """{(cluster id, date): (assessor, {indicator: (value, light, comment)})}."""
    with app.app_context(), unscoped():
        result = {}
        for r in db.session.scalars(select(BenchmarkRound)):
            result[(r.cluster_id, r.held_on.isoformat())] = (
                r.assessor,
                {v.indicator_id: (v.value, v.light, v.comment) for v in r.values},
            )
        return result


GOOD = [
    _row(indicator="engagement", value="4", assessor="ESCA expert", comment="Survey"),
    _row(indicator="participant_structure", value="3,5", assessor="ESCA expert"),
    _row(indicator="concentration", value="1"),  # the assessor may be left out
    _row(day="2024-03-01", indicator="engagement", value="2", assessor="Ann Expert"),
    _row(cluster="Helgeland Health", indicator="engagement", value="5", assessor="Bo Expert"),
]


def _check_good(app, esca):
    c1, c2 = esca["c1"].id, esca["c2"].id
    assert _stored(app) == {
        (c1, "2025-03-01"): (
            "ESCA expert",
            {
                "engagement": (4.0, "green", "Survey"),
                "participant_structure": (3.5, "yellow", ""),
                "concentration": (1.0, "red", ""),
            },
        ),
        (c1, "2024-03-01"): ("Ann Expert", {"engagement": (2.0, "red", "")}),
        (c2, "2025-03-01"): ("Bo Expert", {"engagement": (5.0, "green", "")}),
    }


def test_a_good_multi_cluster_csv_writes_rounds_and_lights(app, client, esca, monkeypatch):
    told = []

    def record(event, tenant_id, **kw):
        with unscoped():  # committed before the event: the round has its values
            told.append(
                (event, tenant_id, kw["created"], kw["user"].email, len(kw["round"].values))
            )

    monkeypatch.setattr(round_import, "emit", record)
    login(client, "coord@a.example")
    response = _upload(client, _csv(GOOD, delimiter=";"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "New rounds: 3, values: 5" in client.get(URL).get_data(as_text=True)
    _check_good(app, esca)
    assert sorted(told) == [
        ("round_saved", esca["a"].id, True, "coord@a.example", 1),
        ("round_saved", esca["a"].id, True, "coord@a.example", 1),
        ("round_saved", esca["a"].id, True, "coord@a.example", 3),
    ]


def test_a_good_xlsx_with_date_and_number_cells(app, client, esca):
    rows = []
    for row in GOOD:
        row = list(row)
        row[1] = datetime.fromisoformat(row[1])  # a date cell
        row[5] = float(row[5].replace(",", "."))  # a number cell
        rows.append(row)
    login(client, "coord@a.example")
    response = _upload(client, _xlsx(rows), name="rounds.xlsx")
    assert response.status_code == 302, response.get_data(as_text=True)
    _check_good(app, esca)


def test_the_preview_writes_nothing(app, client, esca):
    login(client, "coord@a.example")
    response = _upload(client, _csv(GOOD), dry_run=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "New rounds: 3, values: 5" in page and "Helgeland Health" in page
    # the round of 2025-03-01 of Arctic Minerals: 3 values, one of each light
    assert '<td class="num">3</td>\n        <td class="num">1</td>' in page
    assert _counts(app) == (0, 0)


BAD = [
    # (rows, row, column, message)
    ([_row(cluster="Nowhere")], 2, "cluster", "There is no cluster named “Nowhere”"),
    ([_row(cluster="")], 2, "cluster", "The cluster is missing"),
    ([_row(day="01.03.2025")], 2, "date", "“01.03.2025” is not a date"),
    ([_row(day="2025-02-30")], 2, "date", "is not a date"),
    ([_row(day=FUTURE)], 2, "date", "cannot be in the future"),
    ([_row(indicator_set="esca-silver")], 2, "indicator_set", "Unknown indicator set"),
    ([_row(version="1999")], 2, "version", "has no version “1999”"),
    ([_row(indicator="happiness")], 2, "indicator", "has no indicator “happiness”"),
    ([_row(value="lots")], 2, "value", "“lots” is not a number"),
    ([_row(value="nan")], 2, "value", "“nan” is not a number"),
    ([_row(value="inf")], 2, "value", "“inf” is not a number"),
    ([_row(value="1e999")], 2, "value", "is not a number"),
    ([_row(value="")], 2, "value", "The value is missing"),
    ([_row(value="7")], 2, "value", "Between 0 and 5"),
    ([_row(value="-0,5")], 2, "value", "Between 0 and 5"),
    ([_row(), _row(value="3")], 3, "indicator", "appears twice in this round (also in row 3)"),
    (
        [_row(assessor="Ann"), _row(indicator="concentration", assessor="Bob")],
        3,
        "assessor",
        "The assessor differs from row 3",
    ),
    ([_row() + ["extra"]], 2, "", "The row has 9 cells; the header has 8"),
]


@pytest.mark.parametrize(("rows", "line", "column", "message"), BAD)
def test_bad_rows_name_row_and_column_and_write_nothing(
    app, client, esca, rows, line, column, message
):
    login(client, "coord@a.example")
    # a good round of another cluster in the same file is not written either
    content = _csv([_row(cluster="Helgeland Health"), *rows])
    response = _upload(client, content)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page, page
    assert f"<td>{line + 1}</td><td>{column}</td>" in page
    assert "Nothing was imported" in page
    assert _counts(app) == (0, 0)


def _xlsx_bomb() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/big.xml", b"\0" * (101 * 1024 * 1024))
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (b"\n ,,\n", "The file is empty"),
        (_csv([]), "The file has a header but no rows"),
        (_csv([["x"] * 7], header=HEADER[:5] + HEADER[6:]), "The column “value” is missing"),
        (_csv([_row() + ["red"]], header=[*HEADER, "colour"]), "Unknown column “colour”"),
        (_csv([_row() + ["x"]], header=[*HEADER, "value"]), "A column appears twice"),
        (b"\xff\xfe\x00\x01garbage\x9c", "neither an Excel (XLSX) file nor a UTF-8"),
        (b"PK\x03\x04 not really a zip", "not a readable Excel (XLSX) file"),
        (_xlsx_bomb(), "too large when unpacked"),
    ],
)
def test_bad_files_are_explained_and_write_nothing(app, client, esca, content, message):
    login(client, "coord@a.example")
    response = _upload(client, content)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _counts(app) == (0, 0)


def test_a_round_that_exists_is_refused_with_the_whole_file(app, client, esca):
    login(client, "coord@a.example")
    assert _upload(client, _csv([_row()])).status_code == 302
    response = _upload(client, _csv([_row(cluster="Helgeland Health"), _row(value="2")]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<td>3</td><td>date</td>" in page and "has a round with esca-gold 2013" in page
    assert _counts(app) == (1, 1)


def test_sets_of_switched_off_plugins_are_refused(app, client, world):
    login(client, "coord@a.example")
    response = _upload(client, _csv([_row()]))
    assert response.status_code == 422
    assert "not switched on for this region" in response.get_data(as_text=True)
    assert client.get(f"{URL}/example.csv").status_code == 404
    assert _counts(app) == (0, 0)


def test_more_than_max_rows_are_refused(app, esca):
    content = _csv([_row()] * (round_import.MAX_ROWS + 1))
    with app.test_request_context(), tenant_scope(esca["a"].id):
        outcome = round_import.import_rounds(None, esca["a"].id, content)
    assert not outcome.written and len(outcome.errors) == 1
    assert f"more than {round_import.MAX_ROWS} rows" in outcome.errors[0].message
    assert _counts(app) == (0, 0)


def test_errors_are_translated(app, client, esca):
    from portal.accounts.models import User

    with app.app_context(), unscoped():
        db.session.execute(
            User.__table__.update().where(User.email == "coord@a.example").values(locale="nb")
        )
        db.session.commit()
    login(client, "coord@a.example")
    page = _upload(client, _csv([_row(value="7")])).get_data(as_text=True)
    with app.test_request_context():
        from flask_babel import force_locale
        from flask_babel import gettext as _

        with force_locale("nb"):
            expected = _("Between %(low)s and %(high)s.", low="0", high="5")
    assert expected in page


def test_the_example_file_cannot_pass_for_real_data(app, client, esca):
    login(client, "coord@a.example")
    page = client.get(URL)
    assert page.status_code == 200 and "example.csv" in page.get_data(as_text=True)
    example = client.get(f"{URL}/example.csv")
    assert example.status_code == 200 and example.mimetype == "text/csv"
    lines = example.get_data().decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join([*HEADER, "audit", "notes", "example"]) and len(lines) == 4
    assert all(line.startswith("EXAMPLE cluster,") for line in lines[1:])
    assert all(line.endswith(",EXAMPLE") for line in lines[1:])
    checked = _upload(client, example.get_data(), dry_run=True)
    text = checked.get_data(as_text=True)
    assert checked.status_code == 422 and "This is an example file, not real data." in text
    assert text.count("This row is example data") == 3
    # with the example rows made real (the cluster renamed, the marks gone) it imports
    real = example.get_data().decode("utf-8-sig").replace("EXAMPLE cluster", "Arctic Minerals")
    real = "\n".join(line.rsplit(",", 1)[0] for line in real.splitlines())
    assert _upload(client, real.encode()).status_code == 302
    lights = sorted(light for _v, light, _c in next(iter(_stored(app).values()))[1].values())
    assert lights == ["green", "red", "yellow"]


def test_who_may_import(app, client, esca):
    """Imported rounds are experts' results: assessors (and coordinators on their behalf)
    import them; a cluster manager scores the cluster in a self-assessment instead."""
    for email in ("observer@a.example", "member@a.example", "manager@a.example"):
        login(client, email)
        assert client.get(URL).status_code == 403
        assert client.get(f"{URL}/example.csv").status_code == 403
        assert _upload(client, _csv([_row()])).status_code == 403
        client.post("/logout")
    assert _counts(app) == (0, 0)
    login(client, "assessor@a.example")
    assert client.get(URL).status_code == 200
    unnamed = [_row(assessor=""), _row(cluster="Helgeland Health", assessor="")]
    assert _upload(client, _csv(unnamed)).status_code == 302
    assert _counts(app) == (2, 2)
    with app.app_context(), unscoped():
        rounds = db.session.scalars(select(BenchmarkRound)).all()
        assert {(r.entered_role, r.confirmed) for r in rounds} == {("assessor", True)}
        # an assessor's own result names them, as on the round form
        assessor = db.session.scalars(select(User).where(User.email == "assessor@a.example")).one()
        assert {r.assessor for r in rounds} == {assessor.name}


def test_a_coordinator_names_the_expert_of_every_round(app, client, esca):
    """A coordinator enters experts' results on their behalf: a round that names no expert
    is refused (on its first row) and nothing is written."""
    login(client, "coord@a.example")
    rows = [
        _row(assessor="Ann Expert"),
        _row(indicator="concentration", assessor=""),  # the same round: named on its first row
        _row(cluster="Helgeland Health", assessor=""),  # another round, named nowhere
    ]
    response = _upload(client, _csv(rows))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Name the expert whose result this is." in page
    assert _counts(app) == (0, 0)
    rows[2] = _row(cluster="Helgeland Health", assessor="Bo Expert")
    assert _upload(client, _csv(rows)).status_code == 302
    assert _counts(app) == (2, 3)


def test_other_regions_clusters_are_unknown(app, client, esca, factory):
    factory.cluster(esca["b"], "Bravo Boats")
    login(client, "coord@a.example")
    response = _upload(client, _csv([_row(cluster="Bravo Boats")]))
    assert response.status_code == 422 and "no cluster named “Bravo Boats”" in response.get_data(
        as_text=True
    )


def test_checking_does_not_query_per_row(app, esca):
    indicators = [i.id for i in _esca_indicators(app)]

    def rows(n_days):
        return [
            _row(cluster=cluster, day=f"2024-01-{day:02d}", indicator=indicator, value="3")
            for cluster in ("Arctic Minerals", "Helgeland Health")
            for day in range(1, n_days + 1)
            for indicator in indicators[:5]
        ]

    counts = []
    for n in (1, 20):
        with app.test_request_context(), tenant_scope(esca["a"].id):
            with count_queries(app) as queries:
                outcome = round_import.import_rounds(
                    None, esca["a"].id, _csv(rows(n)), dry_run=True
                )
            assert not outcome.errors and len(outcome.rounds) == 2 * n
            counts.append(len(queries))
    assert counts[0] == counts[1]


def _esca_indicators(app):
    from portal.benchmarking.services import find_set

    with app.app_context():
        return find_set("esca-gold", "2013").indicators


# --- never a crash, always all or nothing --------------------------------------------------

CELL = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["Arctic Minerals", "Helgeland Health", "esca-gold", "2013", "engagement"]),
    st.integers(-10, 10).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
GOODISH_ROW = st.builds(
    lambda cluster, day, set_id, version, indicator, value, assessor: _row(
        cluster=cluster,
        day=day,
        indicator_set=set_id,
        version=version,
        indicator=indicator,
        value=value,
        assessor=assessor,
    ),
    st.sampled_from(["Arctic Minerals", "Helgeland Health", "Nowhere", ""]),
    st.sampled_from(["2023-05-01", "2024-02-29", "2024-02-30", FUTURE, "soon"]),
    st.sampled_from(["esca-gold", "esca-gold", "other"]),
    st.sampled_from(["2013", "2013", "1"]),
    st.sampled_from(["engagement", "concentration", "maturity", "bogus"]),
    st.one_of(
        st.integers(-2, 7).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(lambda f: str(f).replace(".", ",")),
        st.text(max_size=5),
    ),
    st.sampled_from(["", "", "Ann", "Bob"]),
)
HEADERS = st.one_of(
    st.just(HEADER),
    st.permutations(HEADER),
    st.lists(st.sampled_from([*HEADER, "colour", ""]), max_size=9),
)


def _cell(value):
    """What a spreadsheet program could have saved: no control characters in text cells."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


@st.composite
def bad_files(draw):
    kind = draw(st.sampled_from(["bytes", "cells", "goodish", "xlsx"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), None
    header = draw(HEADERS)
    if kind == "cells":
        rows = draw(st.lists(st.lists(CELL, max_size=10), max_size=6))
        return _csv(rows, header=header), None
    rows = draw(st.lists(GOODISH_ROW, min_size=1, max_size=6))
    if kind == "xlsx":
        return _xlsx(rows, header=header), None
    # with the right header, a file that is written has one value per row
    return _csv(rows, header=header), (len(rows) if header == HEADER else None)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=bad_files(), dry_run=st.booleans())
def test_random_files_never_crash_and_write_all_or_nothing(app, client, esca, case, dry_run):
    content, rows = case
    if client.get(URL).status_code != 200:
        login(client, "coord@a.example")
    before = _counts(app)
    response = _upload(client, content, dry_run=dry_run)
    after = _counts(app)
    assert response.status_code in (200, 302, 422)
    if response.status_code == 302:
        assert not dry_run and after[1] > before[1]
        if rows is not None:
            assert after[1] - before[1] == rows
    else:
        assert after == before


# --- command line --------------------------------------------------------------------------


def test_cli_imports_a_file(app, esca, tmp_path):
    path = tmp_path / "rounds.csv"
    path.write_bytes(_csv(GOOD))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["rounds", "import", "nordland", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "3 round(s) with 5 value(s) would be imported" in dry.stdout
    assert _counts(app) == (0, 0)
    result = runner.invoke(args=["rounds", "import", "nordland", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 3 round(s) with 5 value(s) into nordland" in result.stdout
    _check_good(app, esca)
    again = runner.invoke(args=["rounds", "import", "nordland", str(path)])
    assert again.exit_code == 1 and "has a round with" in again.stderr
    assert _counts(app) == (3, 5)


def test_cli_reports_every_row_error_and_writes_nothing(app, esca, tmp_path):
    path = tmp_path / "rounds.csv"
    path.write_bytes(_csv([_row(cluster="Helgeland Health"), _row(value="9"), _row(day="x")]))
    runner = app.test_cli_runner()
    for extra in ([], ["--dry-run"]):
        result = runner.invoke(args=["rounds", "import", "nordland", str(path), *extra])
        assert result.exit_code == 1
        assert "row 3, column value: Between 0 and 5." in result.stderr
        assert "row 4, column date: “x” is not a date" in result.stderr
        assert "nothing was imported" in result.stderr
    assert _counts(app) == (0, 0)
    path.write_bytes(b"")
    empty = runner.invoke(args=["rounds", "import", "nordland", str(path)])
    assert empty.exit_code == 1 and "file: The file is empty." in empty.stderr
    unknown = runner.invoke(args=["rounds", "import", "nowhere", str(path)])
    assert unknown.exit_code != 0 and "no region" in unknown.output


def test_cli_needs_the_plugin_switched_on(app, world, tmp_path):
    path = tmp_path / "rounds.csv"
    path.write_bytes(_csv([_row()]))
    result = app.test_cli_runner().invoke(args=["rounds", "import", "nordland", str(path)])
    assert result.exit_code == 1 and "not switched on" in result.stderr


def test_cli_shows_progress_for_large_files(app, esca, tmp_path):
    indicators = [i.id for i in _esca_indicators(app)]
    rows = [
        _row(day=(date(2020, 1, 1) + timedelta(days=d)).isoformat(), indicator=i, value="4")
        for d in range(40)
        for i in indicators
    ]
    assert len(rows) > 1000
    path = tmp_path / "rounds.csv"
    path.write_bytes(_csv(rows))
    result = app.test_cli_runner().invoke(args=["rounds", "import", "nordland", str(path)])
    assert result.exit_code == 0, result.output
    assert "checking" in result.stderr
    assert _counts(app) == (40, len(rows))


def test_the_audit_column_marks_audit_rounds(app, client, esca):
    login(client, "coord@a.example")
    header = [*HEADER, "audit"]
    rows = [
        [*_row(indicator="engagement"), "yes"],
        [*_row(indicator="concentration"), ""],  # rows may leave it empty
        [*_row(day="2024-03-01"), "no"],
        [*_row(cluster="Helgeland Health"), ""],
    ]
    assert _upload(client, _csv(rows, header=header)).status_code == 302
    with app.app_context(), unscoped():
        audits = {
            (r.cluster_id, r.held_on.isoformat()): r.audit
            for r in db.session.scalars(select(BenchmarkRound))
        }
    c1, c2 = esca["c1"].id, esca["c2"].id
    assert audits == {
        (c1, "2025-03-01"): True,
        (c1, "2024-03-01"): False,
        (c2, "2025-03-01"): False,
    }


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["maybe"], "“maybe”: write yes or no"),
        (["yes", "no"], "The audit mark differs from row 2"),
    ],
)
def test_bad_audit_cells_are_refused(app, client, esca, cells, message):
    login(client, "coord@a.example")
    indicators = ["engagement", "concentration"]
    rows = [[*_row(indicator=i), c] for i, c in zip(indicators, cells, strict=False)]
    response = _upload(client, _csv(rows, header=[*HEADER, "audit"]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert "<td>audit</td>" in page
    assert _counts(app) == (0, 0)
