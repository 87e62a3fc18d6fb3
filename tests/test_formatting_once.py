"""Dates and amounts are formatted once per request and language (portal.formatting)."""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale


def test_a_day_is_formatted_once_per_request_and_language(app, monkeypatch):
    from babel import dates as babel_dates

    from portal import formatting

    calls = []
    real = babel_dates.format_date

    def counted(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(babel_dates, "format_date", counted)
    day = date(2026, 3, 4)
    with app.test_request_context():
        first = [formatting.format_date(day) for _row in range(50)]
        assert len(set(first)) == 1 and len(calls) == 1
        with force_locale("nb"):
            assert formatting.format_date(day) != first[0]  # another language: its own
        assert len(calls) == 2
        assert formatting.format_date(day, "short") != first[0] and len(calls) == 3
    with app.test_request_context():  # the next request formats anew
        formatting.format_date(day)
        assert len(calls) == 4
