"""Figures for reports: comparison grids of fused images with zoomed insets, metric charts.

Comparison grids follow the UFA-Fuse paper's Figs. 7-9: the two sources, then each method's
fused image, every panel with the same region magnified in a corner. The region is chosen
automatically where the images disagree most (:func:`choose_zoom_box`), so the inset shows
what tells the methods apart. Images are uint8, (H, W) or (H, W, 3); grids are PIL images.

Charts (bar charts of mean +/- std, box plots of the per-pair values) are written directly as
SVG: a report then needs no plotting library at run time, and drawing takes milliseconds
(matplotlib's import and text layout took seconds per report here, more than a cached run).
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
    "add_inset",
    "choose_zoom_box",
    "comparison_grid",
    "image_bytes",
    "metric_bars_svg",
    "metric_boxes_svg",
    "nice_ticks",
]

INSET_COLOUR = np.array([230, 25, 25], dtype=np.uint8)
# Tableau-10 colours, one per method in order.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")


# ---------------------------------------------------------------- image grids


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def choose_zoom_box(images: Sequence[np.ndarray], fraction: float = 0.2) -> tuple[int, int, int, int]:
    """``(row, col, height, width)`` of the square window (``fraction`` of the shorter side)
    where the gray images differ most (sum over the window of the per-pixel standard
    deviation across images). Deterministic: the first maximum in row-major order."""
    grays = np.stack([_rgb(im).astype(np.float64).mean(axis=2) for im in images])
    spread = grays.std(axis=0)
    h, w = spread.shape
    side = min(max(8, int(round(min(h, w) * fraction))), h, w)
    window = ndimage.uniform_filter(spread, size=side, mode="constant")
    half = side // 2
    valid = window[half : h - (side - half) + 1, half : w - (side - half) + 1]
    r, c = np.unravel_index(int(np.argmax(valid)), valid.shape)
    return int(r), int(c), side, side


def add_inset(image: np.ndarray, box: tuple[int, int, int, int], scale: int = 2, border: int = 2) -> np.ndarray:
    """Outline ``box`` in red and paste it magnified ``scale`` x (nearest neighbour, so pixels
    stay visible) into the image corner farthest from the box, framed in red."""
    out = _rgb(image).copy()
    h, w = out.shape[:2]
    r, c, bh, bw = box
    crop = out[r : r + bh, c : c + bw].copy()
    zoom = np.repeat(np.repeat(crop, scale, axis=0), scale, axis=1)
    zh, zw = min(zoom.shape[0], h // 2), min(zoom.shape[1], w // 2)
    zoom = zoom[:zh, :zw]
    _frame(out, r, c, bh, bw, border)
    top = 0 if r + bh / 2 > h / 2 else h - zh
    left = 0 if c + bw / 2 > w / 2 else w - zw
    out[top : top + zh, left : left + zw] = zoom
    _frame(out, top, left, zh, zw, border)
    return out


def _frame(image: np.ndarray, r: int, c: int, h: int, w: int, t: int) -> None:
    image[r : r + t, c : c + w] = INSET_COLOUR
    image[r + h - t : r + h, c : c + w] = INSET_COLOUR
    image[r : r + h, c : c + t] = INSET_COLOUR
    image[r : r + h, c + w - t : c + w] = INSET_COLOUR


def comparison_grid(
    panels: Sequence[tuple[str, np.ndarray]],
    title: str = "",
    columns: int = 5,
    panel_width: int = 360,
    zoom_from: Sequence[np.ndarray] | None = None,
) -> Image.Image:
    """A grid of labelled panels ("(a) source A", ...), each with the same zoomed inset; the
    zoom box is chosen on ``zoom_from`` (default: all panels). Panels are resized to
    ``panel_width`` pixels wide. Returns an RGB PIL image."""
    box = choose_zoom_box(zoom_from if zoom_from is not None else [im for _, im in panels])
    columns = min(columns, len(panels))
    rows = -(-len(panels) // columns)
    h, w = panels[0][1].shape[:2]
    panel_height = max(1, round(panel_width * h / w))
    font_size = max(14, panel_width // 16)
    label_height, gap = font_size + 10, 6
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
        row, col = divmod(k, columns)
        x = gap + col * (panel_width + gap)
        y = title_height + gap + row * (panel_height + label_height + gap)
        draw.text((x, y + 4), f"({chr(ord('a') + k)}) {label}", fill="black", font=font)
        tile = Image.fromarray(add_inset(image, box)).resize((panel_width, panel_height), Image.Resampling.LANCZOS)
        canvas.paste(tile, (x, y + label_height))
    return canvas


def image_bytes(image: Image.Image, fmt: str = "jpeg") -> bytes:
    """Encode a PIL image (``jpeg`` quality 88, or ``png``)."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt.upper(), **({"quality": 88} if fmt == "jpeg" else {}))
    return buffer.getvalue()


