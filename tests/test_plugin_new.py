"""``portal plugin new``: the skeleton it writes works, and so does the walk-through in
docs/plugins.md ("Write a label scheme in 15 minutes"): every command of it runs as written,
in an empty folder, in a new virtual environment, on a new database."""

from __future__ import annotations

import ast
import gettext
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from portal import hookspecs
from portal.cli.plugin_new import SKELETON
from tests.conftest import USE_POSTGRES

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs" / "plugins.md"
BIN = Path(sys.executable).parent


SECTION = "## Write a label scheme in 15 minutes"
BLOCK = re.compile(
    r"^### (?P<step>[^\n]+)$|^(?:<!-- walkthrough:(?P<name>\S+) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)\n```",
    re.MULTILINE | re.DOTALL,
)


@dataclass
class Block:
    step: str  # the heading of the walk-through's step, e.g. "2. Install it"
    name: str  # its marker: <!-- walkthrough:NAME -->
    lang: str
    code: str


def walkthrough_blocks() -> list[Block]:
    """The code blocks of the walk-through, in order, each with its step."""
    text = DOCS.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/plugins.md has no section {SECTION!r}"
    section = text[text.index(SECTION) + len(SECTION) :]
    section = section[: section.index("\n## ")] if "\n## " in section else section
    blocks, step = [], ""
    for found in BLOCK.finditer(section):
        if found.group("step"):
            step = found.group("step")
            continue
        assert found.group("name"), f"step {step!r}: a code block without a walkthrough marker"
        blocks.append(Block(step, found.group("name"), found.group("lang"), found.group("code")))
    return blocks


def walkthrough(name: str) -> str:
    """The code block marked ``<!-- walkthrough:NAME -->`` in the walk-through."""
    for block in walkthrough_blocks():
        if block.name == name:
            return block.code + "\n"
    raise AssertionError(f"docs/plugins.md has no code block marked walkthrough:{name}")


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
        "portal_coast_label/data/indicators.json",
        "portal_coast_label/templates/coast_label/page.html",
        "portal_coast_label/translations/messages.pot",
        "tests/conftest.py",
        "tests/test_coast_label.py",
        "tests/test_scheme.py",
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
    assert any(d.startswith("pytest") for d in project["project"]["optional-dependencies"]["test"])

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
        "indicator_sets",
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
    expected = {
        "nb": "Eksempelmerke",
        "da": "Eksempelmærke",
        "it": "Label di esempio",
        "sv": "Exempelmärkning",
        "de": "Beispiel-Label",
    }
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
    assert "5 passed" in done.stdout


def test_the_skeletons_translations_keep_their_placeholders():
    """Each translation has the placeholders of its text, and no doubled percent sign where
    the text is shown as it is (no placeholders to fill in)."""
    placeholder = re.compile(r"%\(\w+\)[sd]")
    translations = json.loads((SKELETON / "translations.json").read_text(encoding="utf-8"))
    for text, by_locale in translations.items():
        if text.startswith("_"):
            continue
        assert set(by_locale) == {"nb", "da", "it", "sv", "de"}, text
        for locale, translated in by_locale.items():
            assert sorted(placeholder.findall(translated)) == sorted(placeholder.findall(text))
            shown = translated % {} if placeholder.search(text) is None else translated
            assert "%%" not in shown, (locale, text)


# The walk-through runs offline: pip installs nothing but the plugin itself, built with the
# hatchling of the portal's environment (the portal's test extra brings it).
PIP_OFFLINE = "pip install --no-index --no-build-isolation "
WALKTHROUGH_FILES = {
    "scheme.py": "portal_my_scheme/scheme.py",
    "tests/test_scheme.py": "tests/test_scheme.py",
}
# What the author types into the Norwegian catalog between extract and compile (step 5).
NORWEGIAN = {
    "Regional cluster label": "Regionalt klyngemerke",
    "Established": "Etablert",
    "Advanced": "Avansert",
    "At least %(needed)d of %(max)d points": "Minst %(needed)d av %(max)d poeng",
    "%(points)s of %(max)d points.": "%(points)s av %(max)d poeng.",
}


