"""One scale of ``python -m bench``: a fresh database and region of that many clusters, each
page's queries and first visit counted in-process, then gunicorn serving it while wrk loads each
page in slices alternating with /hello, under each write share of the run."""

from __future__ import annotations

import dataclasses
import os
import secrets
import time

from bench import machine, pages, queries, report, server, slices, synth, writes
from bench.console import note
from bench.database import Database


def _env(db: Database, page_cache: str) -> dict[str, str]:
    return {
        "PORTAL_PAGE_CACHE_MB": "64" if page_cache == "on" else "0",
        "PORTAL_DATABASE_URL": db.url,
        "PORTAL_SECRET_KEY": "bench-" + secrets.token_hex(16),
        "PORTAL_UPLOAD_DIR": str(db.folder / "uploads"),
        # Each run signs in once; the default limit would not notice, but a long scale run might.
        "PORTAL_LOGIN_RATE_LIMIT": "1000 per minute",
        # The API operations are loaded with one token: its limit would measure 429s.
        "PORTAL_API_RATE_LIMIT": "10000000 per minute",
    }


def _empty_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def _page_entry(item: pages.Resolved) -> dict:
    page = item.page
    return {
        "key": page.key,
        "title": page.title,
        "path": item.path,
        "endpoint": page.endpoint,
        "expected_status": page.expected_status,
        "token": page.token,
        "target": page.target,
        "p95_target_ms": page.p95_target_ms,
        "first_visit_target_ms": page.first_visit_target_ms,
        "status": "skipped" if item.skipped else "ok",
        "notes": [item.skipped] if item.skipped else [],
        "slices": [],
    }


def measure_scale(clusters: int, settings: dict, args) -> dict:
    from portal import create_app

    db = Database(settings["db"], args.pg_url, args.keep_db)
    note(f"\n== {clusters} clusters: a fresh {settings['db']} database ({db.name})")
    db.create()
    srv = app = None
    try:
        env = _env(db, settings["page_cache"])
        # In-process, every request renders: the queries counted are the page's own work.
        os.environ.update({**env, "PORTAL_PAGE_CACHE_MB": "0"})
        app = create_app()
        from portal.extensions import db as sa

        with app.app_context():
            database = machine.database_version(sa.engine)
        synth.migrate(app)
        scale = dataclasses.replace(
            synth.Scale.for_clusters(clusters, smoke=settings["smoke"]),
            aimed_every=settings.get("aimed_every", 0),
        )
        note(f"building the region ({database})")
        region = synth.build(app, scale)
        note(f"built: {synth.describe(region)}")
        for line in region.notes:
            note(f"note: {line}")

        wanted = None
        if settings["only"]:
            wanted = {k.strip() for k in settings["only"].split(",")} | {pages.HELLO}
        resolved = [r for r in pages.resolve(app, region) if wanted is None or r.page.key in wanted]
        entries = {r.page.key: _page_entry(r) for r in resolved}
        for r in resolved:
            if r.skipped:
                note(f"skipping {r.page.key}: {r.skipped}")

        # Queries per request and the first visit's render time, in-process, on the same
        # database and as the coordinator, nothing cached.
        client = queries.signed_in_client(app, region.coordinator_email, region.password)
        emails = writes.users_of(app, region, settings["users"])
        prepared = writes.prepare(app, region, emails)
        authorization = prepared[region.coordinator_email]["authorization"]
        for r in resolved:
            if r.skipped:
                continue
            counted = queries.measure(
                client,
                app,
                r.path,
                r.page.expected_status,
                r.page.etag_revisit,
                authorization if r.page.token else "",
                samples=3 if settings["smoke"] else 11,
            )
            entries[r.page.key]["in_process"] = counted
            entries[r.page.key]["queries"] = counted.get("queries")
            entries[r.page.key]["first_visit_ms"] = counted.get("in_process_ms")
            entries[r.page.key]["first_render_ms"] = counted.get("first_render_ms")
            if counted.get("error"):
                entries[r.page.key]["status"] = "FAIL"
                entries[r.page.key]["notes"].append(f"in-process: {counted['error']}")
        with app.app_context():
            sa.session.remove()
            sa.engine.dispose()

        served = dict(env)
        if settings.get("redis"):
            _empty_redis(settings["redis"])
            served["PORTAL_REDIS_URL"] = settings["redis"]
        srv = server.Server(
            server.process_env(served), settings["workers"], db.folder / "gunicorn.log"
        )
        note(f"starting: {' '.join(srv.command[2:])}")
        srv.start()
        users = writes.writers_for(srv.port, emails, prepared, region.password)
        active = [r for r in resolved if not r.skipped and entries[r.page.key]["status"] == "ok"]
        readers = _readers(srv, active, entries, users)
        write_load = writes.WriteLoad(srv.port, region.tenant_slug, users)
        mixes = []
        for percent in settings["writes"]:
            note(f"-- {percent:g} % writes, {len(users)} signed-in users")
            mix_entries = {
                key: {**entry, "notes": list(entry["notes"]), "slices": []}
                for key, entry in entries.items()
            }
            started = time.monotonic()
            write_load.start(percent)
            hello_slices = slices.measure_mix(
                srv,
                active,
                mix_entries,
                readers,
                {**settings, "slice_writes": percent},
                write_load,
                note,
            )
            done = write_load.stop()
            seconds = time.monotonic() - started
            if pages.HELLO in mix_entries:
                slices.hello_entry(mix_entries[pages.HELLO], hello_slices)
            measured = [mix_entries[r.page.key] for r in resolved]
            done["seconds"] = round(seconds, 1)
            done["per_second"] = round(done["writes"] / seconds, 2) if seconds else 0
            page_rps = [p["rps"] for p in measured if p.get("rps") and p["key"] != pages.HELLO]
            if page_rps and done["writes"]:
                mean = sum(page_rps) / len(page_rps)
                done["share_achieved"] = round(done["per_second"] / (done["per_second"] + mean), 5)
            if done["problems"]:
                note("write problems: " + "; ".join(done["problems"]))
            mixes.append(
                {
                    "writes_percent": percent,
                    "writes": done,
                    "pages": [report.verdicts(p, clusters) for p in measured],
                }
            )
        return {
            "clusters": clusters,
            "database": database,
            "region": region.as_dict(),
            "server_command": " ".join(
                ["gunicorn", *(a for a in srv.command[3:] if not a.startswith("--chdir"))]
            ),
            "users": [u.email for u in users],
            "worker_pids_at_end": srv.worker_pids(),
            "mixes": mixes,
            # The first mix (normally without writes) stands for the scale in comparisons.
            "pages": mixes[0]["pages"] if mixes else [],
        }
    finally:
        if srv is not None:
            srv.stop()
        if settings.get("redis"):
            _empty_redis(settings["redis"])
        if app is not None:
            from portal.extensions import db as sa

            with app.app_context():
                sa.session.remove()
                sa.engine.dispose()
        db.drop()


