"""Share cards: the 1200×630 PNG (the Open Graph image size) behind a shared achievement, streak,
level, workout or challenge win, drawn with Pillow in UGOKI's colours.

Only Pillow's built-in font is used (scaled with FreeType), so nothing is read from the network or
the file system. That font covers ASCII and a few typographic signs: other letters are folded to
their unaccented form (é → e) or dropped, and a headline left empty falls back to the kind of
share. Every text is cut to a bounded length before it is measured, and wrapped and shortened
with an ellipsis to fit its box. `render_card` is CPU work: call it in a worker thread.
"""

from __future__ import annotations

import functools
import io
import math
import threading
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630
MAX_HEADLINE = 80
MAX_CAPTION = 100
MAX_LABEL = 30
MAX_BADGE = 6

# Brand colours: the deep navy background, UGOKI teal (fasting) and orange (training).
NAVY = (11, 18, 32)
DEEP_TEAL = (10, 52, 56)
TEAL = (20, 184, 166)
ORANGE = (249, 115, 22)
WHITE = (248, 250, 252)
MUTED = (148, 163, 184)

# Per kind of share: the accent colour and the emblem drawn when there is no figure to show.
ACCENTS: dict[str, tuple[int, int, int]] = {
    "streak": ORANGE,
    "achievement": (251, 191, 36),
    "level_up": (167, 139, 250),
    "workout": (56, 189, 248),
    "challenge_win": (250, 204, 21),
    "generic": TEAL,
}
EMBLEMS = {"achievement": "star", "challenge_win": "trophy", "workout": "bolt", "generic": "chevrons"}

_REPLACEMENTS = str.maketrans(
    {"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-", "×": "x", "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O"}
)
_REPLACEMENTS.update({ord("ł"): "l", ord("Ł"): "L", ord("đ"): "d", ord("Đ"): "D", ord("œ"): "oe", ord("Œ"): "OE"})


@dataclass(frozen=True)
class CardSpec:
    """What a card shows: the kind of share, a small upper-case label, the headline (the figure
    the person shares, e.g. "7-day fasting streak"), a caption under it, and optionally a short
    figure for the round badge ("7") with its unit ("DAYS")."""

    kind: str
    label: str
    headline: str
    caption: str = ""
    badge: str | None = None
    badge_unit: str | None = None


# Fonts -----------------------------------------------------------------------------------------

# FreeType faces are not safe to share between threads: each rendering thread loads its own.
_fonts = threading.local()


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    cache: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = getattr(_fonts, "by_size", None) or {}
    _fonts.by_size = cache
    if size not in cache:
        cache[size] = ImageFont.load_default(size=size)
    return cache[size]


@functools.cache
def _glyphs() -> frozenset[str]:
    """The characters the built-in font draws (others would show as empty boxes)."""
    font = ImageFont.load_default(size=24)
    missing = bytes(font.getmask("\uffff"))
    candidates = [chr(c) for c in range(0x20, 0x250)] + [chr(c) for c in range(0x2000, 0x2070)]
    return frozenset(c for c in candidates if c == " " or bytes(font.getmask(c)) != missing)


def drawable(text: str, limit: int) -> str:
    """`text` cut to `limit` characters and folded to what the font can draw, spaces collapsed."""
    text = text[: limit * 2].translate(_REPLACEMENTS)
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    known = _glyphs()
    kept = "".join(c if c in known else " " for c in folded)
    return " ".join(kept.split())[:limit].strip()


# Text layout -----------------------------------------------------------------------------------


