"""``portal plugin new``: the skeleton it writes works, and so does the walk-through in
docs/plugins.md ("Write a label scheme in 15 minutes"), code block by code block."""

from __future__ import annotations

import ast
import gettext
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from portal import hookspecs
from tests.conftest import Factory, login

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs" / "plugins.md"
BIN = Path(sys.executable).parent


def walkthrough(name: str) -> str:
    """The code block marked ``<!-- walkthrough:NAME -->`` in docs/plugins.md."""
    found = re.search(
        rf"<!-- walkthrough:{re.escape(name)} -->\n```\w*\n(.*?)\n```",
        DOCS.read_text(encoding="utf-8"),
        re.DOTALL,
    )
    assert found, f"docs/plugins.md has no code block marked walkthrough:{name}"
    return found.group(1) + "\n"


def new_plugin(runner, directory: Path, name: str):
    return runner.invoke(args=["plugin", "new", name, "--directory", str(directory)])


def run_plugin_tests(plugin: Path) -> subprocess.CompletedProcess:
    """The generated plugin's own test suite, as its author runs it (not installed)."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_ADDOPTS", "PYTHONPATH"}}
    env["PYTHONPATH"] = str(plugin)
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(plugin / "tests"), "-q", "-p", "no:cacheprovider"],
        cwd=plugin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def workdir(tmp_path):
    """An empty folder for the new plugins (the test's database lives in tmp_path)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


def test_new_writes_a_plugin_skeleton(runner, workdir):
    result = new_plugin(runner, workdir, "coast_label")
    assert result.exit_code == 0, result.output
    plugin = workdir / "portal-coast_label"
    assert str(plugin) in result.output
    assert [p.name for p in workdir.iterdir()] == ["portal-coast_label"]  # no leftovers
    package = plugin / "portal_coast_label"
    for path in (
        "pyproject.toml",
        "README.md",
        "babel.cfg",
        "portal_coast_label/__init__.py",
        "portal_coast_label/views.py",
        "portal_coast_label/scheme.py",
        "portal_coast_label/templates/coast_label/page.html",
        "portal_coast_label/translations/messages.pot",
        "tests/conftest.py",
        "tests/test_coast_label.py",
    ):
        assert (plugin / path).is_file(), path

    project = tomllib.loads((plugin / "pyproject.toml").read_text())
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["name"] == "portal-coast_label"
    assert any(d.startswith("cluster-forum-portal") for d in project["project"]["dependencies"])
    entry_points = project["project"]["entry-points"]["portal.plugins"]
    assert entry_points == {"coast_label": "portal_coast_label"}
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [
        "portal_coast_label"
    ]

    # Explicit hook implementations of real hooks; Python files import the toolkit only.
    tree = ast.parse((package / "__init__.py").read_text())
    hooks = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        and any(getattr(d, "id", "") == "hookimpl" for d in node.decorator_list)
    }
    assert hooks == {
        "plugin_info",
        "translation_folders",
        "template_folders",
        "blueprints",
        "label_schemes",
    }
    assert all(hasattr(hookspecs, hook) for hook in hooks)
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("portal."):
                assert node.module == "portal.toolkit", f"{path} imports {node.module}"
    assert (
        (package / "templates/coast_label/page.html")
        .read_text()
        .startswith('{% extends "base.html" %}')
    )

    # Catalogs extracted from the Python files and the template, translated and compiled.
    pot = (package / "translations/messages.pot").read_text()
    assert 'msgid "Example label"' in pot and 'msgid "Label register"' in pot
    expected = {"nb": "Eksempelmerke", "da": "Eksempelmærke", "it": "Label di esempio"}
    for locale, text in expected.items():
        folder = package / "translations" / locale / "LC_MESSAGES"
        with open(folder / "messages.po", "rb") as po:
            assert read_po(po).get("Example label").string == text
        with open(folder / "messages.mo", "rb") as mo:
            assert gettext.GNUTranslations(mo).gettext("Example label") == text
    assert "coast_label" in (plugin / "README.md").read_text()


@pytest.mark.parametrize(
    "name", ["My_Plugin", "1st", "_private", "with-dash", "dotted.name", "blåbær", "x" * 41]
)
def test_bad_names_are_refused(runner, workdir, name):
    result = new_plugin(runner, workdir, name)
    assert result.exit_code != 0
    assert "is not a valid plugin name" in result.output and "lowercase letters" in result.output
    assert not list(workdir.iterdir())


def test_an_existing_folder_is_not_overwritten(runner, workdir):
    (workdir / "portal-taken").mkdir()
    (workdir / "portal-taken" / "mine.txt").write_text("keep me")
    result = new_plugin(runner, workdir, "taken")
    assert result.exit_code != 0
    assert "exists already" in result.output
    assert [p.name for p in (workdir / "portal-taken").iterdir()] == ["mine.txt"]
    assert sorted(p.name for p in workdir.iterdir()) == ["portal-taken"]


