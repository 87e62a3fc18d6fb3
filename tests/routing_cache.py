"""Test-only caches across the apps a run builds.

Tests build an app per test, and Werkzeug compiles Python code for every URL rule of
every app (about 230 rules: some 120 ms an app, minutes a run). The code it compiles
depends only on the rule, so the tests compile it once per rule and reuse it.

Test-only: production builds its app once. If Werkzeug changes the private method this
wraps, the cache turns itself off and the tests just run slower.
"""

from __future__ import annotations

import inspect

from jinja2.bccache import Bucket, BytecodeCache
from werkzeug.routing.rules import Rule

_builders: dict[tuple, object] = {}


def _key(rule: Rule, append_unknown: bool) -> tuple:
    # Everything the generated builder reads: the rule's parsed trace (its static parts and
    # argument names), the defaults folded into it, and how each default value is converted.
    defaults = rule.defaults or {}
    return (
        rule.rule,
        rule.subdomain,
        rule.host,
        rule.map.host_matching,
        tuple(rule._trace),
        tuple(sorted((str(k), repr(v)) for k, v in defaults.items())),
        tuple(sorted((k, type(c).__qualname__) for k, c in rule._converters.items())),
        append_unknown,
    )


def install() -> None:
    original = Rule._compile_builder
    if list(inspect.signature(original).parameters) != ["self", "append_unknown"]:
        return

    def compile_builder(self: Rule, append_unknown: bool = True):
        key = _key(self, append_unknown)
        builder = _builders.get(key)
        if builder is None:
            builder = _builders[key] = original(self, append_unknown)
        return builder

    Rule._compile_builder = compile_builder


class TemplateBytecode(BytecodeCache):
    """Jinja compiles each template once per environment, so once per test's app (the front
    page and base.html cost some 0.4 s a test). Compiled code depends only on the template's
    source, which Jinja checks (the bucket's checksum) before it reuses it: test-only, as
    the URL rules above."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = TemplateBytecode()


def install_entry_points_cache() -> None:
    """Each app looks up the installed plugins (importlib.metadata scans every distribution
    on sys.path: some 90 ms an app). The answer changes only with sys.path, which is in the
    key (a test that puts a plugin on the path gets a fresh look)."""
    import sys

    from portal import plugin_host

    original = plugin_host.entry_points
    found: dict[tuple, object] = {}

    def entry_points(**selection):
        key = (tuple(sys.path), tuple(sorted(selection.items())))
        if key not in found:
            found[key] = original(**selection)
        return found[key]

    plugin_host.entry_points = entry_points


def install_engine_cache() -> None:
    """Each app made its own SQLAlchemy engine, and an engine compiles each statement once
    (its compiled cache): every test compiled every statement it ran again, a fifth of a
    test's time. The apps of a run share one engine per database and options instead (the
    tests' SQLite file has one path per worker, copied afresh for each test; see
    ``conftest.db_url``), and each test ends by disposing its connections. Production makes
    its app, and so its engine, once."""
    from flask_sqlalchemy.extension import SQLAlchemy

    original = SQLAlchemy._make_engine
    engines: dict[str, object] = {}

    def make_engine(self, bind_key, options, app):
        key = repr(sorted((name, repr(value)) for name, value in options.items()))
        engine = engines.get(key)
        if engine is None:
            engine = engines[key] = original(self, bind_key, options, app)
        return engine

    SQLAlchemy._make_engine = make_engine


def install_small_caches() -> None:
    """Answers that never change within a run, computed once instead of per test:
    - zxcvbn's guess of a password (the factories make hundreds of users with one password:
      a twentieth of a test's time);
    - the digest of the templates and catalogues the page cache keys on (a walk over every
      template and catalogue per app; the files do not change under a run)."""
    import functools

    import zxcvbn

    from portal.web import page_cache

    guess = functools.lru_cache(maxsize=256)(zxcvbn.zxcvbn)
    zxcvbn.zxcvbn = lambda password, user_inputs=None: guess(password, tuple(user_inputs or ()))

    original = page_cache.renderer_version
    versions: dict[str, str] = {}

    def renderer_version(app) -> str:
        if app.root_path not in versions:
            versions[app.root_path] = original(app)
        return versions[app.root_path]

    page_cache.renderer_version = renderer_version
