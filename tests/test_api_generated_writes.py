"""No write of the JSON API ends in a 5xx: every POST and DELETE operation of a region with
generated JSON bodies (the fields of the create schemas, values of every kind, nested values
for a round's indicators and a registration's answers), as each role (Hypothesis, bounded
examples). Every refusal is a problem, and a refused write changes nothing."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api_support import bearer, make_token
from tests.conftest import ROLE_EMAILS
from tests.test_generated_requests import VALUES, region  # noqa: F401 - the fixture
from tests.walk_support import region_urls

FIELDS = (
    "title", "description", "owner_id", "cluster_ids", "start_date", "due_date", "status",
    "progress", "priority", "weight", "workshop_id", "indicators", "planned_hours",
    "spent_money", "indicator_set", "set_version", "held_on", "kind", "assessor", "notes",
    "confirm", "values", "answers",
)  # fmt: skip
SCALARS = st.one_of(
    VALUES,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
NESTED = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(
        st.one_of(st.sampled_from(["engagement", "1", "x"]), VALUES),
        st.one_of(
            SCALARS, st.fixed_dictionaries({"value": SCALARS}, optional={"comment": SCALARS})
        ),
        max_size=3,
    ),
)
BODIES = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), NESTED, max_size=6),
    st.fixed_dictionaries(
        {"title": VALUES, "indicator_set": st.just("esca-gold"), "set_version": st.just("2013")},
        optional={"held_on": VALUES, "values": NESTED, "kind": VALUES, "answers": NESTED},
    ),
    st.sampled_from([[], "text", 1, None]),
)
BOUNDED = settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.mark.parametrize("role", sorted(ROLE_EMAILS))
def test_every_api_write_with_generated_bodies(app, region, role):  # noqa: F811
    client = app.test_client()
    headers = bearer(make_token(app, ROLE_EMAILS[role], "nordland", scopes=("read", "write")))
    urls = [
        (method, url)
        for method in ("POST", "DELETE")
        for rule, url in region_urls(app, region["a"].id, "nordland", method, False)
        if rule.rule.startswith("/api/")
    ]
    assert len(urls) >= 4, urls

    @BOUNDED
    @given(body=BODIES)
    def call(body):
        for method, url in urls:
            response = client.open(url, method=method, json=body, headers=headers)
            assert response.status_code < 500, (method, url, body, response.status_code)
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json", (method, url)

    call()