# ---------------------------------------------------------------- SVG charts


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """About ``count`` round tick values (steps of 1, 2 or 5 x 10^k) covering [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10)), key=lambda s: abs(math.log(s / raw)))
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + k * step, 12) for k in range(int((high - first) / step + 1e-9) + 1)]


PANEL_W, PANEL_H = 270, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 10, 30, 78


def _direction_note(higher_is_better: bool | None) -> str:
    return {True: " ↑", False: " ↓"}.get(higher_is_better, "")


def _svg_panels(
    metrics: Sequence[str],
    methods: Sequence[str],
    ranges: dict[str, tuple[float, float]],
    directions: dict[str, bool | None],
    draw: Callable[[str, int, float, float, Callable[[float], float], float], list[str]],
    columns: int = 4,
) -> str:
    """Lay out one panel per metric; ``draw(metric, i, centre_x, band, y_of, bottom)`` returns
    the SVG elements of method ``i`` in that panel (``y_of`` maps a value to a y coordinate,
    ``bottom`` is the y of the panel's lower edge)."""
    columns = max(1, min(columns, len(metrics)))
    rows = -(-len(metrics) // columns)
    width, height = columns * PANEL_W, rows * PANEL_H
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    plot_w, plot_h = PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM
    for k, metric in enumerate(metrics):
        x0, y0 = (k % columns) * PANEL_W + LEFT, (k // columns) * PANEL_H + TOP
        low, high = ranges[metric]
        if not (math.isfinite(low) and math.isfinite(high)):
            low, high = 0.0, 1.0
        pad = 0.08 * (high - low) or 0.05 * abs(high) or 1.0
        low, high = low - pad, high + pad

        def y_of(v: float, low: float = low, high: float = high, y0: float = y0) -> float:
            return y0 + (high - v) / (high - low) * plot_h

        out.append(f'<text x="{x0 + plot_w / 2:.1f}" y="{y0 - 12}" text-anchor="middle" font-size="12" font-weight="bold">{html.escape(metric + _direction_note(directions.get(metric)))}</text>')
        for tick in nice_ticks(low, high):
            ty = y_of(tick)
            out.append(f'<line x1="{x0}" x2="{x0 + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e5e5e5"/>')
            out.append(f'<text x="{x0 - 4}" y="{ty + 4:.1f}" text-anchor="end" fill="#444">{tick:.6g}</text>')
        out.append(f'<rect x="{x0}" y="{y0}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/>')
        band = plot_w / max(1, len(methods))
        for i, method in enumerate(methods):
            cx = x0 + (i + 0.5) * band
            out.extend(draw(metric, i, cx, band, y_of, y0 + plot_h))
            ly = y0 + plot_h + 12
            out.append(f'<text x="{cx:.1f}" y="{ly:.1f}" text-anchor="end" transform="rotate(-40 {cx:.1f} {ly:.1f})">{html.escape(method)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def metric_bars_svg(summary: pd.DataFrame, directions: dict[str, bool | None], methods: Sequence[str]) -> str:
    """Mean +/- std per method, one panel per metric (``summary``: method, metric, mean, std).
    The value axis is zoomed onto the bars' range so that close scores look different."""
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
            return []
        top = y_of(mean)
        bar_w = band * 0.62
        parts = [f'<rect x="{cx - bar_w / 2:.1f}" y="{min(top, base):.1f}" width="{bar_w:.1f}" height="{abs(base - top):.1f}" fill="{PALETTE[i % len(PALETTE)]}"><title>{html.escape(methods[i])}: {mean:.6g}</title></rect>']
        if math.isfinite(std) and std > 0:
            y1, y2 = y_of(mean - std), y_of(mean + std)
            parts.append(f'<path d="M{cx:.1f} {y1:.1f}V{y2:.1f}M{cx - 5:.1f} {y1:.1f}h10M{cx - 5:.1f} {y2:.1f}h10" stroke="#222" fill="none"/>')
        return parts

    return _svg_panels(metrics, methods, ranges, directions, draw)


def metric_boxes_svg(frame: pd.DataFrame, directions: dict[str, bool | None], methods: Sequence[str]) -> str:
    """Box plots of the per-pair values (``frame``: the long results): box from the first to
    the third quartile, median line, whiskers to the furthest value within 1.5 IQR, points
    beyond them drawn as circles."""
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

    return _svg_panels(metrics, methods, ranges, directions, draw)


def _zero_nan(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _nanmin(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return min(finite) if finite else math.nan


def _nanmax(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return max(finite) if finite else math.nan
