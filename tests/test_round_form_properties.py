"""The round entry form under generated input: never a server error; a bad submission
writes nothing and says why; a good one writes exactly one round with its lights.

The form's fields are read from the page at test time: only the indicator values
(``v-<indicator>``), the date (``held_on``), the assessor and the indicator set (in the URL)
are relied on; any other field (say an "audit round" checkbox) keeps the value the page
gives it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.benchmarking.models import BenchmarkRound, IndicatorValue
from portal.extensions import db
from portal.tenancy import unscoped
from tests.conftest import login

TODAY = date.today()
NEW_ROUND = "/nordland/clusters/{cid}/rounds/new?set=esca-gold&version=2013"
ALERT = "Check the marked values."


def _esca_indicators():
    from portal_esca import esca_set

    return esca_set().indicators


INDICATORS = {i.id: i for i in _esca_indicators()}


# --- reading the form as a browser would send it -------------------------------------------


class Form:
    """One form's fields, with the values a browser would submit unchanged."""

    def __init__(self):
        self.names: set[str] = set()
        self.defaults: dict[str, str] = {}


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self.current: Form | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.current = Form()
            self.forms.append(self.current)
        if self.current is None or not a.get("name"):
            return
        form, name = self.current, a["name"]
        if tag == "input" and a.get("type") not in ("submit", "button", "reset"):
            form.names.add(name)
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    form.defaults[name] = a.get("value") or "on"
            else:
                form.defaults[name] = a.get("value") or ""
        elif tag == "textarea":
            form.names.add(name)
            form.defaults[name] = ""
            self._textarea = name
        elif tag == "select":
            form.names.add(name)

    def handle_data(self, data):
        if self.current is not None and self._textarea:
            self.current.defaults[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.current = None


def read_form(client, url) -> Form:
    """The round form of the page at ``url``."""
    response = client.get(url)
    assert response.status_code == 200
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    (form,) = [f for f in parser.forms if "held_on" in f.names]
    assert "assessor" in form.names, form.names
    assert {n[2:] for n in form.names if n.startswith("v-")} == set(INDICATORS)
    return form


# --- what the portal should answer -----------------------------------------------------------

INVALID = object()


def _number(raw: str):
    """The value of a cell as people type it: empty, a number with a point or a comma."""
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw, re.ASCII):
        return INVALID  # only plain decimals: no "1_0", "1e3", "inf" or other scripts' digits
    number = float(raw)
    return number if math.isfinite(number) else INVALID


def _date(raw: str | None):
    if raw is None or raw == "":
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        return INVALID


@dataclass
class Submission:
    held_on: str | None
    assessor: str | None
    values: dict[str, str]
    extra: dict[str, str] = field(default_factory=dict)

    def body(self, form: Form) -> dict[str, str]:
        data = dict(form.defaults)
        data.pop("held_on", None)
        if self.held_on is not None:
            data["held_on"] = self.held_on
        if self.assessor is not None:
            data["assessor"] = self.assessor
        data.update({f"v-{k}": v for k, v in self.values.items()})
        data.update({k: v for k, v in self.extra.items() if k not in form.names})
        return data

    def expected(self, used: set[date]) -> tuple[int, list[str], dict[str, float]]:
        """Status; what the page must show (messages, ids of the marked fields' errors),
        or the values written when it is saved.

        Like the portal: first the form itself (numbers, date, assessor), then the scale,
        the empty round, the future and the expert's name, then a round on the same day."""
        sent = (self.held_on or "", self.assessor or "", *self.values.values())
        if any("\x00" in v for v in (*sent, *self.extra.values())):
            return 400, [], {}  # refused before any view: no database stores NUL
        numbers = {k: _number(v) for k, v in self.values.items()}
        held_on = _date(self.held_on)
        first = [f"v-{k}-error" for k, n in numbers.items() if n is INVALID]  # rows marked
        if first:
            first.append("Enter a number.")
        if held_on is None:
            first += ["held_on-error", "This field is required."]
        elif held_on is INVALID:
            first += ["held_on-error", "Not a valid date value."]
        if len((self.assessor or "").strip()) > 200:
            first += ["assessor-error", "Field cannot be longer than 200 characters."]
        if first:
            return 422, first, {}
        second = [
            f"v-{k}-error"
            for k, n in numbers.items()
            if n is not None and not INDICATORS[k].in_range(n)
        ]
        if second:
            second.append("Between 0 and 5.")
        if all(n is None for n in numbers.values()):
            second.append("Enter at least one value.")
        if held_on > TODAY:
            second += ["held_on-error", "A round cannot be in the future."]
        if not (self.assessor or "").strip():  # a coordinator enters an expert's result
            second += ["assessor-error", "Name the expert whose result this is."]
        if second:
            return 422, second, {}
        if held_on in used:
            return 422, ["held_on-error", "A round on this date exists already."], {}
        return 302, [], {k: n for k, n in numbers.items() if n is not None}


