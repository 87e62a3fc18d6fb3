"""``portal plugin new NAME``: write a working plugin skeleton into ``portal-NAME/``.

The skeleton's files live in ``plugin_skeleton/`` as ``string.Template`` files (``.tmpl``,
so neither ruff nor the build treats them as code). The new plugin's message catalogs are
made by extracting its strings with Babel and filling in the translations the skeleton
ships (``plugin_skeleton/translations.json``), then compiled, so it works translated at once.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from string import Template

import click
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from jinja2.ext import babel_extract

from portal import __version__

SKELETON = Path(__file__).parent / "plugin_skeleton"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
MAX_NAME_LENGTH = 40
LOCALES = ("nb", "da", "it", "sv", "de")

# skeleton file -> path in the new plugin's folder (itself a template)
FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "babel.cfg.tmpl": "babel.cfg",
    "gitignore.tmpl": ".gitignore",
    "package/__init__.py.tmpl": "${package}/__init__.py",
    "package/views.py.tmpl": "${package}/views.py",
    "package/scheme.py.tmpl": "${package}/scheme.py",
    "package/data/indicators.json.tmpl": "${package}/data/indicators.json",
    "package/templates/page.html.tmpl": "${package}/templates/${name}/page.html",
    "tests/conftest.py.tmpl": "tests/conftest.py",
    "tests/test_plugin.py.tmpl": "tests/test_${name}.py",
    "tests/test_scheme.py.tmpl": "tests/test_scheme.py",
}


def _valid_name(_ctx: click.Context, _param: click.Parameter, name: str) -> str:
    if not NAME_PATTERN.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
        raise click.BadParameter(
            _(
                "%(name)s is not a valid plugin name: use lowercase letters, digits and "
                "underscores, start with a letter, at most %(max)d characters (e.g. my_scheme).",
                name=name,
                max=MAX_NAME_LENGTH,
            )
        )
    return name


def _taken(name: str, slug: str) -> bool:
    """Whether an installed plugin, a blueprint or a page of the portal uses the name."""
    app = current_app
    if name in app.extensions["portal_plugins"].plugins or name in app.blueprints:
        return True
    prefix = f"/<tenant>/{slug}"
    return any(
        rule.rule == prefix or rule.rule.startswith(prefix + "/")
        for rule in app.url_map.iter_rules()
    )


def values_for(name: str) -> dict[str, str]:
    """What the skeleton's ``${...}`` placeholders stand for."""
    return {
        "name": name,
        "package": f"portal_{name}",
        "dist": f"portal-{name}",
        "slug": name.replace("_", "-"),
        "title": " ".join(part for part in name.split("_") if part).capitalize(),
        "portal_version": __version__,
    }


def write_skeleton(target: Path, values: dict[str, str]) -> None:
    """Render every skeleton file into ``target`` and make the plugin's catalogs."""
    for source, destination in FILES.items():
        text = Template((SKELETON / source).read_text(encoding="utf-8")).substitute(values)
        path = target / Template(destination).substitute(values)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    translations = json.loads((SKELETON / "translations.json").read_text(encoding="utf-8"))
    make_catalogs(target / values["package"], values["dist"], translations)


def make_catalogs(package: Path, project: str, translations: dict[str, dict[str, str]]) -> None:
    """Extract the package's strings into ``translations/messages.pot``, then write and
    compile a catalog per language, translated where ``translations`` knows the string."""
    folder = package / "translations"
    folder.mkdir(exist_ok=True)
    template = Catalog(project=project, version="0.1.0", charset="utf-8")
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    method_map = [("**.py", "python"), ("**.html", babel_extract)]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(package), method_map, keywords=keywords
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    with open(folder / "messages.pot", "wb") as out:
        write_po(out, template, no_location=True, sort_output=True)
    for locale in LOCALES:
        with open(folder / "messages.pot", "rb") as pot:
            catalog = read_po(pot, locale=locale)
        catalog.locale = Locale.parse(locale)
        catalog.revision_date = datetime.now(UTC)
        catalog.fuzzy = False
        for message in catalog:
            if message.id and isinstance(message.id, str):
                message.string = translations.get(message.id, {}).get(locale, "")
        messages = folder / locale / "LC_MESSAGES"
        messages.mkdir(parents=True)
        with open(messages / "messages.po", "wb") as out:
            write_po(out, catalog, no_location=True, sort_output=True)
        with open(messages / "messages.mo", "wb") as out:
            write_mo(out, catalog)


@click.group("plugin")
def plugin_group() -> None:
    """Write plugins."""


@plugin_group.command("new")
@click.argument("name", callback=_valid_name)
@click.option(
    "--directory",
    type=click.Path(exists=True, file_okay=False, writable=True, path_type=Path),
    default=".",
    show_default=True,
    help="Where to create the portal-NAME folder.",
)
@with_appcontext
def plugin_new(name: str, directory: Path) -> None:
    """Create a working plugin skeleton in portal-NAME/: a page, an example indicator set and
    label scheme, translations and tests. NAME: lowercase letters, digits and underscores."""
    values = values_for(name)
    target = directory / values["dist"]
    if target.exists():
        raise click.ClickException(
            _("%(path)s exists already: choose another name or directory.", path=str(target))
        )
    if _taken(name, values["slug"]):
        raise click.ClickException(
            _(
                "The name %(name)s is taken by an installed plugin or a part of the portal: "
                "choose another.",
                name=name,
            )
        )
    # Build in a temporary folder next to the target: a failure leaves nothing half-written.
    work = directory / f".{values['dist']}-{secrets.token_hex(4)}"
    work.mkdir()
    try:
        write_skeleton(work, values)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    click.echo(_("Created the plugin %(name)s in %(path)s.", name=name, path=str(target)))
    click.echo(
        _(
            "Next: pip install -e '%(path)s[test]', portal db upgrade, run its tests with "
            "pytest %(path)s, and switch it on for a region under Settings → Plugins.",
            path=str(target),
        )
    )
