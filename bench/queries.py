"""SQL statements per request, counted in-process with Flask's test client on the benchmark's
database, signed in as the same user (a ``before_cursor_execute`` listener, as the tests'
``count_queries`` does)."""

from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from statistics import median
from time import perf_counter

from sqlalchemy import event

from bench.server import CSRF

IGNORED = ("SAVEPOINT", "RELEASE", "PRAGMA")
TIMED = 3


@contextmanager
def counting(app):
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def _count(conn, cursor, statement, params, context, executemany):
        if not statement.lstrip().upper().startswith(IGNORED):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def _shape(statement: str) -> str:
    """A statement without its literals, to spot the same query run again and again."""
    text = re.sub(r"\s+", " ", statement).strip()
    text = re.sub(r"\b\d+\b", "?", text)
    return text[:160]


def signed_in_client(app, email: str, password: str):
    client = app.test_client()
    page = client.get("/login")
    match = CSRF.search(page.get_data(as_text=True))
    form = {"email": email, "password": password}
    if match:
        form["csrf_token"] = match.group(1) or match.group(2)
    response = client.post("/login", data=form)
    if response.status_code != 302:
        raise RuntimeError(f"in-process sign-in failed: {response.status_code}")
    return client


def api_token(app, email: str, tenant_slug: str) -> str:
    """A read token of the user in the region, made by the portal's own service: the
    ``Authorization`` header of the API operations."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.api import tokens
    from portal.extensions import db
    from portal.tenancy.models import Tenant

    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == email))
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
        made = tokens.create_token(user, tenant, "bench", ["read"], 30)
        return f"Bearer {made.secret}"


def measure(
    client,
    app,
    path: str,
    expected: int,
    etag_revisit: bool,
    authorization: str = "",
    samples: int = TIMED,
) -> dict:
    """One warm-up request, then one counted request of ``path`` (and more timed: the p50 of
    ``samples`` is the first visit's render time, nothing cached); ``authorization``: an API
    operation's token header."""
    headers = {"Authorization": authorization} if authorization else {}
    started = perf_counter()
    first = client.get(path, headers=headers)
    first_render = perf_counter() - started
    if etag_revisit:
        etag = first.headers.get("ETag")
        if not etag:
            return {"error": "the first response has no ETag"}
        headers["If-None-Match"] = etag
    with counting(app) as statements:
        started = perf_counter()
        response = client.get(path, headers=headers)
        times = [perf_counter() - started]
    for _ in range(samples - 1):
        started = perf_counter()
        client.get(path, headers=headers)
        times.append(perf_counter() - started)
    result = {
        "queries": len(statements),
        "status": response.status_code,
        "bytes": len(response.get_data()),
        # One request at a time, no HTTP server, the page cache off: the median, in ms.
        "in_process_ms": round(median(times) * 1000, 2),
        # The page's first render in this process: what it keeps between requests (rule
        # verdicts, round values, plugin work) not worked out yet for it, as after a write
        # to its evidence. Pages measured before may have filled keeps it shares.
        "first_render_ms": round(first_render * 1000, 2),
        "repeated": [
            {"count": n, "statement": shape}
            for shape, n in Counter(_shape(s) for s in statements).most_common(5)
            if n > 2
        ],
    }
    if response.status_code != expected:
        result["error"] = f"answered {response.status_code}, expected {expected}"
    return result