# --- submitting ----------------------------------------------------------------------------


def _counts(app) -> tuple[int, int]:
    with app.app_context(), unscoped():
        return (
            db.session.scalar(select(func.count()).select_from(BenchmarkRound)),
            db.session.scalar(select(func.count()).select_from(IndicatorValue)),
        )


def _used_dates(app, cluster_id) -> set[date]:
    with app.app_context(), unscoped():
        return set(
            db.session.scalars(
                select(BenchmarkRound.held_on).where(BenchmarkRound.cluster_id == cluster_id)
            )
        )


def check_submission(app, client, cluster_id, submission: Submission, form=None):
    url = NEW_ROUND.format(cid=cluster_id)
    form = form or read_form(client, url)
    status, messages, written = submission.expected(_used_dates(app, cluster_id))
    before = _counts(app)
    response = client.post(url, data=submission.body(form))
    after = _counts(app)
    page = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, page[:2000])
    if status != 302:
        assert after == before, "a refused round wrote something"
        if status == 422:
            assert ALERT in page
            for message in messages:
                assert message in page, message
        return status
    assert "#round-" in response.headers["Location"]
    assert after == (before[0] + 1, before[1] + len(written))
    with app.app_context(), unscoped():
        round_ = db.session.scalars(
            select(BenchmarkRound).order_by(BenchmarkRound.id.desc())
        ).first()
        assert round_.cluster_id == cluster_id
        assert (round_.indicator_set, round_.set_version) == ("esca-gold", "2013")
        assert round_.held_on == _date(submission.held_on)
        assert round_.assessor == (submission.assessor or "").strip()
        stored = {v.indicator_id: (v.value, v.light) for v in round_.values}
    assert stored == {k: (n, INDICATORS[k].light(n)) for k, n in written.items()}
    # The grid shows the new round.
    grid = client.get(f"/nordland/clusters/{cluster_id}/rounds")
    assert grid.status_code == 200 and f'id="round-{round_.id}"' in grid.get_data(as_text=True)
    return status


@pytest.fixture
def esca(app, world, factory):
    factory.enable_plugin(world["a"], "esca")
    return world


@pytest.fixture
def coordinator(client, esca):
    login(client, "coord@a.example")
    return client


# --- named cases --------------------------------------------------------------------------

GOOD = {"engagement": "2", "participant_structure": "3,5", "concentration": "5"}
CASES = {
    "good": Submission("2025-03-01", "ESCA expert", GOOD),
    "good with one value of 0": Submission("2024-01-31", "", {"maturity": "0"}),
    "good with spaces and a comma": Submission("2023-06-30", "  Ann  ", {"maturity": " 4,25 "}),
    "text where a number belongs": Submission("2025-03-01", "", {**GOOD, "engagement": "lots"}),
    "off the scale": Submission("2025-03-01", "", {**GOOD, "engagement": "7"}),
    "negative": Submission("2025-03-01", "", {"engagement": "-1"}),
    "minus zero is zero": Submission("2022-02-02", "", {"engagement": "-0"}),
    "NaN": Submission("2025-03-01", "", {"engagement": "nan"}),
    "infinity": Submission("2025-03-01", "", {"engagement": "inf"}),
    "minus infinity": Submission("2025-03-01", "", {"engagement": "-Infinity"}),
    "a number too large for a float": Submission("2025-03-01", "", {"engagement": "9" * 400}),
    "a huge string": Submission("2025-03-01", "", {"engagement": "x" * 100_000}),
    "a huge assessor": Submission("2025-03-01", "A" * 10_000, GOOD),
    "no value at all": Submission("2025-03-01", "", {}),
    "only empty values": Submission("2025-03-01", "", {"engagement": "", "services": "  "}),
    "no date": Submission(None, "", GOOD),
    "an empty date": Submission("", "", GOOD),
    "a wrong date": Submission("2025-02-30", "", GOOD),
    "a date in words": Submission("yesterday", "", GOOD),
    "a date the other way round": Submission("01.03.2025", "", GOOD),
    "a future date": Submission((TODAY + timedelta(days=1)).isoformat(), "", GOOD),
    "a NUL byte": Submission("2025-03-01", "A\x00B", GOOD),
    "unknown fields": Submission(
        "2021-05-05",
        "",
        {"engagement": "3"},
        {"v-bogus": "4", "c-bogus": "x", "tenant_id": "2", "cluster_id": "2", "id": "1"},
    ),
}


