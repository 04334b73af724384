"""Figures for reports: comparison grids of fused images with zoomed insets, metric charts.

Comparison grids follow the UFA-Fuse paper's Figs. 7-9: the two sources, then each method's
fused image, every panel with the same region magnified in a corner. The region is chosen
automatically where the images' local detail differs most (:func:`choose_zoom_box`), so the
inset shows what tells the methods apart rather than a flat area whose brightness differs.
Box and inset are framed in yellow between black lines, visible on any content; the inset
shows the original pixels magnified (nearest neighbour), whatever the panel's size. Rows are
balanced (:func:`grid_positions`): no row holds a lone panel. Images are uint8, (H, W) or
(H, W, 3); grids are PIL images, encoded losslessly for reports (:func:`image_bytes`).

Charts (bar charts of mean +/- std from zero, box plots of the per-pair values) are written
directly as SVG: a report then needs no plotting library at run time, and drawing takes
milliseconds (matplotlib's import and text layout took seconds per report here, more than a
cached run).
"""

from __future__ import annotations

import html
import io
import math
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

__all__ = [
    "grid_positions",
    "choose_zoom_box",
    "comparison_grid",
    "image_bytes",
    "metric_bars_svg",
    "metric_boxes_svg",
    "nice_ticks",
    "zoomed_panel",
]

# The zoom frame: yellow between two black lines, so it stands out on red, white and black alike.
FRAME_COLOUR = (255, 214, 0)
FRAME_EDGE = (0, 0, 0)
# Tableau-10 colours, one per method in order.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


# ---------------------------------------------------------------- image grids


