"""Realistic writes while the pages are loaded: several signed-in users change their actions'
status and progress through the plan's form (the version read from the edit form) and through
the API (If-Match), comment on actions, and register for a workshop and give the seat up again.

The rate follows the reads: ``--writes 1`` makes one request in a hundred a write, paced from
the requests per second of the slice just measured. Every write's status is checked; a 5xx or
an unexpected status is a problem of the run, a 409 (someone else saved first) is counted apart.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from statistics import median
from urllib.parse import urlencode

from bench.server import CSRF, Browser, request

VERSION = re.compile(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"')
# The share of each kind of write (the rest of the mix follows from it).
MIX = (("form_edit", 50), ("api_edit", 20), ("comment", 20), ("registration", 10))
ACTIONS_PER_USER = 40
WORKSHOPS_PER_USER = 20


@dataclass
class Writer:
    """One signed-in user who writes: a browser session, an API token with the write scope,
    the actions they may edit and the workshops they may register for."""

    email: str
    browser: Browser
    authorization: str
    action_ids: list[int]
    workshop_ids: list[int]
    csrf: str = ""
    registered: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def users_of(app, region, count: int) -> list[str]:
    """The e-mail addresses of the ``count`` signed-in users: the coordinator, the named
    manager (cluster 1), then the managers of clusters 2, 3, ..."""
    emails = [region.coordinator_email, region.manager_email]
    emails += [f"manager{n:04d}@bench.example.org" for n in range(2, count + 1)]
    return emails[: max(1, count)]


def prepare(app, region, emails: list[str]) -> dict[str, dict]:
    """In-process, before the server starts: each user's write token and the actions
    (they own) and upcoming workshops (they may register for) they write to."""
    from datetime import date

    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.api import tokens
    from portal.extensions import db
    from portal.permissions import may
    from portal.tenancy import tenant_scope
    from portal.tenancy.models import Tenant
    from portal.workshops.models import Workshop

    found: dict[str, dict] = {}
    with app.test_request_context():
        tenant = db.session.scalar(select(Tenant).where(Tenant.slug == region.tenant_slug))
        action = db.metadata.tables["plan_action"]
        with tenant_scope(tenant.id):
            upcoming = list(
                db.session.scalars(
                    select(Workshop)
                    .where(Workshop.day > date.today(), Workshop.cancelled_at.is_(None))
                    .order_by(Workshop.day, Workshop.id)
                )
            )
        for email in emails:
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                continue
            # The tables, not the models: no request's tenant scopes these reads.
            actions = list(
                db.session.scalars(
                    select(action.c.id)
                    .where(action.c.tenant_id == tenant.id, action.c.owner_id == user.id)
                    .order_by(action.c.id)
                    .limit(ACTIONS_PER_USER)
                )
            )
            # Those the user may register for (invited, or a coordinator), as the API checks.
            with tenant_scope(tenant.id):
                workshops = [w.id for w in upcoming if may(user, "workshop.register", w)]
            made = tokens.create_token(user, tenant, "bench writes", ["read", "write"], 30)
            found[email] = {
                "authorization": f"Bearer {made.secret}",
                "action_ids": actions,
                "workshop_ids": workshops[:WORKSHOPS_PER_USER],
            }
    return found


class WriteLoad:
    """A thread that writes at ``percent`` of the requests, spread over the users."""

    def __init__(self, port: int, tenant: str, writers: list[Writer], seed: int = 18) -> None:
        self.port = port
        self.tenant = tenant
        self.writers = [w for w in writers if w.action_ids]
        self.rng = random.Random(seed)
        self.percent = 0.0
        self.reads_per_s = 0.0
        self.stats: dict[str, list] = {}
        self.statuses: dict[str, dict[str, int]] = {}
        self.problems: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.writers)))
        self._turn = 0
        self.skipped_busy = 0

    # --- pacing ------------------------------------------------------------------------------

    def start(self, percent: float) -> None:
        self.percent = percent
        self.stats, self.statuses, self.problems, self.skipped_busy = {}, {}, [], 0
        if percent <= 0 or not self.writers:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._pace, daemon=True)
        self._thread.start()

    def stop(self) -> dict:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self._pool.shutdown(wait=True)
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.writers)))
        return self.summary()

    def _rate(self) -> float:
        share = self.percent / 100
        return self.reads_per_s * share / (1 - share) if 0 < share < 1 else 0.0

    def _pace(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            rate = self._rate()
            if rate <= 0:
                self._stop.wait(0.1)
                next_at = time.monotonic()
                continue
            next_at += 1 / rate
            delay = next_at - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            writer = self.writers[self._turn % len(self.writers)]
            self._turn += 1
            if writer.lock.locked():
                self.skipped_busy += 1  # a user writes one thing at a time
                continue
            self._pool.submit(self._one, writer)

    # --- the writes --------------------------------------------------------------------------

    def _one(self, writer: Writer) -> None:
        with writer.lock:
            kind = self.rng.choices([k for k, _ in MIX], [w for _, w in MIX])[0]
            if kind == "registration" and not writer.workshop_ids:
                kind = "comment"
            try:
                started = time.perf_counter()
                status = getattr(self, "_" + kind)(writer)
                elapsed = (time.perf_counter() - started) * 1000
            except Exception as exc:  # noqa: BLE001 - a broken write is reported, not raised
                self.problems.append(f"{kind}: {type(exc).__name__}: {exc}")
                return
            self.stats.setdefault(kind, []).append(elapsed)
            counts = self.statuses.setdefault(kind, {})
            counts[str(status)] = counts.get(str(status), 0) + 1
            if status >= 500:
                self.problems.append(f"{kind} answered {status}")

    def _csrf(self, writer: Writer, html: bytes) -> None:
        match = CSRF.search(html.decode(errors="replace"))
        if match:
            writer.csrf = match.group(1) or match.group(2)

    def _form_edit(self, writer: Writer) -> int:
        """Open the action's edit form (its version and CSRF token), then save status and
        progress through the plan's quick edit (as its row does, htmx)."""
        action_id = self.rng.choice(writer.action_ids)
        status, _, body = writer.browser.get(f"/{self.tenant}/actions/{action_id}/edit")
        if status != 200:
            return status
        self._csrf(writer, body)
        match = VERSION.search(body.decode(errors="replace"))
        version = (match.group(1) or match.group(2)) if match else "1"
        form = {
            "csrf_token": writer.csrf,
            "status": "in_progress",
            "progress": str(self.rng.randrange(5, 96, 5)),
            "version": version,
        }
        return self._post(writer, f"/{self.tenant}/actions/{action_id}/quick", form, htmx=True)

    def _comment(self, writer: Writer) -> int:
        action_id = self.rng.choice(writer.action_ids)
        if not writer.csrf:
            _, _, body = writer.browser.get(f"/{self.tenant}/actions/{action_id}/edit")
            self._csrf(writer, body)
        form = {"csrf_token": writer.csrf, "body": "Progress noted during the benchmark."}
        return self._post(writer, f"/{self.tenant}/actions/{action_id}/comments", form)

    def _api_edit(self, writer: Writer) -> int:
        action_id = self.rng.choice(writer.action_ids)
        path = f"/api/v1/{self.tenant}/actions/{action_id}"
        auth = {"Authorization": writer.authorization}
        status, headers, _ = request(self.port, "GET", path, auth)
        if status != 200:
            return status
        body = json.dumps({"status": "in_progress", "progress": self.rng.randrange(5, 96, 5)})
        status, _, _ = request(
            self.port,
            "PATCH",
            path,
            {**auth, "If-Match": headers.get("etag", ""), "Content-Type": "application/json"},
            body,
        )
        return status

    def _registration(self, writer: Writer) -> int:
        """Register for a workshop, or give the seat up again if registered."""
        workshop_id = self.rng.choice(writer.workshop_ids)
        path = f"/api/v1/{self.tenant}/workshops/{workshop_id}/registration"
        auth = {"Authorization": writer.authorization, "Content-Type": "application/json"}
        if workshop_id in writer.registered:
            status, _, _ = request(self.port, "DELETE", path, auth)
            writer.registered.discard(workshop_id)
            return status
        status, _, _ = request(self.port, "POST", path, auth, json.dumps({"answers": {}}))
        if status == 200:
            writer.registered.add(workshop_id)
        return status

    def _post(self, writer: Writer, path: str, form: dict, htmx: bool = False) -> int:
        headers = {
            "Cookie": writer.browser.cookie_header,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        if htmx:
            headers["HX-Request"] = "true"
        status, out, _ = request(self.port, "POST", path, headers, urlencode(form))
        writer.browser._keep(out)
        return status

    # --- what happened -----------------------------------------------------------------------

    def summary(self) -> dict:
        kinds = {}
        for kind, times in self.stats.items():
            ordered = sorted(times)
            kinds[kind] = {
                "count": len(times),
                "p50_ms": round(median(ordered), 1),
                "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
                "statuses": self.statuses.get(kind, {}),
            }
        return {
            "percent": self.percent,
            "users": len(self.writers),
            "writes": sum(k["count"] for k in kinds.values()),
            "kinds": kinds,
            "skipped_busy": self.skipped_busy,
            "problems": sorted(set(self.problems))[:20],
        }


def writers_for(port: int, emails: list[str], prepared: dict[str, dict], password: str):
    """Sign each user in over HTTP (their own session)."""
    result = []
    for email in emails:
        info = prepared.get(email)
        if info is None:
            continue
        browser = Browser(port)
        browser.sign_in(email, password)
        result.append(
            Writer(
                email=email,
                browser=browser,
                authorization=info["authorization"],
                action_ids=info["action_ids"],
                workshop_ids=info["workshop_ids"],
            )
        )
    return result
