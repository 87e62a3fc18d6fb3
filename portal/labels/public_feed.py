"""The public label register as an Atom feed (feedgen): new labels and labels expiring soon.

An entry's id is its label's place on the region's public page plus what happened
(``...#label-7-awarded``, ``...#label-7-expiring``): the same in the region's feed and the
platform's, and the same on every visit. Its time is a day of the label's own (awarded, or
the day it came within the expiry window), so an unchanged register gives the same feed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from feedgen.feed import FeedGenerator
from flask import url_for
from flask_babel import gettext as _

from portal.formatting import format_date
from portal.labels.public_register import FEED_EXPIRING_MONTHS, PublicLabel
from portal.labels.registry import level_badge, scheme_title
from portal.labels.scheme import add_months

# The feed's own time when it has no entry (Atom needs one): a fixed day, not "now".
EMPTY_FEED_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _describe(label: PublicLabel) -> tuple[str, str]:
    level = level_badge(label.scheme, label.scheme_version, label.level)[0]
    return level, f"{scheme_title(label.scheme)} {label.scheme_version}"


def _label_url(label: PublicLabel) -> str:
    page = url_for("public_register.region_page", region=label.region_slug, _external=True)
    return f"{page}#label-{label.id}"


def atom_feed(
    *,
    title: str,
    page_url: str,
    feed_url: str,
    language: str,
    awarded: list[PublicLabel],
    expiring: list[PublicLabel],
) -> bytes:
    feed = FeedGenerator()
    feed.id(feed_url)
    feed.title(title)
    feed.author({"name": _("Cluster Forum Portal")})
    feed.link(href=page_url, rel="alternate")
    feed.link(href=feed_url, rel="self")
    feed.language(language)
    times = []
    for label in awarded:
        level, scheme = _describe(label)
        entry = feed.add_entry(order="append")
        entry.id(f"{_label_url(label)}-awarded")
        entry.link(href=_label_url(label))
        entry.title(
            _(
                "%(cluster)s (%(region)s) holds the label %(level)s",
                cluster=label.cluster,
                region=label.region_name,
                level=level,
            )
        )
        entry.summary(
            _(
                "%(scheme)s, awarded on %(awarded)s, valid until %(until)s.",
                scheme=scheme,
                awarded=format_date(label.awarded_on, "long"),
                until=format_date(label.expires_on, "long"),
            )
        )
        entry.published(_at(label.awarded_on))
        entry.updated(_at(label.awarded_on))
        times.append(_at(label.awarded_on))
    for label in expiring:
        level, scheme = _describe(label)
        # The day the label came within the window: fixed for the label, so is the entry.
        entered = _at(add_months(label.expires_on, -FEED_EXPIRING_MONTHS))
        entry = feed.add_entry(order="append")
        entry.id(f"{_label_url(label)}-expiring")
        entry.link(href=_label_url(label))
        entry.title(
            _(
                "The label %(level)s of %(cluster)s (%(region)s) expires on %(until)s",
                level=level,
                cluster=label.cluster,
                region=label.region_name,
                until=format_date(label.expires_on, "long"),
            )
        )
        entry.summary(
            _(
                "%(scheme)s, awarded on %(awarded)s.",
                scheme=scheme,
                awarded=format_date(label.awarded_on, "long"),
            )
        )
        entry.updated(entered)
        times.append(entered)
    feed.updated(max(times, default=EMPTY_FEED_UPDATED))
    return feed.atom_str(pretty=True)
