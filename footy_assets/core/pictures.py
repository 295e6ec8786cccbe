"""A picture of a match for the Dagster UI: per period, average positions on the pitch and the teams' speed.

One column per period: on top the players' average positions (dot size by minutes played in the period; a
player who came on or went off during the period is drawn with a dashed yellow ring and an arrow, and players of a
team whose averages nearly coincide — a substitute and the player he replaced — are pushed apart so both can
be read); below, each team's mean valid speed per minute, on the match-minute axis of that period (0-45+,
45-90+). Aggregation is polars (a few group_bys); Pillow draws ~50 dots, the pitch's lines and a few polylines,
at twice the size and scaled down (smooth edges). Drawing with matplotlib cost ~0.35 s of imports and ~0.2 s of
layout and rendering per match, on the core the chain needs (bench/full_match.py); Pillow takes a few
hundredths of a second. Text uses Pillow's own font (the same on every machine, no system fonts needed).
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
import polars as pl

from footy_assets.core.metrics.clock import match_minute

TEAM_COLOURS = {0: "#1f77b4", 1: "#d62728"}
PART_OF_PERIOD = 0.9  # below this share of the period's length, a player came on or went off during it
MIN_SEPARATION_M = 6.0  # average positions closer than this (same team, same period) are pushed apart


def average_positions(frame_state: pl.DataFrame) -> pl.DataFrame:
    """Per period and player: mean x_m, y_m (canonical frame: home attacks +x), minutes in the period, and
    whether he came on late (``came_on``) or went off early (``went_off``: more than a tenth of the period
    from its first or last frame)."""
    return _average_positions(frame_state.lazy()).collect()


def speed_profile(frame_state: pl.DataFrame) -> pl.DataFrame:
    """Mean valid speed (m/s) per team, period and match minute (the minute within the period, counted as
    event data does: the second half starts at 45)."""
    return _speed_profile(frame_state.lazy()).collect()


def picture_aggregates(frame_state: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(average_positions, speed_profile) of ``frame_state``, computed together (one pass of polars' threads
    over the rows, not two one after the other)."""
    positions, profile = pl.collect_all([_average_positions(frame_state.lazy()), _speed_profile(frame_state.lazy())])
    return positions, profile


def _average_positions(frame_state: pl.LazyFrame) -> pl.LazyFrame:
    fps = pl.col("fps").first()
    per_player = frame_state.group_by("period", "player_id", "team").agg(
        x_m=pl.col("x_m").mean(),
        y_m=pl.col("y_m").mean(),
        minutes=pl.len() / fps / 60,
        on_s=pl.col("period_time_s").min(),
        off_s=pl.col("period_time_s").max(),
    )
    first, last = pl.col("on_s").min().over("period"), pl.col("off_s").max().over("period")
    slack = (1 - PART_OF_PERIOD) * (last - first)
    return per_player.with_columns(
        came_on=(pl.col("on_s") - first) > slack,
        went_off=(last - pl.col("off_s")) > slack,
    ).sort("period", "team", "player_id")


def _speed_profile(frame_state: pl.LazyFrame) -> pl.LazyFrame:
    valid = pl.col("valid") if "valid" in frame_state.collect_schema().names() else pl.col("speed_mps").is_not_null()
    return (
        frame_state.filter(valid)
        .with_columns(minute=match_minute(pl.col("period_time_s")).cast(pl.Int64))
        .group_by("team", "period", "minute")
        .agg(speed_mps=pl.col("speed_mps").mean())
        .sort("team", "period", "minute")
    )


