"""A picture of a match for the Dagster UI: average positions on the pitch and the teams' speed profile.

Aggregation is polars (one group_by each); matplotlib only draws ~30 points and two lines, so the picture
costs a fraction of a second even for a full match. Rendered with the Agg backend (no screen needed).
"""

from __future__ import annotations

import io

import polars as pl

TEAM_COLOURS = {0: "#1f77b4", 1: "#d62728"}


def average_positions(frame_state: pl.DataFrame) -> pl.DataFrame:
    """Mean x_m, y_m and minutes on the pitch per player (canonical frame: home attacks +x)."""
    return (
        frame_state.group_by("player_id", "team")
        .agg(x_m=pl.col("x_m").mean(), y_m=pl.col("y_m").mean(), frames=pl.len(), fps=pl.col("fps").first())
        .with_columns(minutes=pl.col("frames") / pl.col("fps") / 60)
        .sort("team", "player_id")
    )


def speed_profile(frame_state: pl.DataFrame) -> pl.DataFrame:
    """Mean valid speed (m/s) per team per period per minute of the match clock."""
    return (
        frame_state.filter(pl.col("valid") if "valid" in frame_state.columns else pl.col("speed_mps").is_not_null())
        .with_columns(minute=(pl.col("timestamp_ms") // 60_000).cast(pl.Int64))
        .group_by("team", "period", "minute")
        .agg(speed_mps=pl.col("speed_mps").mean())
        .sort("team", "period", "minute")
    )


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


def match_picture(frame_state: pl.DataFrame, title: str, pitch: tuple[float, float] = (105.0, 68.0)) -> bytes:
    """PNG bytes: average positions (dot size by minutes played) and the mean speed per minute per team."""
    return render_picture(average_positions(frame_state), speed_profile(frame_state), title, pitch)


def render_picture(positions: pl.DataFrame, profile: pl.DataFrame, title: str,
                   pitch: tuple[float, float] = (105.0, 68.0)) -> bytes:
    """Draw the picture from the two small aggregates. Uses matplotlib's object API (no pyplot state),
    so it can run on a worker thread while the asset writes its table."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.2))
    FigureCanvasAgg(fig)
    pitch_ax, speed_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.35, 1]})
    _draw_pitch(pitch_ax, *pitch)
    pitch_ax.scatter(positions["x_m"].to_numpy(), positions["y_m"].to_numpy(),
                     s=(40 + 120 * positions["minutes"].sqrt()).to_numpy(),
                     c=[TEAM_COLOURS.get(t, "grey") for t in positions["team"].to_list()],
                     edgecolors="white", linewidths=1.0, zorder=3)
    for row in positions.iter_rows(named=True):  # a label per player (~30), not per frame
        pitch_ax.annotate(row["player_id"].split("-")[1], (row["x_m"], row["y_m"]), color="white", fontsize=7,
                          ha="center", va="center", zorder=4, fontweight="bold")
    pitch_ax.set_title("average positions (home attacks →)", fontsize=10)
    for team, label in ((0, "home"), (1, "away")):
        for number, period in enumerate(profile["period"].unique().sort().to_list()):  # a line per half
            part = profile.filter((pl.col("team") == team) & (pl.col("period") == period))
            speed_ax.plot(part["minute"].to_list(), part["speed_mps"].to_list(), color=TEAM_COLOURS[team],
                          label=label if number == 0 else None, marker=".")
    speed_ax.set_xlabel("match clock (minutes)")
    speed_ax.set_ylabel("mean speed (m/s)")
    speed_ax.set_title("speed profile", fontsize=10)
    speed_ax.grid(alpha=0.3)
    if speed_ax.get_legend_handles_labels()[0]:  # a one-frame clip has no speed to plot
        speed_ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=72)
    return out.getvalue()
