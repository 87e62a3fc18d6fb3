"""Indicator sets: data that plugins ship (JSON), read into immutable objects.

A set has an id and a version (versions coexist: a round keeps the version it was scored
with), groups, and indicators. Each indicator has translated names and help texts, a scale
(points, or a number with a unit), a direction (higher or lower is better) and the
thresholds that make a value green, yellow or red.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

LIGHTS = ("green", "yellow", "red")
REQUIRED_LOCALES = ("en", "nb", "da", "it")


class IndicatorSetError(ValueError):
    """An indicator set file is not valid; the message says where."""


def _text(value: Any, where: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value}
    if not isinstance(value, dict) or not value.get("en"):
        raise IndicatorSetError(f"{where}: give a text per language with at least 'en'")
    return {str(k): str(v) for k, v in value.items()}


def _optional_text(value: Any, where: str) -> dict[str, str]:
    return _text(value, where) if value else {"en": ""}


def pick(texts: dict[str, str], locale: str) -> str:
    """The text in the language, else in English."""
    return texts.get(locale) or texts.get(locale.split("_")[0]) or texts["en"]


@dataclass(frozen=True)
class Indicator:
    id: str
    group: str
    name: dict[str, str]
    help: dict[str, str]
    scale: str  # "points" or "number"
    unit: str
    minimum: float  # lowest possible value
    maximum: float  # highest possible value
    higher_is_better: bool
    green_at: float  # the value at (or beyond) which the light is green
    yellow_at: float  # ... yellow; anything worse is red

    def light(self, value: float) -> str:
        if self.higher_is_better:
            return (
                "green"
                if value >= self.green_at
                else "yellow"
                if value >= self.yellow_at
                else "red"
            )
        return "green" if value <= self.green_at else "yellow" if value <= self.yellow_at else "red"

    def in_range(self, value: float) -> bool:
        return self.minimum <= value <= self.maximum

    def compare(self, old: float, new: float) -> str:
        """'improved', 'declined' or 'same' between two values."""
        if new == old:
            return "same"
        better = new > old if self.higher_is_better else new < old
        return "improved" if better else "declined"


@dataclass(frozen=True)
class Coverage:
    """How much of an indicator set a round covers: ``covered`` of the set's ``total``
    indicators have a value. A round that covers fewer is *partial*: its score or a forum
    statistic over it speaks of those indicators only, and says so ("23 of 31 indicators")."""

    covered: int
    total: int

    @property
    def partial(self) -> bool:
        return self.covered < self.total

    @property
    def full(self) -> bool:
        return not self.partial


@dataclass(frozen=True)
class Group:
    id: str
    name: dict[str, str]


@dataclass(frozen=True)
class IndicatorSet:
    id: str
    version: str
    title: dict[str, str]
    description: dict[str, str]
    illustrative_thresholds: bool  # thresholds are examples, to be replaced by real data
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.version)

    def indicator(self, indicator_id: str) -> Indicator | None:
        return self._by_id().get(indicator_id)

    def _by_id(self) -> dict[str, Indicator]:
        return {i.id: i for i in self.indicators}

    def coverage(self, indicator_ids: Iterable[str]) -> Coverage:
        """How many of the set's indicators ``indicator_ids`` (those a round has a value
        for) cover; ids of other sets or versions do not count."""
        ids = {i.id for i in self.indicators}
        return Coverage(len(ids.intersection(indicator_ids)), len(ids))

    @property
    def max_points(self) -> Decimal:
        """The exact sum of the maxima of the indicators scored in points (31 x 5 = 155)."""
        return sum(
            (Decimal(repr(i.maximum)) for i in self.indicators if i.scale == "points"), Decimal(0)
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndicatorSet:
        where = f"indicator set {data.get('id', '?')}"
        for key in ("id", "version", "title", "groups", "indicators"):
            if key not in data:
                raise IndicatorSetError(f"{where}: '{key}' is missing")
        groups = tuple(
            Group(str(g["id"]), _text(g["name"], f"{where} group {g.get('id')}"))
            for g in data["groups"]
        )
        group_ids = {g.id for g in groups}
        indicators = []
        seen = set()
        for raw in data["indicators"]:
            iwhere = f"{where} indicator {raw.get('id', '?')}"
            if raw.get("id") in seen:
                raise IndicatorSetError(f"{iwhere}: the id is used twice")
            seen.add(raw.get("id"))
            if raw.get("group") not in group_ids:
                raise IndicatorSetError(f"{iwhere}: unknown group {raw.get('group')!r}")
            scale = raw.get("scale", "points")
            if scale not in {"points", "number"}:
                raise IndicatorSetError(f"{iwhere}: scale is 'points' or 'number'")
            direction = raw.get("direction", "higher")
            if direction not in {"higher", "lower"}:
                raise IndicatorSetError(f"{iwhere}: direction is 'higher' or 'lower'")
            thresholds = raw.get("thresholds") or {}
            try:
                indicator = Indicator(
                    id=str(raw["id"]),
                    group=str(raw["group"]),
                    name=_text(raw["name"], iwhere),
                    help=_optional_text(raw.get("help"), iwhere),
                    scale=scale,
                    unit=str(raw.get("unit", "")),
                    minimum=float(raw.get("min", 0)),
                    maximum=float(raw["max"]),
                    higher_is_better=direction == "higher",
                    green_at=float(thresholds["green"]),
                    yellow_at=float(thresholds["yellow"]),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise IndicatorSetError(
                    f"{iwhere}: {exc!r} (need max and thresholds green/yellow)"
                ) from None
            ordered = (
                (indicator.yellow_at <= indicator.green_at)
                if indicator.higher_is_better
                else (indicator.green_at <= indicator.yellow_at)
            )
            if not ordered or not (indicator.minimum <= indicator.maximum):
                raise IndicatorSetError(f"{iwhere}: thresholds or range out of order")
            indicators.append(indicator)
        return cls(
            id=str(data["id"]),
            version=str(data["version"]),
            title=_text(data["title"], where),
            description=_optional_text(data.get("description"), where),
            illustrative_thresholds=bool(data.get("illustrative_thresholds", False)),
            groups=groups,
            indicators=tuple(indicators),
        )

    @classmethod
    def from_file(cls, path: str | Path) -> IndicatorSet:
        """Read a set from JSON (or YAML when PyYAML is installed)."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        if path.suffix in {".yaml", ".yml"}:
            import yaml  # optional: plugins that ship YAML depend on PyYAML themselves

            return cls.from_dict(yaml.safe_load(text))
        return cls.from_dict(json.loads(text))
