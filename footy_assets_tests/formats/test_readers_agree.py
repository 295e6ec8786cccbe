"""One synthetic truth written in every format reads back to the same canonical rows."""

import polars as pl
import pytest

from footy_assets.core.contracts.tracking import Tracking
from footy_assets_tests.helpers import land_synthetic, new_lake, read_landed

VARIANTS = {
    "fs_parquet": ("footy_stats", {}),
    "fs_json": ("footy_stats", {"file_format": "json"}),
    "svu": ("sportvu", {}),
    "svu_nocolon": ("sportvu", {"ball_colon": False}),
    "cdf_v02": ("cdf", {"version": "0.2"}),
    "cdf_v03": ("cdf", {"version": "0.3"}),
    "ft_homography": ("footy_track", {}),
}
# footy_track: boxes are float32 fractions of the image, through the camera's homography (< 0.1 mm)
ROUNDING_M = {"footy_stats": 0.005, "sportvu": 0.0005, "cdf": 0.005, "footy_track": 0.0001}


@pytest.fixture(scope="module")
def read_all(tmp_path_factory, truth):
    """Every variant landed and read once for the module: {match_id: ReadResult}."""
    lake = new_lake(tmp_path_factory.mktemp("agree") / "lake")
    out = {}
    for match_id, (fmt, kw) in VARIANTS.items():
        land_synthetic(lake, fmt, match_id, truth, **kw)
        out[match_id] = read_landed(lake, match_id)
    return out


def _identified(t: pl.DataFrame) -> pl.DataFrame:
    return t.filter(pl.col("player_id").is_not_null()).select(
        "frame_id", "player_id", "timestamp_ms", "period", "role", "x_m", "y_m"
    )


@pytest.mark.parametrize("match_id", list(VARIANTS))
def test_each_format_matches_the_truth(read_all, truth, match_id):
    fmt = VARIANTS[match_id][0]
    t = Tracking.validate(read_all[match_id].tracking)
    expected = truth.filter(pl.col("identified") & pl.col("role").is_in(["player", "goal_keeper"])).select(
        frame_id="frame",
        player_id=pl.format("{}-{}", "team", "jersey"),
        timestamp_ms="timestamp_ms",
        period="period",
        role="role",
        tx="x",
        ty="y",
    )
    got = _identified(t)
    assert got.height == expected.height
    joined = expected.join(got, on=["frame_id", "player_id"], how="inner")
    assert joined.height == expected.height
    assert (joined["timestamp_ms"] == joined["timestamp_ms_right"]).all()
    assert (joined["period"] == joined["period_right"]).all()
    assert (joined["role"] == joined["role_right"]).all()
    tolerance = ROUNDING_M[fmt] + 1e-5
    assert (joined["x_m"] - joined["tx"]).abs().max() <= tolerance
    assert (joined["y_m"] - joined["ty"]).abs().max() <= tolerance


def test_formats_agree_with_each_other(read_all):
    base = _identified(read_all["fs_parquet"].tracking)
    for match_id, result in read_all.items():
        other = _identified(result.tracking)
        joined = base.join(other, on=["frame_id", "player_id"], how="full", coalesce=True)
        assert joined.height == base.height == other.height, match_id
        assert (joined["x_m"] - joined["x_m_right"]).abs().max() <= 0.0051, match_id


def test_role_counts_and_quirks(read_all, truth):
    counts = {m: dict(r.tracking.group_by("role").len().iter_rows()) for m, r in read_all.items()}
    expected = dict(truth.group_by("role").len().iter_rows())
    for match_id, c in counts.items():
        assert c == expected, match_id
    # the unidentified player: a player row without player_id in every format
    for match_id, result in read_all.items():
        unknown = result.tracking.filter((pl.col("role") == "player") & pl.col("player_id").is_null())
        assert unknown.height == 3 * 25, match_id
    # the substitution: #14 appears only in period 2, #9 is gone after it
    t = read_all["svu"].tracking
    assert t.filter(pl.col("player_id") == "0-14")["period"].unique().to_list() == [2]
    # the ball is missing for 5 frames per period: no row, never a null position
    assert read_all["cdf_v02"].tracking.filter(pl.col("role") == "ball").height == truth["frame"].n_unique() - 10


@pytest.mark.parametrize("match_id", list(VARIANTS))
def test_home_goal_keeper_left_in_every_period(read_all, match_id):
    t = read_all[match_id].tracking
    gk = t.filter((pl.col("role") == "goal_keeper") & (pl.col("team") == 0)).group_by("period").agg(pl.col("x_m").max())
    assert gk.height == 2 and (gk["x_m"] < 0).all()


def test_fps_and_periods_are_found(read_all):
    for match_id, result in read_all.items():
        assert result.info.fps == 25, match_id
        assert sorted(result.tracking["period"].unique().to_list()) == [1, 2], match_id
    assert read_all["svu"].info.frames_outside_play == 4
    assert read_all["fs_parquet"].info.flipped_periods == [2]
    assert read_all["svu"].info.flipped_periods == [1]


@pytest.mark.parametrize("match_id", list(VARIANTS))
def test_rows_come_in_frame_order(read_all, match_id):
    frame_ids = read_all[match_id].tracking["frame_id"]
    assert (frame_ids.diff().drop_nulls() >= 0).all()