def _readers(srv, active, entries, users) -> dict[str, dict]:
    """Who reads each page: the users who get its expected status (their cookies, or for an
    API operation their tokens); the ETag revisit: the coordinator with the page's ETag."""
    readers: dict[str, dict] = {}
    for r in active:
        if r.page.key == pages.HELLO:
            continue
        entry = entries[r.page.key]
        cookies, tokens = [], []
        for user in users[:1] if r.page.etag_revisit else users:
            headers = {"Authorization": user.authorization} if r.page.token else {}
            status, got, _ = user.browser.get(r.path, headers)
            if r.page.etag_revisit:
                etag = got.get("etag", "")
                status, _, _ = user.browser.get(r.path, {"If-None-Match": etag})
                readers[r.page.key] = {"cookie": user.browser.cookie_header, "etag": etag}
            if status != r.page.expected_status:
                continue
            (tokens if r.page.token else cookies).append(
                user.authorization if r.page.token else user.browser.cookie_header
            )
        if r.page.etag_revisit:
            if status != r.page.expected_status:
                readers.pop(r.page.key, None)
        elif cookies or tokens:
            readers[r.page.key] = {"cookie": "\n".join(cookies), "authorization": "\n".join(tokens)}
        readers_count = 1 if r.page.etag_revisit else len(cookies) + len(tokens)
        entry["readers"] = readers_count
        if r.page.key not in readers:
            entry["status"] = "FAIL"
            entry["notes"].append(f"no signed-in user got {r.page.expected_status}")
        elif readers_count < len(users) and not r.page.etag_revisit:
            entry["notes"].append(
                f"read by {readers_count} of {len(users)} users (the others may not)"
            )
    return readers


# --- main ---------------------------------------------------------------------------------------
