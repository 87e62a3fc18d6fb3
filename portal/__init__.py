"""Cluster Forum Portal: a multi-tenant, plugin-based portal for regional cluster forums."""

from __future__ import annotations

import logging
import weakref
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader

__version__ = "0.1.0"

log = logging.getLogger(__name__)


def create_app(
    config: dict[str, Any] | None = None, *, plugins: list[tuple[str, Any]] = ()
) -> Flask:
    """Build the app. ``plugins`` registers extra (name, module) pairs, e.g. in tests."""
    from portal import paths
    from portal.config import load_config

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(paths.TEMPLATES_DIR),
        static_folder=str(paths.STATIC_DIR),
    )
    app.config.update(load_config(Path(app.instance_path)))
    if config:
        app.config.update(config)
    from portal.web.converters import init_converters

    init_converters(app)  # before any route is added

    _import_models()
    host = _init_plugins(app, plugins)
    _init_translations(app, host)
    _init_extensions(app)
    _register_blueprints(app, host)
    from portal.api.setup import init_api

    init_api(app, host)  # its token check runs before the tenant check (init_tenant_urls)
    _init_templates(app, host)

    from portal.tenancy.web import init_tenant_urls
    from portal.web.errors import init_error_pages
    from portal.web.page_cache import init_page_cache
    from portal.web.security import init_security_headers

    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    init_tenant_urls(app)
    init_security_headers(app)
    init_error_pages(app)
    init_page_cache(app)
    from portal.web.compression import init_compression
    from portal.web.etags import init_etags

    init_compression(app)  # registered before the ETags: their hook sees the plain body
    init_etags(app)

    from portal.cli import register_app_commands

    register_app_commands(app, host)
    return app


def _import_models() -> None:
    # Importing registers every core table in the shared metadata.
    import portal.accounts.models
    import portal.api.models
    import portal.audit.models
    import portal.benchmarking.models
    import portal.clusters.models
    import portal.files.lifecycle  # stored objects deleted after their rows' commit
    import portal.files.models
    import portal.imports.models
    import portal.labels.models
    import portal.mail.models
    import portal.notifications.models
    import portal.plans.figures  # its flush listener keeps plan and programme figures
    import portal.plans.models
    import portal.plugin_incidents
    import portal.privacy.models
    import portal.programmes.models
    import portal.search.indexing  # its flush listener keeps the search index current
    import portal.search.models
    import portal.shared_figures
    import portal.tenancy.models
    import portal.webhooks.models
    import portal.webhooks.recording  # its flush listener records events as deliveries
    import portal.workshops.models
    import portal.workshops.notices
    import portal.workshops.registration_models  # noqa: F401


def _init_extensions(app: Flask) -> None:
    from flask_babel import Babel

    from portal import paths
    from portal.extensions import csrf, db, limiter, login_manager, migrate
    from portal.i18n import select_locale, select_timezone

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _sqlite_pragmas(app)
    migrate.init_app(
        app, db, directory=str(paths.MIGRATIONS_DIR), render_as_batch=True, command="alembic"
    )
    csrf.init_app(app)
    limiter.init_app(app)
    # One Babel per app: it caches catalogs, and each app may have other plugins' catalogs.
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Sign in to see this page.")
    # Sessions on the server (the user loader) and the limits of failed sign-ins.
    from portal.accounts.sessions import init_sessions
    from portal.accounts.throttle import init_login_throttle

    init_sessions(app)
    init_login_throttle(app)
    from portal.jobs import init_jobs

    init_jobs(app)  # after Flask-SQLAlchemy: its teardown delivers before the session ends


# The engines whose connections get the SQLite settings (once per engine, however many apps
# share it: the tests' apps share one per database; the first app's settings hold).
_SQLITE_ENGINES: weakref.WeakSet = weakref.WeakSet()


def _sqlite_pragmas(app: Flask) -> None:
    from sqlalchemy import event

    from portal.extensions import db

    with app.app_context():
        engine = db.engine
    if engine in _SQLITE_ENGINES:
        return
    _SQLITE_ENGINES.add(engine)
    busy_ms, wal = int(app.config["SQLITE_BUSY_MS"]), bool(app.config["SQLITE_WAL"])

    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file; a no-op once set
        cursor.close()

    event.listen(engine, "connect", on_connect)


def _init_plugins(app: Flask, extra: list[tuple[str, Any]]):
    from portal.plugin_host import PluginHost

    host = PluginHost(app)
    app.extensions["portal_plugins"] = host
    with app.app_context():
        host.load_entry_points(skip=app.config["PORTAL_DISABLED_PLUGINS"])
        for name, module in extra:
            host.register(name, module)
    return host


def _register_blueprints(app: Flask, host) -> None:
    import portal.workshops.comms_views  # noqa: F401 - its routes on the workshops blueprint
    from portal.accounts.views import bp as auth_bp
    from portal.admin.views import bp as admin_bp
    from portal.benchmarking.import_views import bp as round_import_bp
    from portal.benchmarking.views import bp as benchmarking_bp
    from portal.clusters.views import bp as clusters_bp
    from portal.imports.job_views import bp as import_jobs_bp
    from portal.labels.public_views import bp as public_register_bp
    from portal.labels.views import bp as labels_bp
    from portal.main.views import bp as main_bp
    from portal.notifications.views import bp as notifications_bp
    from portal.notifications.views import settings_bp as notification_settings_bp
    from portal.plans.followups import bp as followups_bp
    from portal.plans.spreadsheet_views import bp as spreadsheets_bp
    from portal.plans.views import bp as plans_bp
    from portal.privacy.views import bp as privacy_bp
    from portal.programmes.views import bp as programmes_bp
    from portal.reports.views import bp as reports_bp
    from portal.search.views import bp as search_bp
    from portal.settings.views import bp as settings_bp
    from portal.webhooks.views import bp as webhooks_bp
    from portal.workshops.views import bp as workshops_bp

    for bp in (
        auth_bp,
        admin_bp,
        main_bp,
        clusters_bp,
        settings_bp,
        webhooks_bp,
        privacy_bp,
        programmes_bp,
        reports_bp,
        workshops_bp,
        plans_bp,
        spreadsheets_bp,
        benchmarking_bp,
        labels_bp,
        public_register_bp,
        round_import_bp,
        import_jobs_bp,
        search_bp,
        followups_bp,
        notifications_bp,
        notification_settings_bp,
    ):
        app.register_blueprint(bp)
    with app.app_context():
        for plugin_name, blueprints in host.call_named("blueprints"):
            for bp in blueprints:
                try:
                    app.register_blueprint(bp)
                except Exception as exc:
                    host.disable_after_error(plugin_name, "blueprints", exc)
                    continue
                host.blueprint_owner[bp.name] = plugin_name
        static = {}
        for _plugin_name, folders in host.call_named("static_folders"):
            for name, folder in folders.items():
                static[name] = folder
        app.extensions["portal_plugin_static"] = static


def _init_templates(app: Flask, host) -> None:
    from portal import template_globals

    with app.app_context():
        folders = host.call_flat("template_folders")
    if folders:
        app.jinja_loader = ChoiceLoader([app.jinja_loader, *(FileSystemLoader(f) for f in folders)])
    template_globals.init_app(app)


def _init_translations(app: Flask, host) -> None:
    """Core catalogs first, then each plugin's; Flask-Babel merges them per language."""
    from portal import paths

    with app.app_context():
        folders = host.call_flat("translation_folders")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(
        [str(paths.TRANSLATIONS_DIR), *(str(f) for f in folders)]
    )
