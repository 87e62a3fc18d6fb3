"""The plugin manager: loads plugins from entry points, calls hooks safely.

Built inside ``create_app`` (never at import time). A plugin that fails to load,
or raises in a hook, is logged, recorded as an incident and switched off in this
process; the portal keeps serving.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import Flask, g, has_app_context, has_request_context
from sqlalchemy import insert, select

from portal import hookspecs
from portal.keeps import on_forget, reading_request

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "portal.plugins"
# Hooks that wire the app run for every installed plugin; the rest only for
# tenants that switched the plugin on.
WIRING_HOOKS = frozenset(
    {
        "plugin_info",
        "blueprints",
        "api_blueprints",
        "template_folders",
        "static_folders",
        "translation_folders",
        "cli_commands",
        "migration_branches",
        "indicator_sets",
        "label_schemes",
        "notification_kinds",
        "tenant_created",
    }
)


@dataclass
class InstalledPlugin:
    name: str
    module: Any
    distribution: str = ""
    version: str = ""
    load_error: str = ""
    hooks: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


class PluginHost:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pm = pluggy.PluginManager("portal")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, InstalledPlugin] = {}
        self.broken: dict[str, str] = {}
        self.blueprint_owner: dict[str, str] = {}
        self._versioned: dict[str, dict[tuple[str, str], tuple[str, Any]]] = {}
        self._enabled_by_version: dict[tuple[int, int], frozenset[str]] = {}

    # --- loading --------------------------------------------------------------------

    def load_entry_points(self, skip: list[str]) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in skip or ep.name in self.plugins:
                continue
            dist = ep.dist.name if ep.dist else ""
            version = ep.dist.version if ep.dist else ""
            try:
                module = ep.load()
            except Exception as exc:  # a broken plugin must not take the portal down
                log.exception("plugin %s failed to load", ep.name)
                self.plugins[ep.name] = InstalledPlugin(
                    ep.name, None, dist, version, load_error=_describe(exc)
                )
                self.broken[ep.name] = _describe(exc)
                continue
            self.register(ep.name, module, dist, version)

    def register(self, name: str, module: Any, distribution: str = "", version: str = "") -> None:
        try:
            self.pm.register(module, name=name)
        except Exception as exc:  # e.g. a hookimpl that matches no hookspec
            log.exception("plugin %s failed to register", name)
            self.plugins[name] = InstalledPlugin(
                name, module, distribution, version, load_error=_describe(exc)
            )
            self.broken[name] = _describe(exc)
            return
        hooks = sorted(caller.name for caller in self.pm.get_hookcallers(module) or [])
        plugin = InstalledPlugin(name, module, distribution, version, hooks=hooks)
        self.plugins[name] = plugin
        info = self.call_plugin(name, "plugin_info")
        plugin.info = info if isinstance(info, dict) else {}

    # --- calling --------------------------------------------------------------------

    def call(self, hook_name: str, *, tenant_id: int | None = None, **kwargs: Any) -> list[Any]:
        """Call a hook and return every non-None answer, in pluggy's call order."""
        results = []
        for plugin_name, impl in self._impls(hook_name, tenant_id):
            result = self._invoke(plugin_name, hook_name, impl, kwargs)
            if result is not None:
                results.append(result)
        return results

    def call_named(
        self, hook_name: str, *, tenant_id: int | None = None, **kwargs: Any
    ) -> list[tuple[str, Any]]:
        """Like :meth:`call`, with the name of the plugin that gave each answer."""
        results = []
        for plugin_name, impl in self._impls(hook_name, tenant_id):
            result = self._invoke(plugin_name, hook_name, impl, kwargs)
            if result is not None:
                results.append((plugin_name, result))
        return results

    def call_flat(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook whose answers are lists and join them."""
        return [item for result in self.call(hook_name, **kwargs) for item in result]

    def call_first(self, hook_name: str, *, tenant_id: int | None = None, **kwargs: Any) -> Any:
        for plugin_name, impl in self._impls(hook_name, tenant_id):
            result = self._invoke(plugin_name, hook_name, impl, kwargs)
            if result is not None:
                return result
        return None

    def call_plugin(self, plugin_name: str, hook_name: str, **kwargs: Any) -> Any:
        for name, impl in self._impls(hook_name, None, everyone=True):
            if name == plugin_name:
                return self._invoke(name, hook_name, impl, kwargs)
        return None

    def _impls(self, hook_name: str, tenant_id: int | None, everyone: bool = False):
        hook = getattr(self.pm.hook, hook_name)
        wiring = everyone or hook_name in WIRING_HOOKS
        enabled = None if wiring else self.enabled_for(tenant_id)
        for impl in reversed(hook.get_hookimpls()):
            name = impl.plugin_name
            if name in self.broken:
                continue
            if enabled is not None and name not in enabled:
                continue
            yield name, impl

    def _invoke(self, plugin_name: str, hook_name: str, impl, kwargs: dict[str, Any]) -> Any:
        try:
            return impl.function(*(kwargs[arg] for arg in impl.argnames))
        except Exception as exc:
            self.disable_after_error(plugin_name, hook_name, exc)
            return None

    def disable_after_error(self, plugin_name: str, hook_name: str, exc: BaseException) -> None:
        log.exception("plugin %s raised in hook %s; disabled", plugin_name, hook_name)
        self.broken[plugin_name] = f"{hook_name}: {_describe(exc)}"
        self._record_incident(plugin_name, hook_name, exc)

    def _record_incident(self, plugin_name: str, hook_name: str, exc: BaseException) -> None:
        if not has_app_context():
            return
        from portal.extensions import db
        from portal.plugin_incidents import PluginIncident

        details = "".join(traceback.format_exception(exc))[-4000:]
        try:
            # Its own transaction: the request's may still roll back.
            with db.engine.begin() as conn:
                conn.execute(
                    insert(PluginIncident).values(
                        plugin_name=plugin_name,
                        hook=hook_name,
                        error=_describe(exc),
                        details=details,
                    )
                )
        except Exception:
            log.exception("could not record the plugin incident")

    # --- versioned data from plugins (indicator sets, label schemes) -------------------

    def versioned(self, hook_name: str) -> dict[tuple[str, str], tuple[str, Any]]:
        """What a hook's answers hold, by (item.id, item.version), with the plugin of each.

        Read once per app: these are data the plugins ship, not per-request state.
        """
        if hook_name not in self._versioned:
            found = {}
            for plugin_name, items in self.call_named(hook_name):
                for item in items:
                    found[(item.id, item.version)] = (plugin_name, item)
            self._versioned[hook_name] = found
        return self._versioned[hook_name]

    def versioned_for(self, hook_name: str, tenant_id: int) -> list[Any]:
        """Every version of every item whose plugin the tenant switched on."""
        enabled = self.enabled_for(tenant_id)
        return [item for plugin, item in self.versioned(hook_name).values() if plugin in enabled]

    # --- per-tenant state -----------------------------------------------------------

    def enabled_for(self, tenant_id: int | None) -> set[str]:
        """Names of plugins switched on for the tenant (cached for the request)."""
        if tenant_id is None:
            return set()
        cache = g.setdefault("_enabled_plugins", {}) if has_request_context() else {}
        if tenant_id not in cache:
            # Across requests too, by the tenant's data version (a switch changes it); only
            # for reading requests, which cannot have switched one in their own transaction.
            tenant = g.get("tenant") if has_request_context() else None
            versioned = None
            if getattr(tenant, "id", None) == tenant_id and reading_request():
                versioned = (tenant_id, tenant.data_version)
            if versioned in self._enabled_by_version:
                cache[tenant_id] = self._enabled_by_version[versioned]
                return cache[tenant_id]
            from portal.extensions import db
            from portal.tenancy.models import TenantPlugin
            from portal.tenancy.scope import tenant_scope

            with tenant_scope(tenant_id):
                rows = db.session.scalars(
                    select(TenantPlugin.plugin_name).where(TenantPlugin.enabled.is_(True))
                ).all()
            cache[tenant_id] = frozenset(name for name in rows if name in self.plugins)
            if versioned is not None:
                if len(self._enabled_by_version) > 1000:
                    self._enabled_by_version.clear()
                self._enabled_by_version[versioned] = cache[tenant_id]
        return cache[tenant_id]

    def forget_kept(self) -> None:
        """Drop the switches kept across requests (tests that count queries)."""
        self._enabled_by_version.clear()

    def is_enabled(self, plugin_name: str, tenant_id: int | None) -> bool:
        return plugin_name not in self.broken and plugin_name in self.enabled_for(tenant_id)


@on_forget
def _forget_switches(app) -> None:
    host = app.extensions.get("portal_plugins")
    if host is not None:
        host.forget_kept()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
