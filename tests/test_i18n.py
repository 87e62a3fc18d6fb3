"""Catalogs complete in every language; language and time zone chosen as promised."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from portal.config import SUPPORTED_LOCALES

ROOT = Path(__file__).parent.parent
CATALOG_DIRS = [ROOT / "portal" / "translations"] + sorted(
    p.parent for p in (ROOT / "plugins").glob("**/translations/messages.pot")
)
LOCALES = [code for code in SUPPORTED_LOCALES if code != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.mark.parametrize("folder", CATALOG_DIRS, ids=lambda p: p.parent.name)
@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete_and_not_fuzzy(folder, locale):
    with open(folder / locale / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    with open(folder / "messages.pot", "rb") as f:
        template = read_po(f)
    # entries with a context are keyed by (id, context)
    missing = [m.id for m in template if m.id and catalog.get(m.id, m.context) is None]
    assert not missing, (
        f"not in the {locale} catalog (run scripts/translations.sh update): {missing[:5]}"
    )
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated in {locale}: {message.id!r}"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(ids[-1]))
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) <= wanted | set(PLACEHOLDER.findall(ids[0])), (
                locale,
                message.id,
            )


@pytest.mark.parametrize("folder", CATALOG_DIRS, ids=lambda p: p.parent.name)
@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalog_matches_the_po_file(folder, locale):
    base = folder / locale / "LC_MESSAGES"

    def norm(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(base / "messages.po", "rb") as f:
        po = {norm(m.id): norm(m.string) for m in read_po(f) if m.id}
    with open(base / "messages.mo", "rb") as f:
        mo = {norm(m.id): norm(m.string) for m in read_mo(f) if m.id}
    assert po == mo, f"{base}/messages.mo is stale: run scripts/translations.sh compile"


def test_source_strings_are_all_extracted():
    """The .pot files are up to date with the code (scripts/translations.sh update)."""
    import tempfile

    from babel.messages.frontend import CommandLineInterface

    with open(ROOT / "portal" / "translations" / "messages.pot", "rb") as f:
        known = {m.id for m in read_po(f) if m.id}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fresh.pot"
        CommandLineInterface().run(
            [
                "pybabel",
                "-q",
                "extract",
                "-F",
                str(ROOT / "babel.cfg"),
                "-k",
                "_l",
                "-k",
                "lazy_gettext",
                "-o",
                str(out),
                str(ROOT / "portal"),
                str(ROOT / "templates"),
            ]
        )
        with open(out, "rb") as f:
            fresh = {m.id for m in read_po(f) if m.id}
    assert fresh == known, f"new or removed strings: {sorted(map(str, fresh ^ known))[:8]}"


def test_pages_are_translated(client, world):
    from tests.conftest import login

    login(client, "coord@a.example")
    client.post("/language", data={"locale": "nb", "next": "/"})
    page = client.get(f"/nordland/clusters/{world['c1'].id}").get_data(as_text=True)
    assert '<html lang="nb">' in page
    for english in ("Member organisations", "Search", "Sign out", "Member composition"):
        assert f">{english}<" not in page, english


def test_dates_and_numbers_use_the_language_and_the_tenant_time_zone(app, world):
    from flask import g
    from flask_babel import format_datetime, format_decimal, refresh

    from portal.extensions import db
    from portal.tenancy.models import Tenant

    with app.test_request_context():
        g.tenant = db.session.get(Tenant, world["a"].id)
        g.tenant.timezone = "Europe/Oslo"
        g.locale_override = "nb"
        refresh()
        moment = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
        assert "12:00" in format_datetime(moment, "short")  # UTC+2 in summer
        assert format_decimal(1234.5) == "1\xa0234,5"
        g.locale_override = "it"
        refresh()
        assert format_decimal(1234.5) == "1.234,5"


def test_pages_outside_a_region_use_the_users_region_language(client, factory):
    from tests.conftest import login

    tenant = factory.tenant("danes", default_locale="da")
    factory.user("dane@x.example", tenant=tenant, role="observer")
    login(client, "dane@x.example")
    assert b'<html lang="da">' in client.get("/profile", headers={"Accept-Language": "en"}).data