@pytest.mark.parametrize("name", ["esca", "labels", "clusters"])
def test_names_the_portal_uses_are_refused(runner, workdir, name):
    # An installed plugin, a core blueprint, a core page under /<region>/.
    result = new_plugin(runner, workdir, name)
    assert result.exit_code != 0
    assert "is taken" in result.output
    assert not list(workdir.iterdir())


def test_a_missing_target_directory_is_an_error(runner, workdir):
    result = new_plugin(runner, workdir / "nowhere", "fine_name")
    assert result.exit_code != 0 and "does not exist" in result.output


def test_the_generated_plugin_passes_its_own_tests(runner, workdir):
    assert new_plugin(runner, workdir, "hello_world").exit_code == 0
    done = run_plugin_tests(workdir / "portal-hello_world")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_the_walkthrough_in_the_docs_works(make_app, runner, workdir):
    # 1. Generate (the docs' command, run through the CLI).
    (command,) = walkthrough("new").split("\n")[:1]
    args = shlex.split(command)
    assert args[:3] == ["portal", "plugin", "new"]
    assert new_plugin(runner, workdir, args[3]).exit_code == 0
    plugin = workdir / "portal-my_scheme"
    package = plugin / "portal_my_scheme"
    # 2. (pip install -e is replaced by PYTHONPATH / sys.path below.)
    assert "pip install -e portal-my_scheme" in walkthrough("install")
    # 3. The scheme from the docs.
    (package / "scheme.py").write_text(walkthrough("scheme.py"))
    # 4. The hook as the docs show it: what the skeleton generated, put in place again.
    init = (package / "__init__.py").read_text()
    hook = walkthrough("hook")
    assert hook in init, "the docs' label_schemes hook differs from the generated one"
    (package / "__init__.py").write_text(init[: init.index("@hookimpl\ndef label_schemes")] + hook)
    # 5. Translate with the docs' pybabel commands, translate one new text, compile again.
    commands = [shlex.split(line) for line in walkthrough("translate").splitlines()]
    assert commands[0] == ["cd", "portal-my_scheme"]
    for args in commands[1:]:
        assert args[0] == "pybabel"
        done = subprocess.run(
            [str(BIN / "pybabel"), *args[1:]], cwd=plugin, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
    po_path = package / "translations/nb/LC_MESSAGES/messages.po"
    with open(po_path, "rb") as po:
        catalog = read_po(po)
    assert catalog.get("Regional cluster label") is not None  # extracted from the docs' scheme
    catalog.get("Regional cluster label").string = "Regionalt klyngemerke"
    with open(po_path, "wb") as po:
        write_po(po, catalog, no_location=True, sort_output=True)
    assert commands[-1][:2] == ["pybabel", "compile"]
    done = subprocess.run([str(BIN / "pybabel"), *commands[-1][1:]], cwd=plugin)
    assert done.returncode == 0
    # 6. Replace the example scheme's test with the docs' tests; the plugin's suite passes.
    tests = plugin / "tests" / "test_my_scheme.py"
    text = tests.read_text()
    tests.write_text(text[: text.index("def test_example_rule_needs_a_benchmarking_round")])
    (plugin / "tests" / "test_scheme.py").write_text(walkthrough("tests/test_scheme.py"))
    assert walkthrough("test").strip() == "pytest portal-my_scheme"
    done = run_plugin_tests(plugin)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout

    # 7. Switched on for a region, the scheme shows on a cluster's label page, translated.
    sys.path.insert(0, str(plugin))
    try:
        import portal_my_scheme

        app = make_app(
            {"PORTAL_DISABLED_PLUGINS": ["my_scheme"]},
            plugins=[("my_scheme", portal_my_scheme)],
        )
        factory = Factory(app)
        region = factory.tenant("nordland", "Nordland Forum", default_locale="nb")
        cluster = factory.cluster(region, "Arctic Minerals")
        factory.user("coord@a.example", tenant=region, role="coordinator")
        client = app.test_client()
        login(client, "coord@a.example")
        labels = f"/nordland/clusters/{cluster.id}/labels"
        assert "Regionalt klyngemerke" not in client.get(labels).get_data(as_text=True)
        response = client.post("/nordland/settings/plugins/my_scheme", data={"enabled": "1"})
        assert response.status_code == 302
        page = client.get(labels).get_data(as_text=True)
        assert "Regionalt klyngemerke" in page and "Established" in page and "Advanced" in page
        assert client.get("/nordland/my-scheme/").status_code == 200
    finally:
        sys.path.remove(str(plugin))
        for module in [m for m in sys.modules if m.split(".")[0] == "portal_my_scheme"]:
            del sys.modules[module]