@pytest.fixture
def round_form(coordinator, esca):
    """The round form as the page shows it, read once per test."""
    return read_form(coordinator, NEW_ROUND.format(cid=esca["c1"].id))


def test_named_submissions(app, coordinator, esca, round_form, subtests):
    for name, submission in CASES.items():
        with subtests.test(name):
            check_submission(app, coordinator, esca["c1"].id, submission, round_form)
    # The same day twice: the second is refused.
    assert check_submission(app, coordinator, esca["c1"].id, CASES["good"], round_form) == 422


def test_a_wrong_indicator_set_is_not_found_and_writes_nothing(app, coordinator, esca):
    cid = esca["c1"].id
    body = CASES["good"].body(read_form(coordinator, NEW_ROUND.format(cid=cid)))
    for query in ("set=nope&version=2013", "set=esca-gold&version=1999", "set=esca-gold", ""):
        response = coordinator.post(f"/nordland/clusters/{cid}/rounds/new?{query}", data=body)
        assert response.status_code == 404, query
    assert _counts(app) == (0, 0)


# --- generated submissions ------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(-3, 8).map(str),
    st.floats(0, 5).map(lambda f: f"{f:.2f}".replace(".", ",")),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
VALUES = st.one_of(
    NUMBERS,
    NUMBERS,
    st.just(""),
    st.sampled_from(["nan", "-inf", "Infinity", "1e309", " 4 ", "4,", ",5", "1_0", "٣", "0x3"]),
    st.sampled_from(["2.5.1", "five", "∞", "3 4", "--1", "1e", "½", "4\x00"]),
    st.text(max_size=8),
    st.integers(200, 5000).map(lambda n: "9" * n),
)
DATES = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=TODAY).map(date.isoformat),
    st.dates(min_value=date(1990, 1, 1), max_value=TODAY).map(date.isoformat),
    st.dates(min_value=TODAY + timedelta(days=1)).map(date.isoformat),
    st.none(),
    st.sampled_from(["", "2024-02-30", "2025-13-01", "2025-3-1", " 2025-03-01", "0000-01-01"]),
    st.text(max_size=12),
)
ASSESSORS = st.one_of(
    st.none(), st.text(max_size=30), st.integers(195, 210).map(lambda n: " " + "é" * n)
)
UNKNOWN = st.dictionaries(
    st.one_of(
        st.sampled_from(["v-bogus", "c-bogus", "v-", "set", "version", "tenant_id", "id"]),
        st.text(min_size=1, max_size=10).map(lambda s: "x-" + s),
    ),
    st.text(max_size=20),
    max_size=3,
)
VALID_VALUES = st.one_of(
    st.integers(0, 5).map(str),
    st.floats(0, 5).map(lambda f: f"{f:.2f}"),
    st.floats(0, 5).map(lambda f: f" {f:.1f} ".replace(".", ",")),
)
GOODISH = st.builds(
    Submission,
    st.dates(min_value=date(1990, 1, 1), max_value=TODAY).map(date.isoformat),
    st.one_of(st.none(), st.text(max_size=30)),
    st.dictionaries(st.sampled_from(sorted(INDICATORS)), VALID_VALUES, min_size=1),
    UNKNOWN,
)
WILD = st.builds(
    Submission,
    DATES,
    ASSESSORS,
    st.dictionaries(st.sampled_from(sorted(INDICATORS)), VALUES, max_size=8),
    UNKNOWN,
)
SUBMISSIONS = st.one_of(GOODISH, WILD)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(submission=SUBMISSIONS)
def test_generated_submissions(app, coordinator, esca, round_form, submission):
    event(f"status {check_submission(app, coordinator, esca['c1'].id, submission, round_form)}")