def _width(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> float:
    return float(font.getlength(text))


def _shorten(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    if _width(text, font) <= width:
        return text
    kept = text[: _longest_prefix(text + "…", font, width - int(_width("…", font)))]
    space = kept.rfind(" ")
    if space > len(kept) * 0.6:  # end on a whole word when that loses little
        kept = kept[:space]
    return kept.rstrip() + "…"


def _longest_prefix(word: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> int:
    """How many leading characters of `word` fit in `width` (at least one), by bisection."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if _width(word[:middle], font) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if _width(candidate, font) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while _width(current, font) > width and len(current) > 1:  # a word wider than the box
            cut = _longest_prefix(current, font, width)
            lines.append(current[:cut])
            current = current[cut:]
    if current:
        lines.append(current)
    return lines


def fit(
    text: str, width: int, sizes: tuple[int, ...], max_lines: int
) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, list[str]]:
    """The largest of `sizes` at which `text` wraps into at most `max_lines` lines of `width`
    pixels; at the smallest size, the lines that fit, the last one shortened with an ellipsis."""
    for size in sizes:
        font = _font(size)
        lines = _wrap(text, font, width)
        if len(lines) <= max_lines:
            return font, lines
    font = _font(sizes[-1])
    lines = _wrap(text, font, width)
    kept = lines[:max_lines]
    kept[-1] = _shorten(kept[-1] + " " + " ".join(lines[max_lines:]), font, width)
    return font, kept


# Drawing ---------------------------------------------------------------------------------------


def _background(accent: tuple[int, int, int]) -> Image.Image:
    """Navy fading into deep teal from top to bottom, with a soft glow of the accent on the right."""
    fade = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    card = Image.composite(Image.new("RGB", (WIDTH, HEIGHT), DEEP_TEAL), Image.new("RGB", (WIDTH, HEIGHT), NAVY), fade)
    glow_size = 760
    glow = Image.radial_gradient("L").resize((glow_size, glow_size))
    # The gradient reaches 181 at the middle of each edge: fade to nothing there, quadratically.
    glow = glow.point(lambda v: int(80 * max(0.0, 1 - v / 181) ** 2))
    card.paste(Image.new("RGB", (glow_size, glow_size), accent), (930 - glow_size // 2, 315 - glow_size // 2), glow)
    return card


def _polygon_points(points: list[tuple[float, float]], cx: float, cy: float, scale: float) -> list[tuple[float, float]]:
    return [(cx + x * scale, cy + y * scale) for x, y in points]


def _star(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    inner = outer * 0.45
    return [
        (
            cx + (outer if i % 2 == 0 else inner) * math.sin(i * math.pi / 5),
            cy - (outer if i % 2 == 0 else inner) * math.cos(i * math.pi / 5),
        )
        for i in range(10)
    ]


def _draw_emblem(
    draw: ImageDraw.ImageDraw, emblem: str, cx: float, cy: float, r: float, colour: tuple[int, ...]
) -> None:
    """A simple shape inside the badge, in a square of half-side `r` around (cx, cy)."""
    if emblem == "star":
        draw.polygon(_star(cx, cy + r * 0.06, r * 0.95), fill=colour)
    elif emblem == "bolt":
        bolt = [(0.15, -1.0), (-0.6, 0.15), (-0.05, 0.15), (-0.25, 1.0), (0.6, -0.2), (0.05, -0.2), (0.3, -1.0)]
        draw.polygon(_polygon_points(bolt, cx, cy, r), fill=colour)
    elif emblem == "trophy":
        s = r
        draw.chord((cx - 0.62 * s, cy - 1.25 * s, cx + 0.62 * s, cy + 0.2 * s), 0, 180, fill=colour)  # the cup
        draw.rectangle((cx - 0.62 * s, cy - 0.85 * s, cx + 0.62 * s, cy - 0.5 * s), fill=colour)
        for side in (-1, 1):  # the handles
            x = cx + side * 0.78 * s
            draw.arc((x - 0.3 * s, cy - 0.8 * s, x + 0.3 * s, cy - 0.1 * s), 0, 360, fill=colour, width=int(s * 0.12))
        draw.rectangle((cx - 0.1 * s, cy - 0.05 * s, cx + 0.1 * s, cy + 0.5 * s), fill=colour)  # the stem
        draw.rounded_rectangle((cx - 0.5 * s, cy + 0.5 * s, cx + 0.5 * s, cy + 0.75 * s), radius=s * 0.06, fill=colour)
    else:  # chevrons: movement (ugoki)
        chevron = [(-0.55, -0.8), (-0.05, -0.8), (0.45, 0.0), (-0.05, 0.8), (-0.55, 0.8), (-0.05, 0.0)]
        for shift in (-0.35, 0.4):
            draw.polygon(_polygon_points([(x + shift, y) for x, y in chevron], cx, cy, r * 0.85), fill=colour)


def _badge(spec: CardSpec, accent: tuple[int, int, int], diameter: int) -> Image.Image:
    """The round badge on the right, drawn three times larger and scaled down (smooth edges)."""
    scale = 3
    size = diameter * scale
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    ring = int(16 * scale)
    draw.ellipse((0, 0, size - 1, size - 1), fill=(*accent, 255))
    draw.ellipse((ring, ring, size - 1 - ring, size - 1 - ring), fill=(*NAVY, 235))
    inner = ring + int(18 * scale)
    draw.ellipse((inner, inner, size - 1 - inner, size - 1 - inner), outline=(*accent, 90), width=3 * scale)
    if not spec.badge:
        emblem = EMBLEMS.get(spec.kind, "chevrons")
        _draw_emblem(draw, emblem, size / 2, size / 2, size * 0.24, (*accent, 255))
    return layer.resize((diameter, diameter), Image.Resampling.LANCZOS)


def render_card(spec: CardSpec) -> bytes:
    """The card as PNG bytes (blocking: run it in a worker thread)."""
    accent = ACCENTS.get(spec.kind, TEAL)
    card = _background(accent)
    draw = ImageDraw.Draw(card)
    left, text_width = 80, 600

    # The wordmark, with a small teal-and-orange mark.
    draw.rounded_rectangle((left, 62, left + 44, 106), radius=10, fill=TEAL)
    draw.polygon([(left + 14, 72), (left + 34, 84), (left + 14, 96)], fill=WHITE)
    draw.text((left + 62, 84), "UGOKI", font=_font(40), fill=WHITE, anchor="lm", stroke_width=1, stroke_fill=WHITE)

    # The label, the headline (the figure shared) and the caption.
    label = drawable(spec.label, MAX_LABEL).upper() or "UGOKI"
    draw.text((left, 196), " ".join(label), font=_font(24), fill=accent, anchor="ls")
    headline = drawable(spec.headline, MAX_HEADLINE) or drawable(spec.label, MAX_LABEL) or "UGOKI"
    # Large on up to two lines, else smaller on up to three (the caption then gets one line).
    font, lines = fit(headline, text_width, (76, 68), max_lines=2)
    if len(_wrap(headline, font, text_width)) > 2:
        font, lines = fit(headline, text_width, (60, 52), max_lines=3)
    line_height = int(getattr(font, "size", 52) * 1.14)
    y = 230
    for line in lines:
        draw.text((left, y), line, font=font, fill=WHITE, anchor="la", stroke_width=1, stroke_fill=WHITE)
        y += line_height
    caption = drawable(spec.caption, MAX_CAPTION)
    if caption:
        caption_font, caption_lines = fit(caption, text_width, (34, 30), max_lines=2 if len(lines) < 3 else 1)
        y += 18
        for line in caption_lines:
            draw.text((left, y), line, font=caption_font, fill=MUTED, anchor="la")
            y += int(getattr(caption_font, "size", 30) * 1.25)

    # The footer: what UGOKI is, and a bar in the brand colours.
    draw.text((left, 560), "Fasting, HIIT and a coach in one app", font=_font(26), fill=MUTED, anchor="ls")
    bar = Image.linear_gradient("L").rotate(90).resize((WIDTH, 14))
    card.paste(Image.composite(Image.new("RGB", bar.size, TEAL), Image.new("RGB", bar.size, ORANGE), bar), (0, 616))

    # The badge: the figure (or an emblem) in a ring of the accent colour.
    diameter, cx, cy = 380, 930, 315
    badge = _badge(spec, accent, diameter)
    card.paste(badge, (cx - diameter // 2, cy - diameter // 2), badge)
    figure = drawable(spec.badge or "", MAX_BADGE)
    if figure:
        unit = drawable(spec.badge_unit or "", 12).upper()
        figure_font, _ = fit(figure, 250, (150, 130, 110, 90, 72), max_lines=1)
        figure_y = cy - 18 if unit else cy
        draw.text((cx, figure_y), figure, font=figure_font, fill=WHITE, anchor="mm", stroke_width=2, stroke_fill=WHITE)
        if unit:
            draw.text((cx, cy + 82), " ".join(unit), font=_font(28), fill=accent, anchor="mm")

    out = io.BytesIO()
    card.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()
