"""A picture of a match for the Dagster UI: per period, average positions on the pitch and the teams' speed.

One column per period: on top the players' average positions (dot size by minutes played in the period; a
player who came on or went off during the period is drawn with a dashed yellow ring and an arrow, and players of a
team whose averages nearly coincide — a substitute and the player he replaced — are pushed apart so both can
be read); below, each team's mean valid speed per minute, on the match-minute axis of that period (0-45+,
45-90+). Aggregation is polars (a few group_bys); matplotlib draws ~50 points and a few lines, so the picture
costs a fraction of a second for a full match. Rendered with the Agg backend (no screen needed).
"""

from __future__ import annotations

import io

import numpy as np
import polars as pl

from footy_assets.metrics.clock import match_minute

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
    per_player = (
        frame_state.group_by("period", "player_id", "team")
        .agg(x_m=pl.col("x_m").mean(), y_m=pl.col("y_m").mean(), minutes=pl.len() / fps / 60,
             on_s=pl.col("period_time_s").min(), off_s=pl.col("period_time_s").max())
    )
    first, last = pl.col("on_s").min().over("period"), pl.col("off_s").max().over("period")
    slack = (1 - PART_OF_PERIOD) * (last - first)
    return per_player.with_columns(
        came_on=(pl.col("on_s") - first) > slack, went_off=(last - pl.col("off_s")) > slack,
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


def spread_apart(x: np.ndarray, y: np.ndarray, group: np.ndarray, min_distance: float = MIN_SEPARATION_M,
                 rounds: int = 30) -> tuple[np.ndarray, np.ndarray]:
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


def _draw_pitch(ax, length: float, width: float) -> None:
    from matplotlib.patches import Arc, Circle, Rectangle

    half_l, half_w = length / 2, width / 2
    line = {"color": "white", "linewidth": 1.2, "fill": False}
    ax.add_patch(Rectangle((-half_l, -half_w), length, width, **line))
    ax.plot([0, 0], [-half_w, half_w], color="white", linewidth=1.2)
    ax.add_patch(Circle((0, 0), 9.15, **line))
    for side in (-1, 1):
        goal_x = side * half_l
        ax.add_patch(Rectangle((goal_x - (16.5 if side > 0 else 0), -20.16), 16.5, 40.32, **line))
        ax.add_patch(Rectangle((goal_x - (5.5 if side > 0 else 0), -9.16), 5.5, 18.32, **line))
        ax.add_patch(Arc((goal_x - side * 11, 0), 18.3, 18.3, theta1=127 if side > 0 else -53,
                         theta2=233 if side > 0 else 53, color="white", linewidth=1.2))
    ax.set_facecolor("#3a7d44")
    ax.set_xlim(-half_l - 3, half_l + 3)
    ax.set_ylim(-half_w - 3, half_w + 3)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


PERIOD_NAMES = {1: "first half", 2: "second half", 3: "extra time, first half", 4: "extra time, second half",
                5: "shoot-out"}


def match_picture(frame_state: pl.DataFrame, title: str, pitch: tuple[float, float] = (105.0, 68.0)) -> bytes:
    """PNG bytes of the picture (see the module's docstring)."""
    return render_picture(*picture_aggregates(frame_state), title, pitch)


def render_picture(positions: pl.DataFrame, profile: pl.DataFrame, title: str,
                   pitch: tuple[float, float] = (105.0, 68.0)) -> bytes:
    """Draw the picture from the two small aggregates. Uses matplotlib's object API (no pyplot state),
    so it can run on a worker thread while the asset writes its table."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    periods = positions["period"].unique().sort().to_list() or [1]
    fig = Figure(figsize=(8 * len(periods), 9))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, len(periods), squeeze=False, gridspec_kw={"height_ratios": [1.6, 1]})
    for column, period in enumerate(periods):
        pitch_ax, speed_ax = axes[0][column], axes[1][column]
        _draw_pitch(pitch_ax, *pitch)
        here = positions.filter(pl.col("period") == period)
        x, y = spread_apart(here["x_m"].to_numpy(), here["y_m"].to_numpy(), here["team"].to_numpy())
        partial = (here["came_on"] | here["went_off"]).to_numpy()
        colours = [TEAM_COLOURS.get(t, "grey") for t in here["team"].to_list()]
        sizes = 170 + 130 * np.sqrt(here["minutes"].to_numpy() / max(float(here["minutes"].max() or 1.0), 1e-9))
        for dashed in (False, True):
            keep = partial == dashed
            pitch_ax.scatter(x[keep], y[keep], s=sizes[keep], c=[c for c, k in zip(colours, keep) if k],
                             edgecolors="yellow" if dashed else "white", linewidths=1.8 if dashed else 1.0,
                             linestyles="--" if dashed else "-", zorder=3)
        for i, row in enumerate(here.iter_rows(named=True)):  # a label per player (~25), not per frame
            pitch_ax.annotate(row["player_id"].split("-")[1], (x[i], y[i]), color="white", fontsize=8.5,
                              ha="center", va="center", zorder=4, fontweight="bold")
            mark = "↑" if row["came_on"] else ("↓" if row["went_off"] else "")
            if mark:  # beside the dot, in the ring's colour
                pitch_ax.annotate(mark, (x[i] + 2.6, y[i]), color="yellow", fontsize=12, ha="left", va="center",
                                  zorder=4, fontweight="bold")
        pitch_ax.set_title(f"{PERIOD_NAMES.get(period, f'period {period}')}: average positions (home attacks →; "
                           "↑ came on, ↓ went off)", fontsize=10)
        for team, label in ((0, "home"), (1, "away")):
            part = profile.filter((pl.col("team") == team) & (pl.col("period") == period))
            speed_ax.plot(part["minute"].to_list(), part["speed_mps"].to_list(), color=TEAM_COLOURS[team],
                          label=label, marker=".")
        speed_ax.set_xlabel("match minute")
        speed_ax.xaxis.get_major_locator().set_params(integer=True)
        speed_ax.set_ylabel("mean speed (m/s)")
        speed_ax.set_title(f"{PERIOD_NAMES.get(period, f'period {period}')}: mean speed per minute", fontsize=10)
        speed_ax.grid(alpha=0.3)
        if speed_ax.get_legend_handles_labels()[0] and profile.filter(pl.col("period") == period).height:
            speed_ax.legend(fontsize=9)
    fig.suptitle(title, fontsize=13)
    # fixed margins in inches rather than tight_layout, which measured every text of the figure first (0.08 s
    # of a full match's 0.2 s picture): room for the speed axis's labels on the left and the title on top
    width = fig.get_figwidth()
    fig.subplots_adjust(left=0.8 / width, right=1 - 0.15 / width, bottom=0.6 / 9, top=1 - 0.6 / 9, hspace=0.2,
                        wspace=0.14)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=80)
    return out.getvalue()
