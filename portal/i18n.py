"""Language and time zone for each request, and the names of the languages."""

from __future__ import annotations

from flask import g, has_request_context, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.config import SUPPORTED_LOCALES

LANGUAGE_NAMES = {
    # Each language named in itself, as people look for their own.
    "en": "English",
    "nb": "Norsk bokmål",
    "da": "Dansk",
    "it": "Italiano",
    "sv": "Svenska",
    "de": "Deutsch",
}

TIMEZONES = (
    "Europe/Oslo",
    "Europe/Copenhagen",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Europe/Berlin",
    "Europe/Rome",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Athens",
    "UTC",
)


def select_locale() -> str:
    """The user's choice, then the tenant's default, then the browser's."""
    if not has_request_context():
        return "en"
    override = g.get("locale_override")
    if override:
        return override
    user_locale = current_user.locale if current_user and current_user.is_authenticated else None
    if user_locale in SUPPORTED_LOCALES:
        return user_locale
    if session.get("locale") in SUPPORTED_LOCALES:
        return session["locale"]
    tenant = g.get("tenant")
    if tenant is not None and tenant.default_locale in SUPPORTED_LOCALES:
        return tenant.default_locale
    home = _home_region_locale()
    if home in SUPPORTED_LOCALES:
        return home
    return request.accept_languages.best_match(SUPPORTED_LOCALES) or "en"


def _home_region_locale() -> str | None:
    """Outside a region's pages (profile, start page): the language of the user's region,
    so people who never chose a language keep the one their region speaks."""
    if not (current_user and current_user.is_authenticated):
        return None
    if "_home_locale" not in g:
        from sqlalchemy import select

        from portal.accounts.models import Membership
        from portal.extensions import db
        from portal.tenancy.models import Tenant
        from portal.tenancy.scope import unscoped

        with unscoped():
            g._home_locale = db.session.scalar(
                select(Tenant.default_locale)
                .join(Membership, Membership.tenant_id == Tenant.id)
                .where(Membership.user_id == current_user.id)
                .order_by(Membership.id)
                .limit(1)
            )
    return g._home_locale


def select_timezone() -> str:
    tenant = g.get("tenant") if has_request_context() else None
    return tenant.timezone if tenant is not None else "UTC"


# Currencies a region can keep its amounts in: those of the European countries with cluster
# programmes (and the US dollar for programmes that report in it).
CURRENCIES = (
    "EUR",
    "NOK",
    "DKK",
    "SEK",
    "ISK",
    "CHF",
    "GBP",
    "PLN",
    "CZK",
    "HUF",
    "RON",
    "BGN",
    "USD",
)


def currency_choices() -> list[tuple[str, str]]:
    """``(code, "NOK – Norwegian krone")`` in the user's language."""
    from babel.numbers import get_currency_name
    from flask_babel import get_locale

    locale = get_locale() or "en"
    return [(code, f"{code} – {get_currency_name(code, locale=locale)}") for code in CURRENCIES]


def language_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED_LOCALES]


ROLE_LABELS = {
    "coordinator": _l("Coordinator"),
    "cluster_manager": _l("Cluster manager"),
    "member": _l("Member"),
    "observer": _l("Observer"),
    "assessor": _l("Assessor"),
}

AUDIT_ACTION_LABELS = {
    "create": _l("Created"),
    "update": _l("Changed"),
    "delete": _l("Deleted"),
    "login": _l("Signed in"),
    "login.failed": _l("Failed sign-in"),
    "logout": _l("Signed out"),
    "denied": _l("Denied"),
    "password.reset": _l("Password reset"),
    "outbox.retry": _l("Message retried"),
}

OUTBOX_STATUS_LABELS = {
    "pending": _l("waiting for a try"),
    "sending": _l("being sent"),
    "sent": _l("sent"),
    "dead": _l("dead letter: every try failed"),
}

MEMBER_TYPE_LABELS = {
    "company_sme": _l("Company (SME)"),
    "company_large": _l("Company (large)"),
    "public_body": _l("Municipality or public body"),
    "university": _l("University or college"),
    "research_institute": _l("Research institute"),
    "hospital": _l("Hospital"),
    "user_organisation": _l("User organisation"),
    "investor": _l("Investor"),
    "other": _l("Other"),
}

ACTION_STATUS_LABELS = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "blocked": _l("Blocked"),
    "cancelled": _l("Cancelled"),
}

PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High")}

MILESTONE_KIND_LABELS = {
    "benchmarking": _l("Coordinated benchmarking"),
    "workshop": _l("Workshop"),
    "label_application": _l("Label application"),
    "label_expiry": _l("Label expiry"),
    "other": _l("Other"),
}

REGISTRATION_STATUS_LABELS = {
    "registered": _l("Registered"),
    "waitlisted": _l("On the waiting list"),
    "cancelled": _l("Cancelled"),
}

PLAN_KIND_LABELS = {"individual": _l("Individual plan"), "joint": _l("Joint plan")}
