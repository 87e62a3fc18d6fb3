"""Where the portal's non-Python resources live.

In a built wheel, templates and migrations are copied inside the package
(``portal/templates``, ``portal/migrations``); in a source checkout they sit at
the repository root. Everything that needs them asks here.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _resource(name: str) -> Path:
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    return PACKAGE_DIR.parent / name


TEMPLATES_DIR = _resource("templates")
MIGRATIONS_DIR = _resource("migrations")
STATIC_DIR = PACKAGE_DIR / "static"
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
