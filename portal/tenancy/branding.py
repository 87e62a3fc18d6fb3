"""A region's look: accent colour (kept readable) and logo."""

from __future__ import annotations

import io
import re

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from portal.errors import ServiceError

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_SIDE = 400


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def readable_on_white(hex_colour: str) -> str:
    """Darken the colour until text in it reaches 4.5:1 on white (WCAG AA)."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    colour = hex_colour
    while contrast(colour, "#ffffff") < 4.5:
        r, g, b = (int(c * 0.9) for c in (r, g, b))
        colour = f"#{r:02x}{g:02x}{b:02x}"
    return colour


def theme_css(accent: str) -> str:
    accent = accent if HEX_COLOUR.match(accent or "") else "#0b6e4f"
    primary = readable_on_white(accent)
    hover = readable_on_white(
        "#" + "".join(f"{int(int(primary[i : i + 2], 16) * 0.85):02x}" for i in (1, 3, 5))
    )
    return (
        ":root{"
        f"--brand-accent:{accent};"
        f"--pico-primary:{primary};"
        f"--pico-primary-background:{primary};"
        f"--pico-primary-border:{primary};"
        f"--pico-primary-underline:{primary}80;"
        f"--pico-primary-hover:{hover};"
        f"--pico-primary-hover-background:{hover};"
        f"--pico-primary-hover-border:{hover};"
        f"--pico-primary-focus:{primary}55;"
        "--pico-primary-inverse:#fff;"
        "}\n"
    )


def validate_colour(value: str) -> str:
    if not HEX_COLOUR.match(value or ""):
        raise ServiceError(_("Enter the colour as # and six hex digits, e.g. #0b6e4f."))
    return value.lower()


def normalise_logo(raw: bytes) -> bytes:
    """Check the upload is really an image by its content; re-encode it as a small PNG."""
    if len(raw) > LOGO_MAX_BYTES:
        raise ServiceError(_("The logo may be at most 2 MB."))
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(raw)) as image:
            if image.format not in {"PNG", "JPEG", "WEBP", "GIF"}:
                raise ServiceError(_("The logo must be a PNG, JPEG, WebP or GIF image."))
            image = image.convert("RGBA")
            image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise ServiceError(_("The file is not an image the portal can read.")) from None