def grid_positions(count: int, max_columns: int) -> list[tuple[int, int]]:
    """``(row, column)`` of each of ``count`` panels laid out in the fewest rows of at most
    ``max_columns``, with the panels spread evenly over the rows (lengths differ by at most
    one, longer rows first): 5 panels in rows of at most 4 are 3 + 2, not 4 + 1; 13 are
    4 + 3 + 3 + 3. A row then never holds one lone panel unless every row does."""
    rows = max(1, -(-count // max(1, max_columns)))
    short, extra = divmod(count, rows)
    lengths = [short + (r < extra) for r in range(rows)]
    return [(r, c) for r, length in enumerate(lengths) for c in range(length)]


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def _local_detail(gray: np.ndarray) -> np.ndarray:
    """Gradient magnitude averaged over 5 x 5 pixels: how much structure each place has."""
    gy, gx = np.gradient(gray)
    return ndimage.uniform_filter(np.hypot(gx, gy), size=5, mode="nearest")


def choose_zoom_box(images: Sequence[np.ndarray], fraction: float = 0.2) -> tuple[int, int, int, int]:
    """``(row, col, height, width)`` of the square window (``fraction`` of the shorter side)
    where the images' local detail differs most: the sum over the window of the per-pixel
    standard deviation, across images, of the smoothed gradient magnitude. Comparing detail
    rather than gray levels keeps the box off flat areas where one method merely shifts the
    brightness, and on edges kept sharp by one method and blurred or ringing in another.
    Identical images: the window with the most detail. Deterministic: the first maximum in
    row-major order."""
    details = np.stack([_local_detail(_rgb(im).astype(np.float64).mean(axis=2)) for im in images])
    spread = details.std(axis=0)
    if not spread.max() > 1e-9 * max(1.0, float(details.max())):
        spread = details.mean(axis=0)
    h, w = spread.shape
    side = min(max(8, int(round(min(h, w) * fraction))), h, w)
    window = ndimage.uniform_filter(spread, size=side, mode="constant")
    half = side // 2
    valid = window[half : h - (side - half) + 1, half : w - (side - half) + 1]
    r, c = np.unravel_index(int(np.argmax(valid)), valid.shape)
    return int(r), int(c), side, side


def _framed(draw: ImageDraw.ImageDraw, left: float, top: float, right: float, bottom: float) -> None:
    """A 4-pixel frame just inside the rectangle: black, yellow, yellow, black."""
    draw.rectangle((left, top, right, bottom), outline=FRAME_EDGE, width=1)
    draw.rectangle((left + 1, top + 1, right - 1, bottom - 1), outline=FRAME_COLOUR, width=2)
    draw.rectangle((left + 3, top + 3, right - 3, bottom - 3), outline=FRAME_EDGE, width=1)


def zoomed_panel(image: np.ndarray, box: tuple[int, int, int, int], width: int, inset: float = 0.45) -> Image.Image:
    """``image`` resized to ``width`` pixels wide, with ``box`` (native pixel coordinates)
    framed and magnified into the corner farthest from it, about ``inset`` of the panel wide.
    The inset is cut from the native image: an integer nearest-neighbour magnification when
    the box is small enough (pixels stay visible and sharp), else a Lanczos resize."""
    native = Image.fromarray(_rgb(image))
    h, w = image.shape[:2]
    height = max(1, round(width * h / w))
    panel = native.resize((width, height), Image.Resampling.LANCZOS) if (width, height) != (w, h) else native.copy()
    scale = width / w
    r, c, bh, bw = box
    target = inset * min(width, height)
    factor = int(target // max(bh, bw))
    crop = native.crop((c, r, c + bw, r + bh))
    if factor >= 2:
        zoom = crop.resize((bw * factor, bh * factor), Image.Resampling.NEAREST)
    else:
        side = max(1, round(target))
        zoom = crop.resize((side, max(1, round(side * bh / bw))), Image.Resampling.LANCZOS)
    zw, zh = zoom.size
    left = 0 if c + bw / 2 > w / 2 else width - zw
    top = 0 if r + bh / 2 > h / 2 else height - zh
    panel.paste(zoom, (left, top))
    draw = ImageDraw.Draw(panel)
    _framed(draw, c * scale - 2, r * scale - 2, (c + bw) * scale + 1, (r + bh) * scale + 1)
    _framed(draw, left, top, left + zw - 1, top + zh - 1)
    return panel


def comparison_grid(
    panels: Sequence[tuple[str, np.ndarray]],
    title: str = "",
    columns: int = 4,
    panel_width: int | None = None,
    zoom_from: Sequence[np.ndarray] | None = None,
) -> Image.Image:
    """A grid of labelled panels ("(a) source A", ...), each with the same zoomed inset; the
    zoom box is chosen on ``zoom_from`` (default: all panels). At most ``columns`` columns,
    balanced rows. Panels are ``panel_width`` pixels wide (default: the images' own width up
    to 520). Returns an RGB PIL image."""
    box = choose_zoom_box(zoom_from if zoom_from is not None else [im for _, im in panels])
    h, w = panels[0][1].shape[:2]
    panel_width = panel_width or min(w, 520)
    positions = grid_positions(len(panels), columns)
    rows, columns = positions[-1][0] + 1, max(c for _, c in positions) + 1
    panel_height = max(1, round(panel_width * h / w))
    font_size = max(14, panel_width // 20)
    label_height, gap = font_size + 10, 8
    title_height = font_size + 16 if title else 0
    canvas = Image.new(
        "RGB",
        (columns * panel_width + (columns + 1) * gap, title_height + rows * (panel_height + label_height + gap) + gap),
        "white",
    )
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=font_size)
    if title:
        draw.text((gap, 6), title, fill="black", font=ImageFont.load_default(size=font_size + 2))
    for k, (label, image) in enumerate(panels):
        row, col = positions[k]
        x = gap + col * (panel_width + gap)
        y = title_height + gap + row * (panel_height + label_height + gap)
        draw.text((x, y + 4), f"({_letter(k)}) {label}", fill="black", font=font)
        canvas.paste(zoomed_panel(image, box, panel_width), (x, y + label_height))
    return canvas


def _letter(k: int) -> str:
    """Panel letters a..z, then aa, ab, ..."""
    return chr(ord("a") + k) if k < 26 else _letter(k // 26 - 1) + chr(ord("a") + k % 26)


def image_bytes(image: Image.Image, fmt: str = "png") -> bytes:
    """Encode a PIL image: ``png``, ``webp`` (lossless) or ``jpeg`` (quality 88)."""
    buffer = io.BytesIO()
    # WebP's fastest lossless effort: a 1592 x 1178 grid of Lytro images takes 0.12 s and 1.38 MB
    # (the default effort: 0.86 s, 1.09 MB; optimised PNG: 1.1 s, 1.73 MB), a warm run's budget.
    options = {"png": {"optimize": True}, "webp": {"lossless": True, "method": 0, "quality": 50}, "jpeg": {"quality": 88}}[fmt]
    image.save(buffer, format=fmt.upper(), **options)
    return buffer.getvalue()


# ---------------------------------------------------------------- SVG charts


def _tick_step(low: float, high: float, count: int = 4) -> float:
    """A round step (1, 2 or 5 x 10^k) giving about ``count`` intervals over [low, high]."""
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    return min((m * magnitude for m in (1, 2, 5, 10)), key=lambda s: abs(math.log(s / raw)))


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About ``count`` round tick values (steps of 1, 2 or 5 x 10^k) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    step = _tick_step(low, high, count)
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + k * step, 12) for k in range(int((high - first) / step + 1e-9) + 1)]


def _axis(low: float, high: float, from_zero: bool) -> tuple[float, float, list[float]]:
    """Axis limits on round ticks around [low, high]; ``from_zero`` includes 0 (bar lengths
    then compare) and leaves headroom above the bars for their value labels."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if from_zero:
        low, high = min(low, 0.0), max(high, 0.0)
    if high <= low:
        spread = 0.1 * abs(low) or 1.0
        low, high = (low, low + spread) if from_zero and low == 0 else (low - spread, high + spread)
    if from_zero:
        high += 0.08 * (high - low)
    step = _tick_step(low, high)
    lo, hi = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    return lo, hi, [round(lo + k * step, 12) for k in range(int(round((hi - lo) / step)) + 1)]


# Panel geometry (SVG user units = CSS pixels): at most CHART_WIDTH wide in all, the report's
# column; a panel widens with the number of methods so their labels stay legible.
CHART_WIDTH, PANEL_H = 1160, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 44, 80
DIRECTION_WORDS = {True: "higher is better", False: "lower is better", None: "no direction"}


def _direction_note(higher_is_better: bool | None) -> str:
    return {True: " ↑", False: " ↓"}.get(higher_is_better, "")


def _svg_panels(
    metrics: Sequence[str],
    methods: Sequence[str],
    ranges: dict[str, tuple[float, float]],
    directions: dict[str, bool | None],
    draw: Callable[[str, int, float, float, Callable[[float], float], float], list[str]],
    from_zero: bool,
) -> str:
    """Lay out one labelled panel per metric, "(a) AVG ↑" over "higher is better", in balanced
    rows; ``draw(metric, i, centre_x, band, y_of, base)`` returns the SVG elements of method
    ``i`` in that panel (``y_of`` maps a value to a y coordinate, ``base`` is the y of zero,
    or of the lower edge when the axis does not include zero)."""
    positions = grid_positions(len(metrics), max(1, CHART_WIDTH // max(270, LEFT + RIGHT + 18 * len(methods))))
    rows, columns = positions[-1][0] + 1, max(c for _, c in positions) + 1
    panel_w = CHART_WIDTH // columns if len(metrics) > columns else max(270, LEFT + RIGHT + 18 * len(methods))
    width, height = columns * panel_w, rows * PANEL_H
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    plot_w, plot_h = panel_w - LEFT - RIGHT, PANEL_H - TOP - BOTTOM
    for k, metric in enumerate(metrics):
        x0, y0 = positions[k][1] * panel_w + LEFT, positions[k][0] * PANEL_H + TOP
        low, high, ticks = _axis(*ranges[metric], from_zero)

        def y_of(v: float, low: float = low, high: float = high, y0: float = y0) -> float:
            return y0 + (high - v) / (high - low) * plot_h

        direction = directions.get(metric)
        centre = x0 + plot_w / 2
        out.append(f'<text x="{centre:.1f}" y="{y0 - 24}" text-anchor="middle" font-size="13" font-weight="bold">({_letter(k)}) {html.escape(metric + _direction_note(direction))}</text>')
        out.append(f'<text x="{centre:.1f}" y="{y0 - 10}" text-anchor="middle" fill="#555">{DIRECTION_WORDS[direction]}</text>')
        for tick in ticks:
            ty = y_of(tick)
            out.append(f'<line x1="{x0}" x2="{x0 + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{"#444" if tick == 0 else "#e5e5e5"}"/>')
            out.append(f'<text x="{x0 - 4}" y="{ty + 4:.1f}" text-anchor="end" fill="#444">{tick:.6g}</text>')
        out.append(f'<rect x="{x0}" y="{y0}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/>')
        base = y_of(0.0) if low <= 0.0 <= high else y0 + plot_h
        band = plot_w / max(1, len(methods))
        for i, method in enumerate(methods):
            cx = x0 + (i + 0.5) * band
            out.extend(draw(metric, i, cx, band, y_of, base))
            ly = y0 + plot_h + 12
            out.append(f'<text x="{cx:.1f}" y="{ly:.1f}" text-anchor="end" transform="rotate(-40 {cx:.1f} {ly:.1f})">{html.escape(method)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def metric_bars_svg(summary: pd.DataFrame, directions: dict[str, bool | None], methods: Sequence[str]) -> str:
    """Mean +/- std per method, one panel per metric (``summary``: method, metric, mean, std).
    Bars start at zero, so their lengths compare honestly; each is labelled with its mean (when
    there is room) because close scores then look alike. A missing mean is marked "n/a"."""
    metrics = list(dict.fromkeys(summary["metric"]))
    table = summary.set_index(["method", "metric"])

    def stat(method: str, metric: str, column: str) -> float:
        try:
            return float(table.loc[(method, metric), column])
        except KeyError:
            return math.nan

    ranges = {}
    for metric in metrics:
        lows = [stat(m, metric, "mean") - _zero_nan(stat(m, metric, "std")) for m in methods]
        highs = [stat(m, metric, "mean") + _zero_nan(stat(m, metric, "std")) for m in methods]
        ranges[metric] = (_nanmin(lows), _nanmax(highs))

    def draw(metric: str, i: int, cx: float, band: float, y_of: Callable[[float], float], base: float) -> list[str]:
        mean, std = stat(methods[i], metric, "mean"), stat(methods[i], metric, "std")
        if not math.isfinite(mean):
            return [f'<text x="{cx:.1f}" y="{base - 4:.1f}" text-anchor="middle" fill="#888">n/a</text>']
        top = y_of(mean)
        bar_w = band * 0.62
        parts = [f'<rect x="{cx - bar_w / 2:.1f}" y="{min(top, base):.1f}" width="{bar_w:.1f}" height="{abs(base - top):.1f}" fill="{PALETTE[i % len(PALETTE)]}"><title>{html.escape(methods[i])}: {mean:.6g}</title></rect>']
        label_y = top
        if math.isfinite(std) and std > 0:
            y1, y2 = y_of(mean - std), y_of(mean + std)
            parts.append(f'<path d="M{cx:.1f} {y1:.1f}V{y2:.1f}M{cx - 5:.1f} {y1:.1f}h10M{cx - 5:.1f} {y2:.1f}h10" stroke="#222" fill="none"/>')
            label_y = min(y1, y2) if mean >= 0 else max(y1, y2)
        if band >= 40:
            dy = -4 if mean >= 0 else 12
            parts.append(f'<text x="{cx:.1f}" y="{label_y + dy:.1f}" text-anchor="middle" font-size="10" fill="#222">{mean:.4g}</text>')
        return parts

    return _svg_panels(metrics, methods, ranges, directions, draw, from_zero=True)


def metric_boxes_svg(frame: pd.DataFrame, directions: dict[str, bool | None], methods: Sequence[str]) -> str:
    """Box plots of the per-pair values (``frame``: the long results): box from the first to
    the third quartile, median line, whiskers to the furthest value within 1.5 IQR, points
    beyond them drawn as circles. Positions, not lengths, carry the values here, so each axis
    spans the values' own range (its ticks state it), not from zero."""
    metrics = list(dict.fromkeys(frame["metric"]))
    values = {
        (metric, method): part["value"].to_numpy(dtype=float)
        for (metric, method), part in frame.groupby(["metric", "method"], sort=False)
    }
    values = {k: v[np.isfinite(v)] for k, v in values.items()}
    ranges = {}
    for metric in metrics:
        pooled = [v for m in methods for v in values.get((metric, m), [])]
        ranges[metric] = (min(pooled), max(pooled)) if pooled else (math.nan, math.nan)

    def draw(metric: str, i: int, cx: float, band: float, y_of: Callable[[float], float], bottom: float) -> list[str]:
        data = values.get((metric, methods[i]), np.array([]))
        if not len(data):
            return []
        q1, median, q3 = np.percentile(data, [25, 50, 75])
        reach = 1.5 * (q3 - q1)
        inside = data[(data >= q1 - reach) & (data <= q3 + reach)]
        low, high = inside.min(), inside.max()
        colour = PALETTE[i % len(PALETTE)]
        w = band * 0.5
        parts = [
            f'<path d="M{cx:.1f} {y_of(low):.1f}V{y_of(q1):.1f}M{cx:.1f} {y_of(q3):.1f}V{y_of(high):.1f}'
            f'M{cx - w / 4:.1f} {y_of(low):.1f}h{w / 2:.1f}M{cx - w / 4:.1f} {y_of(high):.1f}h{w / 2:.1f}" stroke="#222" fill="none"/>',
            f'<rect x="{cx - w / 2:.1f}" y="{y_of(q3):.1f}" width="{w:.1f}" height="{max(0.5, y_of(q1) - y_of(q3)):.1f}" fill="{colour}" fill-opacity="0.55" stroke="#222"/>',
            f'<line x1="{cx - w / 2:.1f}" x2="{cx + w / 2:.1f}" y1="{y_of(median):.1f}" y2="{y_of(median):.1f}" stroke="#222" stroke-width="2"/>',
        ]
        for v in data[(data < q1 - reach) | (data > q3 + reach)]:
            parts.append(f'<circle cx="{cx:.1f}" cy="{y_of(v):.1f}" r="2.5" fill="none" stroke="#222"/>')
        return parts

    return _svg_panels(metrics, methods, ranges, directions, draw, from_zero=False)


def _zero_nan(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _nanmin(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return min(finite) if finite else math.nan


def _nanmax(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return max(finite) if finite else math.nan
