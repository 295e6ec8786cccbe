"""The match picture's aggregates: substitutes told apart and not drawn on top of the player they replaced."""

import numpy as np
import polars as pl

from footy_assets.core.pictures import average_positions, fitted_svg, match_picture, speed_profile, spread_apart


def _frame_state() -> pl.DataFrame:
    """Two 100-second halves at 10 fps; home #9 is replaced by #14 half-way through the second half, both
    standing on the same spot."""
    rows = []
    for period, start in ((1, 0), (2, 2_000_000)):
        for player, team, x, frames in (
            ("0-9", 0, -5.0, range(1000 if period == 1 else 500)),
            ("0-14", 0, -5.0, range(500, 1000) if period == 2 else range(0)),
            ("1-4", 1, 10.0, range(1000)),
        ):
            for f in frames:
                rows.append((period, player, team, x, 0.0, f / 10, start + f * 100, 2.0))
    frame = pl.DataFrame(
        rows,
        orient="row",
        schema={
            "period": pl.Int8,
            "player_id": pl.String,
            "team": pl.Int8,
            "x_m": pl.Float32,
            "y_m": pl.Float32,
            "period_time_s": pl.Float32,
            "timestamp_ms": pl.Int64,
            "speed_mps": pl.Float32,
        },
    )
    return frame.with_columns(fps=pl.lit(10, pl.Int16), valid=pl.lit(True))


def test_substitutes_are_marked_and_minutes_counted_per_half():
    positions = average_positions(_frame_state())
    second = {r["player_id"]: r for r in positions.filter(pl.col("period") == 2).iter_rows(named=True)}
    assert second["0-14"]["came_on"] and not second["0-14"]["went_off"]
    assert second["0-9"]["went_off"] and not second["0-9"]["came_on"]
    assert not second["1-4"]["came_on"] and not second["1-4"]["went_off"]
    assert abs(second["0-14"]["minutes"] - 50 / 60) < 1e-9


def test_coinciding_players_of_a_team_are_pushed_apart_opponents_are_not():
    x, y = spread_apart(np.array([-5.0, -5.0, -5.0, 20.0]), np.array([0.0, 0.0, 0.0, 0.0]), np.array([0, 0, 1, 1]))
    assert np.hypot(x[0] - x[1], y[0] - y[1]) >= 5.99
    assert (x[2], y[2]) == (-5.0, 0.0) and (x[3], y[3]) == (20.0, 0.0)  # alone in its team nearby: unmoved


def test_speed_profile_counts_match_minutes_per_half():
    profile = speed_profile(_frame_state())
    assert sorted(profile.filter(pl.col("period") == 2)["minute"].unique().to_list()) == [45, 46]
    assert sorted(profile.filter(pl.col("period") == 1)["minute"].unique().to_list()) == [0, 1]


def test_picture_has_a_column_per_half():
    png = match_picture(_frame_state(), "test")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert (width, height) == (1280, 720)


def test_the_picture_is_shown_at_a_width_a_metadata_window_holds():
    import base64
    from xml.etree import ElementTree

    png = match_picture(_frame_state(), "test")
    svg = ElementTree.fromstring(fitted_svg(png))
    assert (svg.get("width"), svg.get("height"), svg.get("viewBox")) == ("800", "450", "0 0 1280 720")
    (image,) = list(svg)
    assert base64.b64decode(image.get("href").removeprefix("data:image/png;base64,")) == png
