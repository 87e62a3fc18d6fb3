from __future__ import annotations

import contextvars
import gc
import os

import click
from flask.cli import ScriptInfo

from portal.cli.database import require_migrated


def control_socket_path(app, host: str, port: int) -> str:
    """gunicorn's control socket of this server: one per instance folder and address (the
    default, ~/.gunicorn/gunicorn.ctl, is shared by every server of the machine's user, so
    a second ``portal serve`` took over the first one's). A Unix socket path has at most
    about 100 bytes: a long instance folder falls back to the temporary folder."""
    import hashlib
    import tempfile

    name = f"gunicorn-{host.replace(':', '_')}-{port}.ctl"
    folder = app.instance_path
    if len(os.path.join(folder, name)) > 100:
        digest = hashlib.sha256(folder.encode()).hexdigest()[:12]
        folder, name = tempfile.gettempdir(), f"portal-{digest}-{name}"
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)


def _embedded_jobs(app) -> None:
    """Without a broker, each server process retries failed mail and closes ended workshops
    itself (portal.jobs)."""
    from portal.jobs import broker, start_sweeper

    if broker(app) is None:
        start_sweeper(app)


def serve_app(app, host: str, port: int, workers: int) -> None:
    """gunicorn when it is installed (Linux, macOS), else Werkzeug's threaded server."""
    # Flask's CLI pushed an app context for this command. Serving inside it would make
    # every request share one `g`; an empty context gives each request its own.
    fresh = contextvars.Context()
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:
        click.echo("gunicorn is not installed; using the development server")
        _embedded_jobs(app)
        fresh.run(app.run, host=host, port=port, threaded=True, use_reloader=False)
        return

    threads = max(4, 4 * workers)
    if app.config.get("REDIS_URL"):
        click.echo(f"sign-in limits and sessions: in Redis, shared by {workers} worker(s)")
    else:
        click.echo(
            f"sign-in limits: in memory (no PORTAL_REDIS_URL), so one worker process with "
            f"{threads} threads; sessions: in the database"
        )

    def _post_fork(server, worker):
        # Connections opened before the fork must not be shared between workers.
        from portal.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)
        _embedded_jobs(app)
        # The app's long-lived objects are never garbage: the collector need not walk them.
        gc.freeze()

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            if app.config.get("REDIS_URL"):
                self.cfg.set("workers", workers)
            else:
                # Without Redis the sign-in limits live in the process's memory: one process,
                # whose threads serve the requests (portal.accounts.throttle).
                self.cfg.set("workers", 1)
                self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            self.cfg.set("post_fork", _post_fork)
            if "control_socket" in self.cfg.settings:  # gunicorn 24 and later
                self.cfg.set("control_socket", control_socket_path(app, host, port))

        def load(self):
            return app

    fresh.run(_Server().run)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--workers", default=int(os.environ.get("PORTAL_WORKERS", 2)), show_default=True, type=int
)
def serve_command(host: str, port: int, workers: int) -> None:
    """Serve the portal (gunicorn when available)."""
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():
        require_migrated(app)
    serve_app(app, host, port, workers)
