"""Pictures drawn as SVG on the server: no script, print well, readable offline."""

from __future__ import annotations

from dataclasses import dataclass

# Colour-blind-safe palette (Okabe-Ito), each dark enough for white text at AA size.
PALETTE = (
    "#0072B2",
    "#B35900",
    "#007A5E",
    "#A6306B",
    "#5A4FCF",
    "#8A6D00",
    "#2F6F8F",
    "#7A3E00",
    "#4D4D4D",
)


@dataclass
class Bar:
    label: str
    value: int
    share: float  # 0..1 of the total
    length: float  # 0..1 of the longest bar
    color: str


def bars(items: list[tuple[str, int]]) -> list[Bar]:
    total = sum(v for _, v in items) or 1
    longest = max((v for _, v in items), default=0) or 1
    return [
        Bar(str(label), value, value / total, value / longest, PALETTE[i % len(PALETTE)])
        for i, (label, value) in enumerate(items)
    ]
