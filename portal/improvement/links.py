"""Which indicators a piece of work aims at: the choices a region offers, checking what a form
or a file names, and writing the links of a plan's action.

An indicator is named by its key ``(indicator set, set version, indicator id)``; in forms and
files by the text ``set/version/indicator`` (``key_text`` / ``parse_key``), so a link keeps its
meaning when a newer version of the set comes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _

from portal.benchmarking.indicators import IndicatorSet, pick
from portal.errors import ServiceError
from portal.extensions import db

IndicatorKey = tuple[str, str, str]
FIELD = "indicators"


def key_text(key: IndicatorKey) -> str:
    return "/".join(key)


def parse_key(text: str) -> IndicatorKey | None:
    parts = (text or "").strip().split("/")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        return None
    return (parts[0].strip(), parts[1].strip(), parts[2].strip())


@dataclass(frozen=True)
class IndicatorChoice:
    key: IndicatorKey
    set_title: str
    group: str
    name: str

    @property
    def value(self) -> str:
        return key_text(self.key)


def available_sets(tenant_id: int) -> list[IndicatorSet]:
    from portal.benchmarking.services import available_sets as sets_of

    return sets_of(tenant_id)


def choices(tenant_id: int, locale: str) -> list[IndicatorChoice]:
    """Every indicator of the region's indicator sets (newest version of each set), in the
    sets' order, named in ``locale``."""
    found, seen = [], set()
    for indicator_set in available_sets(tenant_id):
        if indicator_set.id in seen:  # newest version first: older versions are not offered
            continue
        seen.add(indicator_set.id)
        title = pick(indicator_set.title, locale) if indicator_set.title else indicator_set.id
        groups = {g.id: pick(g.name, locale) for g in indicator_set.groups}
        for indicator in indicator_set.indicators:
            found.append(
                IndicatorChoice(
                    (indicator_set.id, indicator_set.version, indicator.id),
                    title,
                    groups.get(indicator.group, indicator.group),
                    pick(indicator.name, locale),
                )
            )
    return found


def check_keys(tenant_id: int, keys: Iterable[IndicatorKey], keep: Iterable = ()) -> list:
    """The keys in order without repeats, each an indicator of a set version the region uses
    (``keep``: keys already linked may stay even when their set is switched off). Raises a
    ServiceError naming the first unknown one."""
    from portal.benchmarking.services import find_set

    allowed_sets = {(s.id, s.version) for s in available_sets(tenant_id)}
    kept = set(keep)
    found: list[IndicatorKey] = []
    for key in keys:
        if key in found:
            continue
        indicator_set = find_set(key[0], key[1]) if key[:2] in allowed_sets else None
        if key not in kept and (indicator_set is None or indicator_set.indicator(key[2]) is None):
            message = _(
                "“%(indicator)s” is not an indicator of this region's indicator sets.",
                indicator=key_text(key),
            )
            raise ServiceError(message, {FIELD: [message]})
        found.append(key)
    return found


def parse_texts(texts: Iterable[str]) -> list[IndicatorKey]:
    """Keys from form or file values (``set/version/indicator``); a malformed one is refused."""
    keys = []
    for text in texts:
        if not (text or "").strip():
            continue
        key = parse_key(text)
        if key is None:
            message = _(
                "“%(value)s” does not name an indicator (set/version/indicator).",
                value=text[:100],
            )
            raise ServiceError(message, {FIELD: [message]})
        keys.append(key)
    return keys


def set_action_indicators(action, keys: list[IndicatorKey]) -> tuple[list, list] | None:
    """Link the action to exactly these indicators (checked with ``check_keys`` first);
    ``(before, after)`` as texts when they changed, else None. Does not commit."""
    from portal.plans.models import ActionIndicator

    current = {link.key: link for link in action.indicators}
    before = list(current)
    if sorted(before) == sorted(keys):
        return None
    # Through the session (not a bulk DELETE): a new link may get the id of a removed one,
    # and the session must not still hold the removed one under that id. The removals are
    # flushed first: a key of another version of the same indicator is unique per action.
    for key, link in current.items():
        if key not in keys:
            db.session.delete(link)
    db.session.flush()
    for indicator_set, version, indicator_id in (k for k in keys if k not in current):
        db.session.add(
            ActionIndicator(
                tenant_id=action.tenant_id,
                action_id=action.id,
                indicator_set=indicator_set,
                set_version=version,
                indicator_id=indicator_id,
            )
        )
    db.session.flush()
    db.session.expire(action, ["indicators"])
    return sorted(map(key_text, before)), sorted(map(key_text, keys))


@dataclass(frozen=True)
class IndicatorInfo:
    """What a page says of a linked indicator: its names in the viewer's language and its
    direction and scale (``known`` False: its set version is no longer installed, so only
    its id is known)."""

    key: IndicatorKey
    name: str
    group: str
    set_title: str
    higher_is_better: bool = True
    minimum: float | None = None
    maximum: float | None = None
    known: bool = True

    @property
    def value(self) -> str:
        return key_text(self.key)

    @property
    def scale(self) -> tuple[float, float] | None:
        return None if self.minimum is None else (self.minimum, self.maximum)


def describe(keys: Iterable[IndicatorKey], locale: str) -> dict[IndicatorKey, IndicatorInfo]:
    """Each key's indicator, named in ``locale`` (from the installed sets: no query)."""
    from portal.benchmarking.services import find_set

    found = {}
    for key in keys:
        indicator_set = find_set(key[0], key[1])
        indicator = indicator_set.indicator(key[2]) if indicator_set is not None else None
        if indicator is None:
            found[key] = IndicatorInfo(key, key[2], "", f"{key[0]} {key[1]}", known=False)
            continue
        groups = {g.id: pick(g.name, locale) for g in indicator_set.groups}
        found[key] = IndicatorInfo(
            key,
            pick(indicator.name, locale),
            groups.get(indicator.group, indicator.group),
            pick(indicator_set.title, locale) if indicator_set.title else indicator_set.id,
            indicator.higher_is_better,
            indicator.minimum,
            indicator.maximum,
        )
    return found


def keys_for_ids(tenant_id: int, indicator_ids: Iterable[str]) -> list[IndicatorKey]:
    """The keys of indicators named by id alone (a label rule names ids): each in the newest
    version of the first of the region's sets that has it; an id no set has is kept as a key
    of no set, so that ``check_keys`` refuses it by name."""
    offered: dict[str, IndicatorKey] = {}
    for choice in choices(tenant_id, "en"):
        offered.setdefault(choice.key[2], choice.key)
    return [offered.get(i, ("?", "?", i)) for i in indicator_ids if i]


def grouped(options: Iterable[IndicatorChoice]) -> list[tuple[str, str, list[IndicatorChoice]]]:
    """Choices as (set title, group, choices) in their order: what a form's picker shows."""
    found: list[tuple[str, str, list[IndicatorChoice]]] = []
    for option in options:
        if not found or found[-1][:2] != (option.set_title, option.group):
            found.append((option.set_title, option.group, []))
        found[-1][2].append(option)
    return found
