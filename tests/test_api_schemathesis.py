"""Schemathesis against the generated OpenAPI document: every operation, called with a
coordinator's and an observer's token on generated input, valid and invalid, answers no 5xx,
and every answer matches what the document declares for it (status, content type, body).

Driven through Schemathesis' Python interface, one bounded Hypothesis run per operation and
generation mode, each a subtest (its pytest loader does not run under pytest 9). The test
world's cluster is offered for `cluster_id`, so operations reach a real object, not only 404.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api_support import bearer, make_token
from tests.conftest import ROLE_EMAILS

# What must hold of every answer. Not Schemathesis' data-acceptance checks: unknown query
# parameters are ignored on purpose, and the services refuse more than the schemas can say
# (an unknown indicator, a date in the future), with a 422 problem.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
BOUNDED = settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))


def _strategies(operation, known: dict[str, int]):
    names = {p.name for p in operation.path_parameters}
    fixed = {"tenant": "nordland"} if "tenant" in names else {}
    # A generated region would only ever meet 401 (no token of it): the world's is used.
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    found = [operation.as_strategy(mode, path_parameters=fixed or None) for mode in modes]
    real = {name: known[name] for name in names if name in known}
    if real:
        found.append(operation.as_strategy(path_parameters={**fixed, **real}))
    return st.one_of(found)


@pytest.mark.parametrize("role", ["coordinator", "observer"])
def test_every_operation_answers_by_its_schema_and_never_5xx(app, world, role, subtests):
    token = make_token(app, ROLE_EMAILS[role], "nordland", scopes=("read", "write"))
    # Schemathesis's WSGI transport does not decode brotli (compression: test_light_pages).
    headers = bearer(token, **{"Accept-Language": "en", "Accept-Encoding": "identity"})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5, "the document lists the API's operations"
    known = {"cluster_id": world["c1"].id}
    for operation in operations:
        with subtests.test(operation=operation.label):

            @BOUNDED
            @given(case=_strategies(operation, known))
            def check(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            check()
