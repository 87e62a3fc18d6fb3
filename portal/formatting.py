"""Dates, times and amounts as the reader reads them: in their language, in the region's
time zone, and English as in the UK (day before month, 24-hour clock).

Flask-Babel formats in the bare language ("en" is American English: "12/6/26, 3:04 PM"). The
portal's people write British English, so formatting uses ``en_GB`` for English and the
language itself otherwise; the Jinja filters (``dateformat``, ``datetimeformat``,
``timeformat``), ``money`` and the toolkit's ``format_date``/``format_datetime`` all come from
here, so no page decides on its own.

Within a request each (value, format) is formatted once: a page of 500 rows names the same
days many times, and Babel's formatting is most of a row's time (``_once``, keyed by the
reader's language and time zone as well, since a mail may be rendered in another language
inside the request).
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import g, has_app_context, has_request_context
from flask_babel import get_locale, get_timezone, to_user_timezone

# The regional variant a language is formatted in, when it is not the language's default.
FORMAT_VARIANTS = {"en": "en_GB"}


def reader_locale() -> Locale:
    """The Babel locale dates and numbers are formatted in for the current reader."""
    language = str(get_locale() or "en") if has_app_context() else "en"
    return _locale(FORMAT_VARIANTS.get(language, language))


@lru_cache(maxsize=32)
def _locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


MEMO = "portal_formatted"


def _once(function, value, *args):
    """``function(value, *args)``, computed once per request for the same arguments."""
    if value is None or not has_request_context():
        return function(value, *args)
    memo = g.get(MEMO)
    if memo is None:
        memo = g.portal_formatted = {}
    key = (function, value, args, str(get_locale()), str(get_timezone()))
    found = memo.get(key)
    if found is None:
        found = memo[key] = function(value, *args)
    return found


def format_date(value: date | datetime | None = None, format: str = "medium") -> str:
    return _once(_format_date, value, format)


def format_datetime(value: datetime | None = None, format: str = "medium") -> str:
    return _once(_format_datetime, value, format)


def format_money(value: Any, tenant: Any = None) -> str:
    """An amount in the region's currency and the reader's language ("kr 38 000,00",
    "£1,200.00", "NOK 38,000.00"); "–" for none. The region is the request's unless given."""
    if value is None or value == "":
        return "–"
    return _once(_format_money, value, region_currency(tenant))


def _format_date(value: date | datetime | None = None, format: str = "medium") -> str:
    """A day in the reader's language ("6 Dec 2026", "6. des. 2026"); a datetime is first
    moved into the region's time zone, so the day is the region's."""
    if value is None:
        value = date.today()
    if isinstance(value, datetime):
        value = to_user_timezone(value).date()
    return babel_dates.format_date(value, format, locale=reader_locale())


def _format_datetime(value: datetime | None = None, format: str = "medium") -> str:
    """A moment in the region's time zone and the reader's language ("06/12/2026, 15:04")."""
    if value is None:
        value = datetime.now().astimezone()
    if not isinstance(value, datetime):  # a plain day: no time to show
        return _format_date(value, format)
    return babel_dates.format_datetime(
        to_user_timezone(value), format, tzinfo=get_timezone(), locale=reader_locale()
    )


def format_time(value: time | datetime | None = None, format: str = "short") -> str:
    """A time of day ("15:04"); a datetime in the region's time zone."""
    if value is None:
        value = datetime.now().astimezone()
    if isinstance(value, datetime):
        value = to_user_timezone(value)
        return babel_dates.format_time(value, format, tzinfo=get_timezone(), locale=reader_locale())
    return babel_dates.format_time(value, format, locale=reader_locale())


def region_currency(tenant: Any = None) -> str:
    tenant = tenant if tenant is not None else (g.get("tenant") if has_request_context() else None)
    return getattr(tenant, "currency", None) or "EUR"


def _format_money(value: Any, currency: str) -> str:
    return babel_numbers.format_currency(value, currency, locale=reader_locale())


def init_app(app) -> None:
    """The Jinja filters Flask-Babel registered, formatting as above."""
    app.jinja_env.filters.update(
        dateformat=format_date,
        datetimeformat=format_datetime,
        timeformat=format_time,
    )
