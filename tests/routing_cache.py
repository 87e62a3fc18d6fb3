"""Tests build an app per test, and Werkzeug compiles Python code for every URL rule of
every app (about 230 rules: some 120 ms an app, minutes a run). The code it compiles
depends only on the rule, so the tests compile it once per rule and reuse it.

Test-only: production builds its app once. If Werkzeug changes the private method this
wraps, the cache turns itself off and the tests just run slower.
"""

from __future__ import annotations

import inspect

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