def fresh_environment(folder: Path) -> Path:
    """A new virtual environment for the walk-through. It installs into itself and sees the
    packages of the portal's environment (a .pth file adds that site-packages folder), so pip
    finds the portal and the test tools installed and fetches nothing; the portal's,
    pytest's and pybabel's commands are written for it as pip writes console scripts."""
    subprocess.run(
        [sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True, timeout=300
    )
    site_packages = sysconfig.get_path("purelib", vars={"base": str(folder)})
    Path(site_packages, "_portal_environment.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n"
    )
    python = folder / "bin" / "python"
    for name in ("portal", "pytest", "pybabel"):
        script = next(iter(entry_points(group="console_scripts", name=name)))
        module, _, function = script.value.partition(":")
        path = folder / "bin" / name
        path.write_text(
            f"#!{python}\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n"
        )
        path.chmod(0o755)
    return folder


def translate_to_norwegian(plugin: Path) -> None:
    po_path = plugin / "portal_my_scheme/translations/nb/LC_MESSAGES/messages.po"
    with open(po_path, "rb") as po:
        catalog = read_po(po)
    for text, translated in NORWEGIAN.items():
        message = catalog.get(text)
        assert message is not None, f"step 5 did not extract {text!r}"
        assert not message.string, f"{text!r} is translated already"
        message.string = translated
    with open(po_path, "wb") as po:
        write_po(po, catalog, no_location=True, sort_output=True)


@pytest.mark.skipif(USE_POSTGRES, reason="runs once, in its own environment and SQLite database")
def test_the_walkthrough_runs_as_written(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    venv = fresh_environment(tmp_path / "venv")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTAL_", "PYTEST_", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        VIRTUAL_ENV=str(venv),
        PORTAL_DATABASE_URL=f"sqlite:///{tmp_path / 'portal.db'}",  # new: not migrated
        PORTAL_SECRET_KEY="walkthrough-secret-key-" + "x" * 24,
        PORTAL_UPLOAD_DIR=str(tmp_path / "uploads"),
    )
    plugin = workdir / "portal-my_scheme"
    blocks = walkthrough_blocks()
    assert [b.name for b in blocks] == [
        "new",
        "install",
        "scheme.py",
        "hook",
        "extract",
        "compile",
        "tests/test_scheme.py",
        "test",
        "check",
    ]

    def shell(command: str, cwd: Path, where: str) -> str:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"{where}: `{command}` failed:\n{done.stdout}{done.stderr}"
        return done.stdout + done.stderr

    cwd = workdir
    output: dict[str, str] = {}
    for block in blocks:
        where = f"docs/plugins.md, step {block.step!r} (walkthrough:{block.name})"
        if block.lang == "sh":
            printed = []
            for line in block.code.splitlines():
                command = line.strip()
                if not command or command.startswith("#"):
                    continue
                if command.startswith("cd "):
                    cwd = (cwd / command.removeprefix("cd ").strip()).resolve()
                    assert cwd.is_dir(), f"{where}: `{command}`: no such folder"
                elif command.startswith("pip install "):
                    printed.append(
                        shell(PIP_OFFLINE + command.removeprefix("pip install "), cwd, where)
                    )
                else:
                    printed.append(shell(command, cwd, where))
            output[block.name] = "\n".join(printed)
        elif block.name == "hook":
            init = (plugin / "portal_my_scheme/__init__.py").read_text()
            assert block.code in init, f"{where}: the hook differs from the generated one"
        else:
            assert block.name in WALKTHROUGH_FILES, f"{where}: which file is this?"
            (plugin / WALKTHROUGH_FILES[block.name]).write_text(block.code + "\n")

        # What the docs say each step does.
        if block.name == "new":
            assert (plugin / "portal_my_scheme/data/indicators.json").is_file(), where
        elif block.name == "install":
            listed = output["install"]
            assert "database is up to date" in listed, where
            assert re.search(
                r"^my_scheme 0\.1\.0 \(portal-my_scheme\) \[ok\]\n.*\n  enabled in: -$",
                listed,
                re.MULTILINE,
            ), f"{where}: my_scheme is not listed:\n{listed}"
        elif block.name == "extract":
            translate_to_norwegian(plugin)  # the author's part between the two blocks
        elif block.name == "compile":
            assert cwd == workdir, f"{where}: the walk-through goes on in the folder above"
        elif block.name == "test":
            assert re.search(r"\b5 passed\b", output["test"]), f"{where}:\n{output['test']}"
        elif block.name == "check":
            checked = output["check"]
            assert "Regionalt klyngemerke 2026" in checked, f"{where}:\n{checked}"
            assert "Etablert" in checked and "Minst 14 av 20 poeng" in checked, checked

    # The scheme's messages as people see them, in every language: no placeholder or doubled
    # percent sign left over.
    for locale in ("en", "nb", "da", "it", "sv", "de"):
        shown = shell(
            f"portal labels check nordland 'Lofoten Sjømatinnovasjon' --scheme regional "
            f"--locale {locale}",
            workdir,
            f"the scheme in {locale}",
        )
        assert "%" not in shown, (locale, shown)
