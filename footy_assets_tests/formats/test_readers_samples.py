"""Readers on the real vendor samples reproduce what is known of each sample: its frames, frame
rate, players, roles and direction of play."""

import polars as pl
import pytest

from footy_assets.lake.delivery import read_match
from footy_assets.lake.landing import find_match
from footy_assets_tests.helpers import land_sample


def _read(lake, fmt, name):
    land_sample(lake, fmt, name)
    return read_match(lake, find_match(lake, name))


def test_sportvu_statsperform_facts(lake):
    result = _read(lake, "sportvu", "statsperform_ma25")
    t = result.tracking
    assert result.info.vendor_rows == 93
    assert result.info.fps == 10
    frames = dict(t.group_by("period").agg(pl.col("frame_id").n_unique()).iter_rows())
    assert frames == {1: 26, 2: 67}
    # The home goal keeper stands on the right in period 1: that period is rotated.
    assert result.info.flipped_periods == [1]
    frame_ids = t["frame_id"].unique().sort()
    second = t.filter((pl.col("frame_id") == frame_ids[1]) & (pl.col("role") == "ball")).row(0, named=True)
    assert second["x_m"] == pytest.approx(1.885, abs=1e-4)
    assert second["y_m"] == pytest.approx(1.325, abs=1e-4)
    assert second["z_m"] == pytest.approx(0.0)
    first = t.filter(pl.col("frame_id") == frame_ids[0])
    home32 = first.filter(pl.col("player_id") == "0-32").row(0, named=True)
    assert (home32["x_m"], home32["y_m"]) == (pytest.approx(-16.189, abs=1e-4), pytest.approx(5.75, abs=1e-4))
    away2 = first.filter(pl.col("player_id") == "1-2").row(0, named=True)
    # (30.595, 44.022) top-left origin -> centred (-21.905, -10.022) -> rotated (21.905, 10.022)
    assert (away2["x_m"], away2["y_m"]) == (pytest.approx(21.905, abs=1e-4), pytest.approx(10.022, abs=1e-4))
    assert away2["track_id"] == "72d5uxwcmvhd6mzthxuvev1sl"  # string object ids are kept
    # The last message has no players, only the ball; the second half's clock restarts at 0.
    last = t.filter(pl.col("frame_id") == frame_ids[-1])
    assert last["role"].to_list() == ["ball"]
    assert t.filter(pl.col("period") == 2)["timestamp_ms"].min() == 3_600_000


def test_sportvu_roles_and_direction(lake):
    t = _read(lake, "sportvu", "statsperform_ma25").tracking
    assert set(t["role"].unique()) == {"player", "goal_keeper", "ball", "referee"}
    assert t.filter(pl.col("role") == "referee")["team"].null_count() == t.filter(pl.col("role") == "referee").height
    gk = (
        t.filter((pl.col("role") == "goal_keeper") & (pl.col("team") == 0)).group_by("period").agg(pl.col("x_m").mean())
    )
    assert (gk["x_m"] < 0).all()


def test_cdf_skillcorner_facts(lake):
    result = _read(lake, "cdf", "skillcorner_1925299")
    t = result.tracking
    assert result.info.fps == 10
    assert t["frame_id"].n_unique() == 101
    first = t.filter(pl.col("frame_id") == t["frame_id"].min())
    assert first.filter(pl.col("role").is_in(["player", "goal_keeper"])).height == 22
    assert first.filter(pl.col("role") == "goal_keeper").height == 2
    # Jerseys come from the team sheet: home player 51050 wears 4.
    row = first.filter(pl.col("track_id") == "51050").row(0, named=True)
    assert (row["team"], row["jersey"], row["player_id"]) == (0, 4, "0-4")
    assert (row["x_m"], row["y_m"]) == (pytest.approx(-14.92, abs=1e-4), pytest.approx(0.45, abs=1e-4))
    periods = dict(t.group_by("period").agg(pl.col("frame_id").min()).iter_rows())
    assert periods == {1: 0, 2: 30230}
    gk = (
        t.filter((pl.col("role") == "goal_keeper") & (pl.col("team") == 0)).group_by("period").agg(pl.col("x_m").mean())
    )
    assert (gk["x_m"] < 0).all()


def test_cdf_v02_and_v03_key_names_read_alike(lake):
    a = _read(lake, "cdf", "validator_v0_2_3").tracking
    b = _read(lake, "cdf", "validator_v0_3_2").tracking
    cols = ["role", "team", "track_id", "x_m", "y_m", "z_m"]
    assert a.select(cols).sort("track_id").equals(b.select(cols).sort("track_id"))
    assert a.height == 5 and a.filter(pl.col("role") == "ball")["z_m"][0] == pytest.approx(0.5)


def _land_events_sample(lake, name):
    import shutil
    from pathlib import Path

    from footy_assets_tests.helpers import SAMPLES

    target = Path(lake.uri) / "landing" / "cdf" / name
    shutil.copytree(SAMPLES / "cdf_events" / name, target)
    return read_match(lake, find_match(lake, name))


def test_a_cdf_folder_with_events_and_a_match_sheet_reads_its_tracking_by_name(lake):
    """tracking.jsonl + meta.json are told apart from events.jsonl + match.json by their names."""
    result = _land_events_sample(lake, "footovision_h1")
    t = result.tracking
    assert result.info.fps == 25 and result.info.files == ["tracking.jsonl", "meta.json"]
    assert t["frame_id"].n_unique() == 2501 and (t["frame_id"].min(), t["frame_id"].max()) == (0, 2500)
    players = t.filter(pl.col("role").is_in(["player", "goal_keeper"])).group_by("frame_id", "team").len()
    assert set(players["len"].to_list()) == {11}
    ball = t.filter((pl.col("role") == "ball") & (pl.col("frame_id") == 0)).row(0, named=True)
    assert (ball["x_m"] ** 2 + ball["y_m"] ** 2) ** 0.5 == pytest.approx(0.17, abs=0.01)
    keepers = t.filter(pl.col("track_id").is_in(["10668", "8681"])).group_by("track_id").agg(pl.col("x_m").mean())
    assert dict(keepers.iter_rows()) == {"10668": pytest.approx(-45.4, abs=0.1), "8681": pytest.approx(30.8, abs=0.1)}


@pytest.mark.parametrize("extra", ["other.jsonl", "tracking_2.jsonl"])
def test_a_second_unnamed_tracking_file_beside_tracking_jsonl_is_refused(lake, extra):
    import shutil
    from pathlib import Path

    from footy_assets.formats import FeedError
    from footy_assets_tests.helpers import SAMPLES

    target = Path(lake.uri) / "landing" / "cdf" / "fv"
    shutil.copytree(SAMPLES / "cdf_events" / "footovision_h1", target)
    (target / extra).write_bytes((target / "tracking.jsonl").read_bytes()[:1000])
    with pytest.raises(FeedError, match=rf"expected tracking.jsonl.*found: .*{extra}"):
        read_match(lake, find_match(lake, "fv"))