def spread_apart(
    x: np.ndarray, y: np.ndarray, group: np.ndarray, min_distance: float = MIN_SEPARATION_M, rounds: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Positions moved so that no two of one group are closer than ``min_distance`` (a few dozen points:
    pairwise numpy, each round pushes every close pair apart along the line joining them)."""
    x, y = x.astype(float).copy(), y.astype(float).copy()
    same = group[:, None] == group[None, :]
    np.fill_diagonal(same, False)
    order = np.sign(np.subtract.outer(np.arange(x.size), np.arange(x.size))).astype(float)
    for _ in range(rounds):
        dx, dy = x[:, None] - x[None, :], y[:, None] - y[None, :]
        distance = np.hypot(dx, dy)
        close = same & (distance < min_distance)
        if not close.any():
            break
        # coincident points are pushed along x by their order, so the push is deterministic
        ux = np.where(distance > 1e-6, dx / np.maximum(distance, 1e-6), order)
        uy = np.where(distance > 1e-6, dy / np.maximum(distance, 1e-6), 0.0)
        push = np.where(close, (min_distance - distance) / 2, 0.0)
        x += (push * ux).sum(axis=1)
        y += (push * uy).sum(axis=1)
    return x, y


PERIOD_NAMES = {
    1: "first half",
    2: "second half",
    3: "extra time, first half",
    4: "extra time, second half",
    5: "shoot-out",
}
PITCH_GREEN = "#3a7d44"
SCALE = 2  # drawn at twice the size, then scaled down: Pillow's shapes have no antialiasing of their own
PERIOD_WIDTH_PX, HEIGHT_PX = 640, 720  # one column per period
LEFT_PX, RIGHT_PX, TOP_PX, BOTTOM_PX, COLUMN_GAP_PX, ROW_GAP_PX = 64, 14, 42, 46, 76, 58
PT_PX = 80 / 72  # a typographic point in pixels (the picture is 80 dpi)


def match_picture(frame_state: pl.DataFrame, title: str, pitch: tuple[float, float] = (105.0, 68.0)) -> bytes:
    """PNG bytes of the picture (see the module's docstring)."""
    return render_picture(*picture_aggregates(frame_state), title, pitch)


@lru_cache(maxsize=16)
def _font(px: float):
    from PIL import ImageFont

    return ImageFont.load_default(size=max(1, round(px * SCALE)))


class _Canvas:
    """A Pillow image addressed in output pixels (drawn at ``SCALE`` times the size)."""

    def __init__(self, width: int, height: int):
        from PIL import Image, ImageDraw

        self.size = (width, height)
        self.image = Image.new("RGB", (width * SCALE, height * SCALE), "white")
        self.draw = ImageDraw.Draw(self.image)

    @staticmethod
    def _xy(points):
        return [(x * SCALE, y * SCALE) for x, y in points]

    def rect(self, box, fill=None, outline=None, width: float = 1.0) -> None:
        x0, y0, x1, y1 = box
        self.draw.rectangle(
            [x0 * SCALE, y0 * SCALE, x1 * SCALE, y1 * SCALE],
            fill=fill,
            outline=outline,
            width=max(1, round(width * SCALE)),
        )

    def line(self, points, fill, width: float = 1.0) -> None:
        self.draw.line(self._xy(points), fill=fill, width=max(1, round(width * SCALE)), joint="curve")

    def circle(self, centre, radius: float, fill=None, outline=None, width: float = 1.0) -> None:
        x, y = centre
        box = [(x - radius) * SCALE, (y - radius) * SCALE, (x + radius) * SCALE, (y + radius) * SCALE]
        self.draw.ellipse(box, fill=fill, outline=outline, width=max(1, round(width * SCALE)))

    def arc(self, centre, radius: float, start: float, end: float, fill, width: float = 1.0) -> None:
        """Angles in degrees, clockwise on the screen from 3 o'clock (Pillow's convention)."""
        x, y = centre
        box = [(x - radius) * SCALE, (y - radius) * SCALE, (x + radius) * SCALE, (y + radius) * SCALE]
        self.draw.arc(box, start, end, fill=fill, width=max(1, round(width * SCALE)))

    def polygon(self, points, fill) -> None:
        self.draw.polygon(self._xy(points), fill=fill)

    def text(
        self, xy, text: str, px: float, fill="black", anchor: str = "mm", bold: bool = False, vertical: bool = False
    ) -> None:
        font = _font(px)
        stroke = max(1, round(px * SCALE / 22)) if bold else 0
        if not vertical:
            self.draw.text(
                (xy[0] * SCALE, xy[1] * SCALE),
                text,
                font=font,
                fill=fill,
                anchor=anchor,
                stroke_width=stroke,
                stroke_fill=fill,
            )
            return
        from PIL import Image, ImageDraw  # a label read bottom to top: drawn level, turned, pasted

        left, top, right, bottom = font.getbbox(text)
        label = Image.new("L", (right - left + 4, bottom - top + 4), 0)
        ImageDraw.Draw(label).text((2 - left, 2 - top), text, font=font, fill=255)
        label = label.rotate(90, expand=True)
        self.image.paste(fill, (round(xy[0] * SCALE - label.width / 2), round(xy[1] * SCALE - label.height / 2)), label)

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image.reduce(SCALE).save(out, format="PNG")  # each output pixel the mean of its SCALE x SCALE
        return out.getvalue()


def _ticks(low: float, high: float, most: int = 7, whole: bool = False) -> tuple[list[float], int]:
    """Round tick values within [low, high] (at most ``most``), and the decimals their labels need."""
    span = (high - low) or 1.0
    magnitude = 10 ** math.floor(math.log10(span / most))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if (not whole or step >= 1) and span / step <= most:
            break
    step = max(step, 1.0) if whole else step
    first = math.ceil(low / step - 1e-9) * step
    values = [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]
    # 0.25, 0.025, ...: one decimal more than the step's magnitude
    decimals = 0 if step >= 1 else -math.floor(math.log10(step) + 1e-9) + (multiple == 2.5)
    return values, decimals


def _draw_pitch(canvas: _Canvas, box, length: float, width: float):
    """The pitch's markings fitted in ``box`` (equal scale along both axes, 3 m around the lines); returns the
    function turning pitch metres into picture pixels."""
    x0, y0, x1, y1 = box
    scale = min((x1 - x0) / (length + 6), (y1 - y0) / (width + 6))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def to_px(x, y):
        return cx + x * scale, cy - y * scale

    half_l, half_w = length / 2, width / 2
    (ax0, ay0), (ax1, ay1) = to_px(-half_l - 3, half_w + 3), to_px(half_l + 3, -half_w - 3)
    canvas.rect((ax0, ay0, ax1, ay1), fill=PITCH_GREEN, outline="black", width=0.8)
    line = {"fill": "white", "width": 1.3}

    def box_of(x_left, y_low, w, h):
        (a, b), (c, d) = to_px(x_left, y_low + h), to_px(x_left + w, y_low)
        return a, b, c, d

    canvas.rect(box_of(-half_l, -half_w, length, width), outline="white", width=1.3)
    canvas.line([to_px(0, -half_w), to_px(0, half_w)], **line)
    canvas.circle(to_px(0, 0), 9.15 * scale, outline="white", width=1.3)
    for side in (-1, 1):
        goal_x = side * half_l
        canvas.rect(box_of(goal_x - (16.5 if side > 0 else 0), -20.16, 16.5, 40.32), outline="white", width=1.3)
        canvas.rect(box_of(goal_x - (5.5 if side > 0 else 0), -9.16, 5.5, 18.32), outline="white", width=1.3)
        # the arc of the penalty area: the part of the 9.15 m circle round the spot outside the area
        start, end = (-53, 53) if side < 0 else (127, 233)
        canvas.arc(to_px(goal_x - side * 11, 0), 9.15 * scale, start, end, **line)
    return to_px


def _draw_players(canvas: _Canvas, here: pl.DataFrame, to_px) -> None:
    x, y = spread_apart(here["x_m"].to_numpy(), here["y_m"].to_numpy(), here["team"].to_numpy())
    minutes = here["minutes"].to_numpy()
    # area by minutes played, as a scatter's: 170-300 pt^2
    area = 170 + 130 * np.sqrt(minutes / max(float(minutes.max(initial=0.0)), 1e-9))
    for i, row in enumerate(here.iter_rows(named=True)):  # ~25 players, not per frame
        centre = to_px(x[i], y[i])
        radius = math.sqrt(area[i] / math.pi) * PT_PX
        colour = TEAM_COLOURS.get(row["team"], "grey")
        partial = row["came_on"] or row["went_off"]
        canvas.circle(centre, radius, fill=colour, outline=None if partial else "white", width=1.0)
        if partial:  # a dashed yellow ring
            for dash in range(0, 360, 45):
                canvas.arc(centre, radius, dash, dash + 26, fill="yellow", width=2.0)
        canvas.text(centre, row["player_id"].split("-")[1], 8.5 * PT_PX, fill="white", bold=True)
        if partial:  # an arrow beside the dot: up, came on; down, went off
            ax, ay = centre[0] + radius + 6, centre[1]
            direction = -1 if row["came_on"] else 1
            canvas.line([(ax, ay - 5 * direction), (ax, ay + 5 * direction)], fill="yellow", width=2.0)
            tip = ay + 6 * direction
            canvas.polygon([(ax, tip), (ax - 3.5, tip - 5 * direction), (ax + 3.5, tip - 5 * direction)], fill="yellow")


def _draw_speeds(canvas: _Canvas, box, profile: pl.DataFrame, period: int) -> None:
    x0, y0, x1, y1 = box
    here = profile.filter(pl.col("period") == period)
    lo_x, hi_x = (float(here["minute"].min()), float(here["minute"].max())) if here.height else (0.0, 1.0)
    lo_y, hi_y = (float(here["speed_mps"].min()), float(here["speed_mps"].max())) if here.height else (0.0, 1.0)
    pad_x, pad_y = 0.05 * ((hi_x - lo_x) or 1.0), 0.05 * ((hi_y - lo_y) or 1.0)  # matplotlib's margins
    lo_x, hi_x, lo_y, hi_y = lo_x - pad_x, hi_x + pad_x, lo_y - pad_y, hi_y + pad_y

    def to_px(minute, speed):
        return x0 + (minute - lo_x) / (hi_x - lo_x) * (x1 - x0), y1 - (speed - lo_y) / (hi_y - lo_y) * (y1 - y0)

    label_px = 10 * PT_PX
    x_ticks, x_decimals = _ticks(lo_x, hi_x, whole=True)
    y_ticks, y_decimals = _ticks(lo_y, hi_y)
    for value in x_ticks:
        px = to_px(value, lo_y)[0]
        canvas.line([(px, y0), (px, y1)], fill="#e8e8e8", width=0.8)
        canvas.line([(px, y1), (px, y1 + 4)], fill="black", width=0.8)
        canvas.text((px, y1 + 6), f"{value:.{x_decimals}f}", label_px, anchor="mt")
    for value in y_ticks:
        py = to_px(lo_x, value)[1]
        canvas.line([(x0, py), (x1, py)], fill="#e8e8e8", width=0.8)
        canvas.line([(x0 - 4, py), (x0, py)], fill="black", width=0.8)
        canvas.text((x0 - 6, py), f"{value:.{y_decimals}f}", label_px, anchor="rm")
    canvas.rect((x0, y0, x1, y1), outline="black", width=0.8)
    canvas.text(((x0 + x1) / 2, y1 + 26), "match minute", label_px)
    canvas.text((x0 - 46, (y0 + y1) / 2), "mean speed (m/s)", label_px, vertical=True)
    drawn = []
    for team, label in ((0, "home"), (1, "away")):
        part = here.filter(pl.col("team") == team)
        if not part.height:
            continue
        points = [to_px(m, v) for m, v in zip(part["minute"].to_list(), part["speed_mps"].to_list())]
        if len(points) > 1:
            canvas.line(points, fill=TEAM_COLOURS[team], width=1.5)
        for point in points:
            canvas.circle(point, 2.2, fill=TEAM_COLOURS[team])
        drawn.append((label, TEAM_COLOURS[team]))
    if drawn:  # the legend, top right
        right, top = x1 - 8, y0 + 8
        canvas.rect((right - 74, top, right, top + 8 + 16 * len(drawn)), fill="white", outline="#cccccc", width=0.8)
        for i, (label, colour) in enumerate(drawn):
            yy = top + 12 + 16 * i
            canvas.line([(right - 68, yy), (right - 46, yy)], fill=colour, width=1.5)
            canvas.circle((right - 57, yy), 2.2, fill=colour)
            canvas.text((right - 40, yy), label, 9 * PT_PX, anchor="lm")


def render_picture(
    positions: pl.DataFrame, profile: pl.DataFrame, title: str, pitch: tuple[float, float] = (105.0, 68.0)
) -> bytes:
    """Draw the picture (PNG bytes, 640 pixels wide per period, 720 high) from the two small aggregates
    (``picture_aggregates``). Pure Pillow on a private image: it can run on a worker thread."""
    periods = positions["period"].unique().sort().to_list() or [1]
    canvas = _Canvas(PERIOD_WIDTH_PX * len(periods), HEIGHT_PX)
    canvas.text((canvas.size[0] / 2, TOP_PX / 2 - 2), title, 13 * PT_PX)
    column = (canvas.size[0] - LEFT_PX - RIGHT_PX - COLUMN_GAP_PX * (len(periods) - 1)) / len(periods)
    rows = HEIGHT_PX - TOP_PX - BOTTOM_PX - ROW_GAP_PX
    pitch_h = rows * 1.6 / 2.6
    for index, period in enumerate(periods):
        x0 = LEFT_PX + index * (column + COLUMN_GAP_PX)
        name = PERIOD_NAMES.get(period, f"period {period}")
        pitch_box = (x0, TOP_PX, x0 + column, TOP_PX + pitch_h)
        to_px = _draw_pitch(canvas, pitch_box, *pitch)
        top_of_pitch = to_px(0, pitch[1] / 2 + 3)[1]
        canvas.text(
            (x0 + column / 2, top_of_pitch - 10),
            f"{name}: average positions (home attacks to the right; arrows: came on, went off)",
            10 * PT_PX,
        )
        _draw_players(canvas, positions.filter(pl.col("period") == period), to_px)
        speed_box = (x0, TOP_PX + pitch_h + ROW_GAP_PX, x0 + column, HEIGHT_PX - BOTTOM_PX)
        canvas.text((x0 + column / 2, speed_box[1] - 9), f"{name}: mean speed per minute", 10 * PT_PX)
        _draw_speeds(canvas, speed_box, profile, period)
    return canvas.png()


# The width (CSS px) the picture is shown at in Dagster's metadata window: at most 80% of the browser's width, less
# its margins, so the whole picture shows in a window 1,050 px wide or more (at its own 1,280 px it was cut)
SHOWN_WIDTH_PX = 800


def fitted_svg(png: bytes, width_px: int = SHOWN_WIDTH_PX) -> bytes:
    """The PNG wrapped in an SVG ``width_px`` wide (its height in proportion) whose viewBox is the PNG's size: a
    browser shows all of it at that width, with every pixel of the PNG on a dense screen."""
    import base64

    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # the PNG's IHDR
    shown = min(width_px, width)
    data = base64.b64encode(png).decode()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{shown}" height="{round(height * shown / width)}" '
        f'viewBox="0 0 {width} {height}"><image width="{width}" height="{height}" '
        f'href="data:image/png;base64,{data}"/></svg>'
    ).encode()
